// The privacy centre: the policy in force and its history, what the person agreed to and
// when, the advertising switch that stays off, where to see who opened their cameras, and
// how to leave. Loaded only when opened.
import { useEffect, useState } from 'preact/hooks';
import { api, type ApiError } from '../api';
import { ErrorNote } from '../components/form';
import { useI18n, useTitle, type MessageKey } from '../i18n';
import { Link } from '../router';

interface ConsentRecord {
  granted: boolean;
  at: string;
  policy_version: string;
  method: string;
}

interface PrivacyRequest {
  id: string;
  kind: string;
  text: string;
  created_at: string;
  due: string;
  status: 'open' | 'answered';
  answer: string | null;
}

const requestKinds = ['access', 'correction', 'deletion', 'complaint', 'question'];

interface ExportState {
  id: string;
  state: 'queued' | 'building' | 'ready' | 'failed' | 'expired';
  done: number;
  total: number;
  expires_at: string | null;
  download: string | null;
}

// A copy of all of the person's data: asked for, prepared in the background (its progress
// shown), then downloaded for a day.
function DataExport() {
  const { t, formatDate } = useI18n();
  const [state, setState] = useState<ExportState | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [withRecordings, setWithRecordings] = useState(false);
  const load = () => api<{ export: ExportState | null }>('GET', '/me/export').then((r) => r.ok && setState(r.data.export));
  useEffect(() => {
    void load();
  }, []);
  const working = state?.state === 'queued' || state?.state === 'building';
  useEffect(() => {
    if (!working) return;
    const timer = setInterval(() => void load(), 1000);
    return () => clearInterval(timer);
  }, [working]);
  const ask = async () => {
    const r = await api<ExportState>('POST', '/me/export', { recordings: withRecordings });
    setError(r.ok ? null : r.error);
    if (r.ok) setState(r.data);
  };
  return (
    <div data-testid="export">
      <p>{t('privacy.export.hint')}</p>
      {working && (
        <p role="status" data-testid="export-progress">
          {t('privacy.export.working', { done: state.done, total: state.total || '…' })}
        </p>
      )}
      {state?.state === 'ready' && state.download && (
        <p>
          <a href={state.download} download data-testid="export-download">
            {t('privacy.export.download')}
          </a>{' '}
          <small class="muted">{state.expires_at && t('privacy.export.until', { time: formatDate(state.expires_at, 'datetime') })}</small>
        </p>
      )}
      {!working && (
        <>
          <label class="check">
            <input
              type="checkbox"
              checked={withRecordings}
              onChange={(e) => setWithRecordings((e.target as HTMLInputElement).checked)}
              data-testid="export-recordings"
            />
            <span>{t('privacy.export.recordings')}</span>
          </label>
          <button class="primary" onClick={() => void ask()} data-testid="export-ask">
            {t('privacy.export.ask')}
          </button>
        </>
      )}
      <ErrorNote error={error} />
    </div>
  );
}

interface Region {
  id: string;
  name: string;
}

interface RegionMove {
  id: string;
  from: string;
  to: string;
  state: 'moving' | 'done';
  consented_at: string;
}

// Where the person's data is kept, and moving it elsewhere: only with the box ticked, which
// is their recorded consent to that move.
function DataRegion() {
  const { t, formatDate } = useI18n();
  const [regions, setRegions] = useState<Region[]>([]);
  const [mine, setMine] = useState<string | null>(null);
  const [moves, setMoves] = useState<RegionMove[]>([]);
  const [target, setTarget] = useState('');
  const [agreed, setAgreed] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const load = () =>
    api<{ region: string; moves: RegionMove[] }>('GET', '/me/region').then((r) => {
      if (!r.ok) return;
      setMine(r.data.region);
      setMoves(r.data.moves);
    });
  useEffect(() => {
    void api<{ regions: Region[] }>('GET', '/regions').then((r) => r.ok && setRegions(r.data.regions));
    void load();
  }, []);
  const moving = moves.some((m) => m.state === 'moving');
  useEffect(() => {
    if (!moving) return;
    const timer = setInterval(() => void load(), 2000);
    return () => clearInterval(timer);
  }, [moving]);
  const name = (id: string) => regions.find((r) => r.id === id)?.name ?? id;
  const others = regions.filter((r) => r.id !== mine);
  const chosen = target || others[0]?.id || '';
  const move = async (e: Event) => {
    e.preventDefault();
    const r = await api<RegionMove>('POST', '/me/region', { region: chosen, consent: agreed });
    setError(r.ok ? null : r.error);
    if (r.ok) {
      setAgreed(false);
      void load();
    }
  };
  return (
    <div data-testid="region">
      {mine && regions.length > 1 && <p data-testid="region-current">{t('privacy.region.current', { name: name(mine) })}</p>}
      {regions.length === 1 && <p data-testid="region-current">{t('privacy.region.single')}</p>}
      <ul data-testid="region-moves">
        {moves.map((m) => (
          <li data-state={m.state}>
            {t(m.state === 'done' ? 'privacy.region.moved' : 'privacy.region.moving', {
              from: name(m.from),
              to: name(m.to),
              time: formatDate(m.consented_at, 'datetime'),
            })}
          </li>
        ))}
      </ul>
      {others.length > 0 && !moving && (
        <form onSubmit={move} data-testid="region-form">
          <label class="field">
            <span>{t('privacy.region.move')}</span>
            <select value={chosen} onChange={(e) => setTarget((e.target as HTMLSelectElement).value)} data-testid="region-target">
              {others.map((r) => (
                <option value={r.id}>{r.name}</option>
              ))}
            </select>
          </label>
          <label class="check">
            <input
              type="checkbox"
              checked={agreed}
              onChange={(e) => setAgreed((e.target as HTMLInputElement).checked)}
              data-testid="region-consent"
            />
            <span>{t('privacy.region.consent', { name: name(chosen) })}</span>
          </label>
          <button type="submit" class="primary" disabled={!agreed} data-testid="region-move">
            {t('privacy.region.submit')}
          </button>
          <ErrorNote error={error} />
        </form>
      )}
    </div>
  );
}

