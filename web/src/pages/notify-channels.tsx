// The channels a person sets up beyond this app: e-mail, their own webhooks (with the
// signing secret to check them by, and the deliveries that never got through, to send
// again), and home automation over MQTT (credentials shown once, the topics, and the prefix
// to give Home Assistant for discovery). Each one's consent switch is its own: setting a
// channel up sends nothing until it is on.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, type ApiError } from '../api';
import { ErrorNote } from '../components/form';
import { useI18n, type MessageKey } from '../i18n';
import { kindLabel } from './events';

export interface ConsentRecord {
  granted: boolean;
  at: string;
  policy_version: string;
}

// One consent, as a switch with what it does and when it was last given or withdrawn.
export function ConsentSwitch(props: {
  purpose: string;
  record: ConsentRecord | undefined;
  label: string;
  hint: string;
  testid: string;
  // Records the choice; the switch shows it until this settles (and the record is reloaded).
  onChange: (granted: boolean) => Promise<unknown>;
  children?: ComponentChildren;
}) {
  const { t, formatDate } = useI18n();
  const { record } = props;
  const [choosing, setChoosing] = useState<boolean | null>(null);
  const change = async (granted: boolean) => {
    setChoosing(granted);
    try {
      await props.onChange(granted);
    } finally {
      setChoosing(null);
    }
  };
  return (
    <label class="switch privacy">
      <input
        type="checkbox"
        checked={choosing ?? Boolean(record?.granted)}
        onChange={(e) => void change((e.target as HTMLInputElement).checked)}
        data-testid={props.testid}
      />
      <span>
        <strong>{props.label}</strong>
        <small class="muted">{props.hint}</small>
        {record && (
          <small class="muted" data-testid={`${props.testid}-record`}>
            {t(record.granted ? 'notify.consent.given' : 'notify.consent.withdrawn', {
              time: formatDate(record.at, 'datetime'),
              version: record.policy_version,
            })}
          </small>
        )}
        {props.children}
      </span>
    </label>
  );
}

interface Webhook {
  id: string;
  url: string;
  secret: string;
  created_at: string;
  last_status: number | null;
  last_at: string | null;
}
interface WebhookFailure {
  id: string;
  url: string;
  attempts: number;
  last_status: number;
  failed_at: string;
  notification: { device_name: string; kind: string; at: string } | null;
}

