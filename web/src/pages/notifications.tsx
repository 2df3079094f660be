// What the person is told about and how: the arming mode (one tap), notifications in this
// app (a consent of their own, given and withdrawn here, and the browser's permission to show
// them), which kinds, quiet hours, grouping, and per camera Home and Away switches and a
// snooze. Nothing is sent anywhere without the consent for that channel.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type ApiError } from '../api';
import { ErrorNote, Note } from '../components/form';
import { useI18n, useTitle, type MessageKey } from '../i18n';
import { kindLabel } from './events';
import { ConsentSwitch, HomeMqttSection, WebhooksSection, type ConsentRecord } from './notify-channels';
import { useSession } from '../session';
import type { PrivacySchedule } from './devices';

type Mode = 'home' | 'away' | 'disarmed';
const modes: Mode[] = ['home', 'away', 'disarmed'];

export interface NotifySettings {
  mode: Mode;
  kinds: string[];
  quiet_hours: PrivacySchedule | null;
  cooldown_s: number;
  arming_schedule: (PrivacySchedule & { in: Mode; out: Mode }) | null;
  arming_next: { at: string; mode: Mode } | null;
  cameras: {
    device_id: string;
    name: string;
    home: boolean;
    away: boolean;
    snoozed_until: string | null;
    record: Record<Mode, boolean> | null; // the owner's: which modes record its events
  }[];
}

interface Consents {
  consents: Record<string, ConsentRecord>;
  policy_version: string;
}

const notifyKinds = ['motion', 'person', 'sound', 'device_alarm', 'offline', 'privacy_mode', 'sd_card', 'storage_full'];
const allDays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

// Home, Away, Disarmed: one tap, anywhere it is shown.
export function ModeSwitch({ mode, onChange }: { mode: NotifySettings['mode']; onChange: (s: NotifySettings) => void }) {
  const { t } = useI18n();
  const [error, setError] = useState<ApiError | null>(null);
  const choose = async (next: NotifySettings['mode']) => {
    const r = await api<NotifySettings>('PATCH', '/me/notifications', { mode: next });
    if (!r.ok) return setError(r.error);
    setError(null);
    onChange(r.data);
  };
  return (
    <div class="mode-switch" role="group" aria-label={t('notify.mode')}>
      {(['home', 'away', 'disarmed'] as const).map((m) => (
        <button type="button" class={m === mode ? 'chip chosen' : 'chip'} aria-pressed={m === mode} onClick={() => void choose(m)} data-testid={`mode-${m}`} key={m}>
          {t(`notify.mode.${m}` as MessageKey)}
        </button>
      ))}
      <ErrorNote error={error} />
    </div>
  );
}

