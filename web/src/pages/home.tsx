import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { useI18n, useTitle } from '../i18n';
import { useHealth } from '../health';
import type { MessageKey } from '../i18n';
import { Link, navigate } from '../router';
import { useSession } from '../session';

function formatUptime(seconds: number, t: (k: MessageKey, p?: Record<string, number>) => string): string {
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return t('uptime.days', { d, h });
  if (h > 0) return t('uptime.hours', { h, m });
  if (m > 0) return t('uptime.minutes', { m, s: s % 60 });
  return t('uptime.seconds', { n: s });
}

// The front door for people: what Nightjar is, sign in, create an account. Signed in, the
// cameras are home.
export function HomePage() {
  const { t } = useI18n();
  const { user, loading } = useSession();
  useTitle(t('app.tagline'));
  useEffect(() => {
    if (!loading && user) navigate('/devices');
  }, [loading, user]);
  return (
    <section class="card landing">
      <h1>{t('landing.title')}</h1>
      <p class="intro">{t('landing.intro')}</p>
      <ul class="features">
        <li>{t('landing.feature.live')}</li>
        <li>{t('landing.feature.recordings')}</li>
        <li>{t('landing.feature.share')}</li>
        <li>{t('landing.feature.privacy')}</li>
      </ul>
      <p class="actions">
        <Link href="/signup" class="button primary">
          {t('nav.signup')}
        </Link>
        <Link href="/signin" class="button">
          {t('nav.signin')}
        </Link>
      </p>
      <p class="muted">
        <Link href="/privacy">{t('nav.privacy')}</Link>
      </p>
    </section>
  );
}

interface Outbound {
  smtp: string | null;
  push_services: string[];
  webhooks: string;
  mqtt_broker: string;
}

// Every place the server may connect to, as its operator configured it (minimisation: there
// is nothing else).
function OutboundList() {
  const { t } = useI18n();
  const [outbound, setOutbound] = useState<Outbound | null>(null);
  useEffect(() => {
    void api<Outbound>('GET', '/outbound').then((r) => r.ok && setOutbound(r.data));
  }, []);
  if (!outbound) return null;
  return (
    <>
      <h2>{t('status.outbound')}</h2>
      <p class="muted">{t('status.outbound.hint')}</p>
      <dl class="facts" data-testid="outbound">
        <dt>{t('status.outbound.smtp')}</dt>
        <dd class={outbound.smtp ? 'mono' : undefined}>{outbound.smtp ?? t('status.outbound.smtp_none')}</dd>
        <dt>{t('status.outbound.push')}</dt>
        <dd class="mono">{outbound.push_services.join(', ')}</dd>
        <dt>{t('status.outbound.webhooks')}</dt>
        <dd>{t(outbound.webhooks.includes('private') ? 'status.outbound.webhooks_private' : 'status.outbound.webhooks_public')}</dd>
        <dt>{t('status.outbound.broker')}</dt>
        {outbound.mqtt_broker.startsWith('embedded') ? (
          <dd>{t('status.outbound.broker_embedded')}</dd>
        ) : (
          <dd class="mono">{outbound.mqtt_broker}</dd>
        )}
      </dl>
    </>
  );
}

// For the operator: the server's health, live.
export function StatusPage() {
  const { t, formatDate } = useI18n();
  useTitle(t('home.title'));
  const { health, live, unreachable, roundTripMs, checkedAt } = useHealth();

  const statusKey: MessageKey = unreachable
    ? 'health.unreachable'
    : !health
      ? 'health.loading'
      : health.status === 'ok'
        ? 'health.ok'
        : 'health.degraded';
  const statusClass = unreachable ? 'bad' : !health ? 'pending' : health.status === 'ok' ? 'good' : 'warn';

  return (
    <section class="card">
      <h1>{t('home.title')}</h1>
      <p class="intro">{t('home.intro')}</p>
      <div class="status-line">
        <span class={`status-pill ${statusClass}`} data-testid="health-status">
          {t(statusKey)}
        </span>
        <span class={`live ${live ? 'on' : 'off'}`} data-testid="health-live">
          {live ? t('health.live') : t('health.offline')}
        </span>
        {live && roundTripMs !== null && <span class="muted">{t('health.latency', { ms: roundTripMs })}</span>}
      </div>
      {health && (
        <dl class="facts">
          <dt>{t('health.version')}</dt>
          <dd data-testid="health-version">{health.version}</dd>
          <dt>{t('health.instance')}</dt>
          <dd class="mono">{health.instance}</dd>
          <dt>{t('health.uptime')}</dt>
          <dd>{formatUptime(health.uptime_seconds, t)}</dd>
          <dt>{t('health.database')}</dt>
          <dd data-testid="health-database">
            {health.database.ok
              ? t('health.database_ok', { version: health.database.schema_version ?? 0 })
              : t('health.database_failed')}
          </dd>
          {checkedAt && (
            <>
              <dt>{t('health.checked')}</dt>
              <dd>{formatDate(checkedAt, 'datetime')}</dd>
            </>
          )}
        </dl>
      )}
      <OutboundList />
    </section>
  );
}