export function WebhooksSection() {
  const { t, formatDate } = useI18n();
  const [hooks, setHooks] = useState<Webhook[]>([]);
  const [failures, setFailures] = useState<WebhookFailure[]>([]);
  const [url, setUrl] = useState('');
  const [shown, setShown] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const load = async () => {
    const r = await api<{ webhooks: Webhook[]; failures: WebhookFailure[] }>('GET', '/me/webhooks');
    if (!r.ok) return setError(r.error);
    setHooks(r.data.webhooks);
    setFailures(r.data.failures);
  };
  useEffect(() => void load(), []);
  const act = async (method: string, path: string, body?: unknown) => {
    const r = await api<Webhook>(method, path, body);
    if (!r.ok) return setError(r.error), false;
    setError(null);
    await load();
    return true;
  };
  return (
    <div class="channel-setup" data-testid="webhooks">
      <ErrorNote error={error} />
      {hooks.length > 0 && (
        <ul class="webhooks">
          {hooks.map((w) => (
            <li key={w.id} data-testid="webhook">
              <code class="url">{w.url}</code>
              <small class="muted">
                {w.last_at
                  ? t('notify.webhook.last', { status: w.last_status ?? 0, time: formatDate(w.last_at, 'datetime') })
                  : t('notify.webhook.never')}
              </small>
              {shown === w.id ? (
                <code class="secret" data-testid="webhook-secret">
                  {w.secret}
                </code>
              ) : (
                <button type="button" onClick={() => setShown(w.id)}>
                  {t('notify.webhook.show_secret')}
                </button>
              )}
              <button type="button" class="danger" onClick={() => void act('DELETE', `/me/webhooks/${w.id}`)} data-testid="webhook-delete">
                {t('notify.webhook.delete')}
              </button>
            </li>
          ))}
        </ul>
      )}
      <form
        class="inline-form"
        onSubmit={async (e) => {
          e.preventDefault();
          if (await act('POST', '/me/webhooks', { url })) setUrl('');
        }}
      >
        <label class="field">
          <span>{t('notify.webhook.url')}</span>
          <input type="url" value={url} required placeholder="https://" onInput={(e) => setUrl((e.target as HTMLInputElement).value)} data-testid="webhook-url" />
        </label>
        <button type="submit" data-testid="webhook-add">
          {t('notify.webhook.add')}
        </button>
      </form>
      <small class="muted">{t('notify.webhook.signature')}</small>
      {failures.length > 0 && (
        <div class="dead-letters">
          <h3>{t('notify.webhook.failures')}</h3>
          <ul>
            {failures.map((f) => (
              <li key={f.id} data-testid="webhook-failure">
                <span>
                  {f.notification ? `${kindLabel(t, f.notification.kind)} · ${f.notification.device_name} · ` : ''}
                  {t('notify.webhook.failed', { attempts: f.attempts, status: f.last_status || '—', time: formatDate(f.failed_at, 'datetime') })}
                </span>
                <button type="button" onClick={() => void act('POST', `/me/webhook-failures/${f.id}/retry`)} data-testid="webhook-retry">
                  {t('notify.webhook.retry')}
                </button>
              </li>
            ))}
          </ul>
          <button type="button" onClick={() => void act('DELETE', '/me/webhook-failures')}>
            {t('notify.webhook.clear')}
          </button>
        </div>
      )}
    </div>
  );
}

interface HomeMqtt {
  enabled: boolean;
  username: string;
  broker: string;
  topic_root: string;
  events_topic: string;
  discovery_prefix: string;
  password?: string;
}

export function HomeMqttSection() {
  const { t } = useI18n();
  const [home, setHome] = useState<HomeMqtt | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    void api<HomeMqtt>('GET', '/me/mqtt').then((r) => (r.ok ? setHome(r.data) : setError(r.error)));
  }, []);
  if (!home) return <ErrorNote error={error} />;
  const enable = async () => {
    const r = await api<HomeMqtt>('POST', '/me/mqtt');
    if (!r.ok) return setError(r.error);
    setError(null);
    setHome(r.data);
  };
  const disable = async () => {
    const r = await api('DELETE', '/me/mqtt');
    if (!r.ok) return setError(r.error);
    setHome({ ...home, enabled: false, password: undefined });
  };
  const row = (label: MessageKey, value: string, testid: string) => (
    <>
      <dt>{t(label)}</dt>
      <dd>
        <code data-testid={testid}>{value}</code>
      </dd>
    </>
  );
  return (
    <div class="channel-setup" data-testid="home-mqtt">
      <ErrorNote error={error} />
      {home.enabled ? (
        <>
          <dl class="facts">
            {row('notify.mqtt.broker', home.broker, 'mqtt-broker')}
            {row('notify.mqtt.username', home.username, 'mqtt-username')}
            {home.password && row('notify.mqtt.password', home.password, 'mqtt-password')}
            {row('notify.mqtt.events', home.events_topic, 'mqtt-events')}
            {row('notify.mqtt.discovery', home.discovery_prefix, 'mqtt-discovery')}
          </dl>
          {home.password && <p class="note info">{t('notify.mqtt.password_once')}</p>}
          <div class="actions">
            <button type="button" onClick={() => void enable()} data-testid="mqtt-reset">
              {t('notify.mqtt.reset')}
            </button>
            <button type="button" class="danger" onClick={() => void disable()} data-testid="mqtt-off">
              {t('notify.mqtt.off')}
            </button>
          </div>
        </>
      ) : (
        <button type="button" onClick={() => void enable()} data-testid="mqtt-on">
          {t('notify.mqtt.on')}
        </button>
      )}
    </div>
  );
}