export function NotificationsPage() {
  const { t, formatDate } = useI18n();
  const { user: profile } = useSession();
  useTitle(t('notify.title'));
  const [settings, setSettings] = useState<NotifySettings | null>(null);
  const [consents, setConsents] = useState<Consents | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState(false);
  // Schedules asked for and not yet answered (see setQuiet).
  const pending = useRef<{ count: number; quiet?: NotifySettings['quiet_hours']; arming?: NotifySettings['arming_schedule'] }>({ count: 0 });
  const [pushProblem, setPushProblem] = useState(false);
  const [permission, setPermission] = useState(typeof Notification === 'undefined' ? 'unsupported' : Notification.permission);

  const load = async () => {
    const [s, c] = await Promise.all([api<NotifySettings>('GET', '/me/notifications'), api<Consents>('GET', '/me/consents')]);
    if (s.ok) setSettings(s.data);
    else setError(s.error);
    if (c.ok) setConsents(c.data);
  };
  useEffect(() => void load(), []);
  if (!settings || !consents) return <section class="card muted">{t('health.loading')}</section>;

  const inApp = consents.consents['notify.in_app'];
  const pushConsent = consents.consents['notify.push'];
  // Push to this browser even when the app is closed: the consent, then this browser's
  // subscription with its push service (which a browser may not have, as in a test).
  const setPush = async (granted: boolean) => {
    await setConsent('notify.push', granted);
    if (!granted) return;
    try {
      const key = await api<{ public_key: string }>('GET', '/push/key');
      if (!key.ok || !('serviceWorker' in navigator)) throw new Error('no push');
      const registration = await navigator.serviceWorker.ready;
      const raw = atob(key.data.public_key.replace(/-/g, '+').replace(/_/g, '/'));
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: Uint8Array.from(raw, (c) => c.charCodeAt(0)),
      });
      const r = await api('POST', '/me/push-subscriptions', subscription.toJSON());
      if (!r.ok) throw new Error(r.error.code);
      setPushProblem(false);
    } catch {
      setPushProblem(true);
    }
  };
  const setConsent = async (purpose: string, granted: boolean) => {
    const r = await api('PUT', `/me/consents/${purpose}`, { granted });
    if (!r.ok) return setError(r.error);
    setError(null);
    // Giving it here also asks the browser, once, to show them outside the page.
    if (granted && typeof Notification !== 'undefined' && Notification.permission === 'default') {
      setPermission(await Notification.requestPermission());
    }
    await load();
  };
  const patch = async (body: Partial<Omit<NotifySettings, 'cameras' | 'arming_next'>>) => {
    ++pending.current.count;
    const r = await api<NotifySettings>('PATCH', '/me/notifications', body);
    // Once every change asked for is answered, the server's word is the whole truth again.
    if (--pending.current.count === 0) pending.current = { count: 0 };
    if (!r.ok) return setError(r.error);
    setError(null);
    setSettings(r.data);
    setSaved(true);
  };
  const camera = async (id: string, body: Record<string, unknown>) => {
    const r = await api<NotifySettings>('PATCH', `/devices/${id}/notifications`, body);
    if (!r.ok) return setError(r.error);
    setError(null);
    setSettings(r.data);
  };
  const quiet = settings.quiet_hours;
  const quietWindow = quiet?.windows[0];
  // Quick changes (one time typed, then the other) build on the last one asked for, not on
  // what the server has answered so far: otherwise the second would undo the first.
  const setQuiet = (enabled: boolean, start?: string, end?: string) => {
    const was = 'quiet' in pending.current ? pending.current.quiet : quiet;
    const w = was?.windows[0];
    const next = enabled || was
      ? { enabled, time_zone: was?.time_zone ?? browserTimeZone(), windows: [{ days: [...allDays], start: start ?? w?.start ?? '22:00', end: end ?? w?.end ?? '07:00' }] }
      : null;
    pending.current.quiet = next;
    void patch({ quiet_hours: next });
  };

  const arming = settings.arming_schedule;
  const armingWindow = arming?.windows[0];
  const setArming = (next: { enabled?: boolean; start?: string; end?: string; in?: Mode; out?: Mode }) => {
    const was = 'arming' in pending.current ? pending.current.arming : arming;
    const w = was?.windows[0];
    const schedule = {
      enabled: next.enabled ?? was?.enabled ?? true,
      time_zone: was?.time_zone ?? browserTimeZone(),
      windows: [{ days: [...allDays], start: next.start ?? w?.start ?? '22:00', end: next.end ?? w?.end ?? '07:00' }],
      in: next.in ?? was?.in ?? 'home',
      out: next.out ?? was?.out ?? 'away',
    };
    pending.current.arming = schedule;
    void patch({ arming_schedule: schedule });
  };
  const modeSelect = (value: Mode, onChange: (m: Mode) => void, testid: string) => (
    <select value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value as Mode)} data-testid={testid}>
      {modes.map((m) => (
        <option value={m} key={m}>
          {t(`notify.mode.${m}` as MessageKey)}
        </option>
      ))}
    </select>
  );

  return (
    <section class="card notifications-page">
      <h1>{t('notify.title')}</h1>
      <ErrorNote error={error} />
      {saved && <Note>{t('devices.saved')}</Note>}

      <h2>{t('notify.mode')}</h2>
      <ModeSwitch mode={settings.mode} onChange={setSettings} />
      <p class="muted">{t(`notify.mode.${settings.mode}.hint` as MessageKey)}</p>
      <label class="switch">
        <input type="checkbox" checked={Boolean(arming?.enabled)} onChange={(e) => setArming({ enabled: (e.target as HTMLInputElement).checked })} data-testid="arming-on" />
        <span>
          {t('notify.arming.on')}
          <small class="muted">{t('devices.schedule.zone', { zone: arming?.time_zone ?? browserTimeZone() })}</small>
        </span>
      </label>
      {arming?.enabled && armingWindow && (
        <div class="schedule-times arming">
          <label class="field">
            <span>{t('notify.arming.in')}</span>
            {modeSelect(arming.in, (m) => setArming({ in: m }), 'arming-in')}
          </label>
          <label class="field">
            <span>{t('devices.schedule.from')}</span>
            <input type="time" value={armingWindow.start} onChange={(e) => setArming({ start: (e.target as HTMLInputElement).value })} data-testid="arming-start" />
          </label>
          <label class="field">
            <span>{t('devices.schedule.until')}</span>
            <input type="time" value={armingWindow.end} onChange={(e) => setArming({ end: (e.target as HTMLInputElement).value })} data-testid="arming-end" />
          </label>
          <label class="field">
            <span>{t('notify.arming.out')}</span>
            {modeSelect(arming.out, (m) => setArming({ out: m }), 'arming-out')}
          </label>
        </div>
      )}
      {arming?.enabled && settings.arming_next && (
        <p class="muted" data-testid="arming-next">
          {t('notify.arming.next', { mode: t(`notify.mode.${settings.arming_next.mode}` as MessageKey), time: formatDate(settings.arming_next.at, 'datetime') })}
        </p>
      )}

      <h2>{t('notify.channels')}</h2>
      <ConsentSwitch purpose="notify.in_app" record={inApp} label={t('notify.in_app')} hint={t('notify.in_app.hint')} testid="consent-in_app" onChange={(on) => setConsent('notify.in_app', on)}>
        {inApp?.granted && permission !== 'granted' && (
          <small class="muted" data-testid="browser-permission">
            {permission === 'denied' ? t('notify.permission.denied') : permission === 'unsupported' ? t('notify.permission.unsupported') : t('notify.permission.ask')}
          </small>
        )}
      </ConsentSwitch>
      <ConsentSwitch purpose="notify.push" record={pushConsent} label={t('notify.push')} hint={t('notify.push.hint')} testid="consent-push" onChange={(on) => setPush(on)}>
        {pushConsent?.granted && pushProblem && (
          <small class="muted" data-testid="push-problem">
            {t('notify.push.unavailable')}
          </small>
        )}
      </ConsentSwitch>
      <ConsentSwitch
        purpose="notify.email"
        record={consents.consents['notify.email']}
        label={t('notify.email')}
        hint={t('notify.email.hint', { email: profile?.email ?? '' })}
        testid="consent-email"
        onChange={(on) => setConsent('notify.email', on)}
      />
      <ConsentSwitch
        purpose="notify.webhook"
        record={consents.consents['notify.webhook']}
        label={t('notify.webhook')}
        hint={t('notify.webhook.hint')}
        testid="consent-webhook"
        onChange={(on) => setConsent('notify.webhook', on)}
      />
      <WebhooksSection />
      <ConsentSwitch
        purpose="notify.mqtt"
        record={consents.consents['notify.mqtt']}
        label={t('notify.mqtt')}
        hint={t('notify.mqtt.hint')}
        testid="consent-mqtt"
        onChange={(on) => setConsent('notify.mqtt', on)}
      />
      <HomeMqttSection />

      <h2>{t('notify.kinds')}</h2>
      <div class="days" role="group" aria-label={t('notify.kinds')}>
        {notifyKinds.map((k) => (
          <label class={`chip day${settings.kinds.includes(k) ? ' chosen' : ''}`} key={k}>
            <input
              type="checkbox"
              checked={settings.kinds.includes(k)}
              onChange={(e) => {
                const on = (e.target as HTMLInputElement).checked;
                void patch({ kinds: on ? [...settings.kinds, k] : settings.kinds.filter((x) => x !== k) });
              }}
              data-testid={`kind-${k}`}
            />
            {kindLabel(t, k)}
          </label>
        ))}
      </div>

      <h2>{t('notify.quiet')}</h2>
      <label class="switch">
        <input type="checkbox" checked={Boolean(quiet?.enabled)} onChange={(e) => setQuiet((e.target as HTMLInputElement).checked)} data-testid="quiet-on" />
        <span>
          {t('notify.quiet.on')}
          <small class="muted">{t('devices.schedule.zone', { zone: quiet?.time_zone ?? browserTimeZone() })}</small>
        </span>
      </label>
      {quiet?.enabled && quietWindow && (
        <div class="schedule-times">
          <label class="field">
            <span>{t('devices.schedule.from')}</span>
            <input type="time" value={quietWindow.start} onChange={(e) => setQuiet(true, (e.target as HTMLInputElement).value, quietWindow.end)} data-testid="quiet-start" />
          </label>
          <label class="field">
            <span>{t('devices.schedule.until')}</span>
            <input type="time" value={quietWindow.end} onChange={(e) => setQuiet(true, quietWindow.start, (e.target as HTMLInputElement).value)} data-testid="quiet-end" />
          </label>
        </div>
      )}

      <label class="field">
        <span>{t('notify.cooldown')}</span>
        <select value={String(settings.cooldown_s)} onChange={(e) => void patch({ cooldown_s: Number((e.target as HTMLSelectElement).value) })} data-testid="cooldown">
          {[0, 30, 60, 300, 900].map((s) => (
            <option value={String(s)} key={s}>
              {s === 0 ? t('notify.cooldown.none') : t('notify.cooldown.seconds', { seconds: s })}
            </option>
          ))}
        </select>
        <small class="muted">{t('notify.cooldown.hint')}</small>
      </label>

      <h2>{t('notify.cameras')}</h2>
      {settings.cameras.length === 0 ? (
        <p class="muted">{t('devices.none')}</p>
      ) : (
        <ul class="notify-cameras">
          {settings.cameras.map((c) => (
            <li key={c.device_id} data-testid="notify-camera">
              <strong>{c.name}</strong>
              <label class="switch">
                <input type="checkbox" checked={c.home} onChange={(e) => void camera(c.device_id, { home: (e.target as HTMLInputElement).checked })} data-testid="camera-home" />
                <span>{t('notify.camera.home')}</span>
              </label>
              <label class="switch">
                <input type="checkbox" checked={c.away} onChange={(e) => void camera(c.device_id, { away: (e.target as HTMLInputElement).checked })} data-testid="camera-away" />
                <span>{t('notify.camera.away')}</span>
              </label>
              {c.record && (
                <div class="days" role="group" aria-label={t('notify.camera.record')}>
                  <small class="muted">{t('notify.camera.record')}</small>
                  {modes.map((m) => (
                    <label class={`chip day${c.record![m] ? ' chosen' : ''}`} key={m}>
                      <input type="checkbox" checked={c.record![m]} onChange={(e) => void camera(c.device_id, { [`record_${m}`]: (e.target as HTMLInputElement).checked })} data-testid={`record-${m}`} />
                      {t(`notify.mode.${m}` as MessageKey)}
                    </label>
                  ))}
                </div>
              )}
              {c.snoozed_until ? (
                <span>
                  {t('notify.snoozed_until', { time: formatDate(c.snoozed_until, 'time') })}{' '}
                  <button type="button" onClick={() => void camera(c.device_id, { snooze_minutes: 0 })} data-testid="unsnooze">
                    {t('notify.unsnooze')}
                  </button>
                </span>
              ) : (
                <button type="button" onClick={() => void camera(c.device_id, { snooze_minutes: 30 })} data-testid="snooze">
                  {t('notify.snooze')}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