interface PolicyVersion {
  version: string;
  installed_at: string;
  major: boolean;
  changes: string;
}

export default function PrivacyCentrePage() {
  const { t, formatDate } = useI18n();
  useTitle(t('privacy.title'));
  const [consents, setConsents] = useState<Record<string, ConsentRecord>>({});
  const [purposes, setPurposes] = useState<string[]>([]);
  const [versions, setVersions] = useState<PolicyVersion[]>([]);
  const [accepted, setAccepted] = useState<string | null>(null);
  const [requests, setRequests] = useState<PrivacyRequest[]>([]);
  const [kind, setKind] = useState('question');
  const [text, setText] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const loadRequests = () =>
    void api<{ requests: PrivacyRequest[] }>('GET', '/me/requests').then((r) => r.ok && setRequests(r.data.requests));
  const send = async (e: Event) => {
    e.preventDefault();
    const r = await api('POST', '/me/requests', { kind, text });
    setError(r.ok ? null : r.error);
    if (r.ok) setText('');
    loadRequests();
  };
  useEffect(() => {
    loadRequests();
    void api<{ consents: Record<string, ConsentRecord>; purposes: string[] }>('GET', '/me/consents').then((r) => {
      if (!r.ok) return;
      setConsents(r.data.consents);
      setPurposes(r.data.purposes);
    });
    void api<{ versions: PolicyVersion[] }>('GET', '/policy/history').then((r) => r.ok && setVersions(r.data.versions));
    void api<{ policy?: { accepted: string | null } }>('GET', '/me').then((r) => r.ok && setAccepted(r.data.policy?.accepted ?? null));
  }, []);
  return (
    <section class="card privacy-centre">
      <h1>{t('privacy.title')}</h1>

      <h2>{t('privacy.policy')}</h2>
      <p>
        {accepted ? t('privacy.accepted', { version: accepted }) : ''} <Link href="/privacy">{t('policy.read')}</Link>
      </p>
      <ul data-testid="policy-history">
        {versions.map((v) => (
          <li>
            <strong>{v.version}</strong> · {formatDate(v.installed_at, 'date')}
            {v.major && ` · ${t('privacy.major')}`}
            {v.changes && <small class="muted"> · {v.changes}</small>}
          </li>
        ))}
      </ul>

      <h2>{t('privacy.consents')}</h2>
      <ul data-testid="consents">
        {purposes
          .filter((p) => p !== 'ads.personalised')
          .map((p) => {
            const c = consents[p];
            return (
              <li data-purpose={p}>
                <strong>{t(`privacy.purpose.${p}` as MessageKey)}</strong>:{' '}
                {c
                  ? t(c.granted ? 'notify.consent.given' : 'notify.consent.withdrawn', {
                      time: formatDate(c.at, 'datetime'),
                      version: c.policy_version,
                    })
                  : t('privacy.never_given')}
              </li>
            );
          })}
      </ul>
      <p>
        <Link href="/account/notifications">{t('privacy.change_consents')}</Link>
      </p>

      <h2>{t('privacy.ads')}</h2>
      <label class="switch privacy">
        <input type="checkbox" checked={false} disabled data-testid="ads-switch" />
        <span>
          <strong>{t('privacy.ads.switch')}</strong>
          <small class="muted">{t('privacy.ads.none')}</small>
        </span>
      </label>

      <h2>{t('privacy.export')}</h2>
      <DataExport />

      <h2>{t('privacy.region')}</h2>
      <DataRegion />

      <h2>{t('privacy.requests')}</h2>
      <p>{t('privacy.requests.hint')}</p>
      <form onSubmit={send} data-testid="request-form">
        <label class="field">
          <span>{t('privacy.requests.kind')}</span>
          <select value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value)} data-testid="request-kind">
            {requestKinds.map((k) => (
              <option value={k}>{t(`privacy.requests.kind.${k}` as MessageKey)}</option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>{t('privacy.requests.text')}</span>
          <textarea value={text} maxLength={4000} required onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} data-testid="request-text" />
        </label>
        <button type="submit" class="primary" data-testid="request-send">
          {t('privacy.requests.send')}
        </button>
        <ErrorNote error={error} />
      </form>
      <ul data-testid="requests">
        {requests.map((q) => (
          <li data-status={q.status}>
            <strong>{t(`privacy.requests.kind.${q.kind}` as MessageKey)}</strong> · {formatDate(q.created_at, 'date')} ·{' '}
            {q.status === 'open' ? t('privacy.requests.due', { date: formatDate(q.due, 'date') }) : t('privacy.requests.answered')}
            <br />
            <small class="muted">{q.text}</small>
            {q.answer && <p data-testid="request-answer">{q.answer}</p>}
          </li>
        ))}
      </ul>

      <h2>{t('privacy.access')}</h2>
      <p>{t('privacy.access.hint')}</p>

      <h2>{t('privacy.keys')}</h2>
      <p>{t('privacy.keys.hint')}</p>

      <h2>{t('privacy.leave')}</h2>
      <p>
        {t('privacy.leave.hint')} <Link href="/account/cancel">{t('privacy.leave.link')}</Link>
      </p>
    </section>
  );
}
