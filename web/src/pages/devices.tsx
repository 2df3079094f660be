// The person's cameras: the list (a recent picture, online state, last seen, who shared
// it), every camera live at once, adding one by QR code or its label, and the parts of a
// camera's page that manage it (SD card, sharing). The camera page is pages/camera.tsx.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type ApiError } from '../api';
import { ErrorNote, Field, Note } from '../components/form';
import { icons } from '../components/icons';
import { useI18n, useTitle, type MessageKey } from '../i18n';
import { LivePlayer, wakeOutcome, type PlayerStatus } from '../player';
import { Link, navigate } from '../router';
import { DeviceState, type CameraSettings } from './camera';

// Privacy mode by the clock, in the owner's time zone (the server turns it on and off).
export interface PrivacySchedule {
  enabled: boolean;
  time_zone: string;
  windows: { days: Weekday[]; start: string; end: string }[];
}
export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

export interface Device {
  id: string;
  serial: string;
  name: string;
  model: string;
  firmware: string;
  online: boolean;
  last_seen: string | null;
  role: string;
  capabilities: string[];
  privacy_mode: boolean;
  picture?: boolean; // in the list: a picture can be had (live, or the last one kept)
  place?: string;
  shared_by?: string;
  // For the owner and admins:
  settings?: CameraSettings;
  settings_reported_at?: string | null;
  privacy_schedule?: PrivacySchedule | null;
  privacy_schedule_next?: { at: string; privacy_mode: boolean } | null;
  ip?: string;
  sd_card?: { capacity_bytes: number; used_bytes: number; health: string; reported_at: string | null };
}

// Why a list could not be loaded: the server unreachable (retried), or signed out.
type LoadProblem = 'unreachable' | 'signed_out' | null;

function useDevices(intervalMs: number): { devices: Device[] | null; problem: LoadProblem } {
  const [devices, setDevices] = useState<Device[] | null>(null);
  const [problem, setProblem] = useState<LoadProblem>(null);
  useEffect(() => {
    let alive = true;
    let timer: number | undefined;
    let delay = intervalMs;
    const load = async () => {
      const r = await api<{ devices: Device[] }>('GET', '/devices');
      if (!alive) return;
      if (r.ok) {
        setDevices(r.data.devices);
        setProblem(null);
        delay = intervalMs;
      } else if (r.status === 401) {
        // The session ended: sign in again and come back here.
        setProblem('signed_out');
        navigate(`/signin?next=${encodeURIComponent(location.pathname)}`);
        return;
      } else {
        setProblem('unreachable');
        delay = Math.min(delay * 2, 30000);
      }
      timer = window.setTimeout(load, delay);
    };
    void load();
    return () => {
      alive = false;
      window.clearTimeout(timer);
    };
  }, []);
  return { devices, problem };
}

// A camera's latest picture: refreshed while the page is open; the last one an idle camera
// showed; none in privacy mode.
function Thumbnail({ device }: { device: Device }) {
  const { t } = useI18n();
  const [src, setSrc] = useState<string | null>(null);
  const wanted = Boolean(device.picture) && !device.privacy_mode;
  useEffect(() => {
    if (!wanted) return setSrc(null);
    let alive = true;
    let url: string | null = null;
    const load = async () => {
      try {
        const r = await fetch(`/api/v1/devices/${device.id}/snapshot.jpg`, { credentials: 'same-origin', cache: 'no-store' });
        if (!alive || !r.ok) return;
        const next = URL.createObjectURL(await r.blob());
        if (url) URL.revokeObjectURL(url);
        url = next;
        setSrc(next);
      } catch {
        /* the list says when the server is unreachable */
      }
    };
    void load();
    const timer = window.setInterval(load, 10000);
    return () => {
      alive = false;
      window.clearInterval(timer);
      if (url) URL.revokeObjectURL(url);
    };
  }, [device.id, wanted]);
  return (
    <div class="thumb" aria-hidden={src ? undefined : 'true'}>
      {src ? (
        <img src={src} alt={t('devices.thumbnail', { name: device.name || device.serial })} data-testid="thumbnail" />
      ) : (
        <span class="thumb-empty">{device.privacy_mode ? icons.lock() : icons.video()}</span>
      )}
    </div>
  );
}

export function DevicesPage() {
  const { t, formatDate } = useI18n();
  useTitle(t('devices.title'));
  const { devices, problem } = useDevices(5000);
  return (
    <section class="card">
      <div class="title-row">
        <h1>{t('devices.title')}</h1>
        <span class="actions">
          <Link href="/devices/grid" class="button">
            {t('devices.grid')}
          </Link>
          <Link href="/devices/add" class="button primary">
            {t('devices.add')}
          </Link>
        </span>
      </div>
      {problem === 'unreachable' && (
        <p class="note warn" role="status" data-testid="list-problem">
          {t('live.state.unreachable_short')}
        </p>
      )}
      {devices === null && !problem && <p class="muted">{t('health.loading')}</p>}
      {devices?.length === 0 && <p data-testid="no-devices">{t('devices.none')}</p>}
      <ul class="device-grid" data-testid="device-list">
        {devices?.map((d) => (
          <li class="device-card" data-testid="device" data-serial={d.serial}>
            <Link href={`/devices/${d.id}`} class="device-link">
              <Thumbnail device={d} />
              <strong>{d.name || d.serial}</strong>
            </Link>
            <DeviceState device={d} />
            {!d.online && d.last_seen && (
              <span class="muted" data-testid="last-seen">
                {t('devices.last_seen', { time: formatDate(d.last_seen, 'datetime') })}
              </span>
            )}
            {d.shared_by && (
              <span class="muted" data-testid="shared-by">
                {t('devices.shared_by', { name: d.shared_by })}
              </span>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

interface Recording {
  name: string;
  start_ms: number;
  end_ms: number;
  bytes: number;
}

interface Card {
  recordings: Recording[];
  state: { capacity_bytes: number; used_bytes: number; health: string };
}

// One recording of the card played back: the camera pushes it, and it plays here to its end.
function SdPlayback({ id, recording, onClose }: { id: string; recording: Recording; onClose: () => void }) {
  const { t, formatDate } = useI18n();
  const video = useRef<HTMLVideoElement>(null);
  const [status, setStatus] = useState<PlayerStatus | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    if (!video.current) return;
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const play = async () => {
      const r = await api('POST', `/devices/${id}/sdcard/recordings/${encodeURIComponent(recording.name)}/play`, {
        offset_ms: 0,
      });
      setError(r.ok ? null : r.error);
      return wakeOutcome(r);
    };
    const player = new LivePlayer(
      video.current,
      `${scheme}//${location.host}/api/v1/devices/${id}/sdcard/playback`,
      setStatus,
      play,
      true,
    );
    player.start();
    return () => player.stop();
  }, [id, recording.name]);
  return (
    <div class="sd-playback" data-testid="sd-playback">
      <p>
        {t('sd.playing', { time: formatDate(recording.start_ms, 'datetime') })}{' '}
        <span data-testid="sd-playback-state">
          {status?.state === 'playing'
            ? t('sd.state.playing')
            : t(`live.state.${status?.state ?? 'connecting'}` as MessageKey)}
        </span>{' '}
        <button class="link" onClick={onClose}>
          {t('sd.close')}
        </button>
      </p>
      <ErrorNote error={error} />
      <video ref={video} class="live-video" muted playsInline autoPlay controls data-testid="sd-video" />
    </div>
  );
}

// The camera's SD card: its recordings and state; play or delete one (after asking, then
// saying it is done); format (after asking).
export function SdCard({ id, name }: { id: string; name: string }) {
  const { t, formatDate } = useI18n();
  const [card, setCard] = useState<Card | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState('');
  const [playing, setPlaying] = useState<Recording | null>(null);
  const load = async () => {
    const r = await api<Card>('GET', `/devices/${id}/sdcard`);
    if (r.ok) {
      setCard(r.data);
      setError(null);
    } else {
      setCard(null);
      setError(r.error);
    }
  };
  useEffect(() => void load(), [id]);
  const when = (r: Recording) => `${formatDate(r.start_ms, 'datetime')} – ${formatDate(r.end_ms, 'time')}`;
  const remove = async (recording: Recording) => {
    setDone('');
    if (!window.confirm(t('sd.delete.confirm', { time: when(recording) }))) return;
    const r = await api('DELETE', `/devices/${id}/sdcard/recordings/${encodeURIComponent(recording.name)}`);
    if (r.ok) setDone(t('sd.deleted', { time: when(recording) }));
    else setError(r.error);
    await load();
  };
  const format = async () => {
    setDone('');
    if (!window.confirm(t('sd.format.confirm', { name }))) return;
    const r = await api('POST', `/devices/${id}/sdcard/format`, { confirm: true });
    if (r.ok) setDone(t('sd.formatted'));
    else setError(r.error);
    await load();
  };
  return (
    <section class="sdcard" data-testid="sdcard">
      <h2>{t('sd.title')}</h2>
      <ErrorNote error={error} />
      {done && <Note>{done}</Note>}
      {card && (
        <>
          <p class="muted" data-testid="sd-state">
            {t('sd.state', {
              used: (card.state.used_bytes / 1e6).toFixed(1),
              capacity: (card.state.capacity_bytes / 1e6).toFixed(0),
              health: card.state.health,
              count: card.recordings.length,
            })}
          </p>
          {playing && <SdPlayback id={id} recording={playing} onClose={() => setPlaying(null)} />}
          <ul class="sd-list">
            {card.recordings.map((r) => (
              <li>
                <span>
                  {when(r)} · {(r.bytes / 1e6).toFixed(1)} MB
                </span>{' '}
                <button class="link" onClick={() => setPlaying(r)} data-testid="sd-play">
                  {t('sd.play')}
                </button>{' '}
                <button class="link" onClick={() => void remove(r)} data-testid="sd-delete">
                  {t('sd.delete')}
                </button>
              </li>
            ))}
          </ul>
          <button class="danger" onClick={() => void format()} data-testid="sd-format">
            {t('sd.format')}
          </button>
        </>
      )}
    </section>
  );
}

// One live tile of the grid: wakes its camera and plays it.
function Tile({ device }: { device: Device }) {
  const { t } = useI18n();
  const video = useRef<HTMLVideoElement>(null);
  const [status, setStatus] = useState<PlayerStatus | null>(null);
  useEffect(() => {
    if (!video.current) return;
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const wake = async () => wakeOutcome(await api('POST', `/devices/${device.id}/stream`));
    const player = new LivePlayer(
      video.current,
      `${scheme}//${location.host}/api/v1/devices/${device.id}/live`,
      setStatus,
      wake,
    );
    player.start();
    return () => player.stop();
  }, [device.id]);
  return (
    <li class="tile" data-testid="tile">
      <video ref={video} class="tile-video" muted playsInline autoPlay />
      <span class="tile-label">
        <Link href={`/devices/${device.id}`}>{device.name || device.serial}</Link>{' '}
        <span class={`live ${status?.state === 'playing' ? 'on' : 'off'}`} data-testid="tile-state">
          {t(`live.state.${status?.state ?? 'connecting'}` as MessageKey)}
        </span>
      </span>
    </li>
  );
}

// Every camera live at once.
export function GridPage() {
  const { t } = useI18n();
  useTitle(t('devices.grid'));
  const { devices } = useDevices(30000);
  return (
    <section class="card">
      <div class="title-row">
        <h1>{t('devices.grid')}</h1>
        <Link href="/devices" class="button">
          {t('devices.title')}
        </Link>
      </div>
      {devices?.length === 0 && <p>{t('devices.none')}</p>}
      <ul class="grid">{devices?.map((d) => <Tile key={d.id} device={d} />)}</ul>
    </section>
  );
}

interface BindToken {
  token: string;
  qr_payload: string;
  expires_at: string;
  qr_png?: string;
}

export function AddDevicePage() {
  const { t, formatDate } = useI18n();
  useTitle(t('devices.add.title'));
  const [ssid, setSsid] = useState('');
  const [password, setPassword] = useState('');
  const [bind, setBind] = useState<BindToken | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [added, setAdded] = useState<Device | null>(null);
  const known = useRef<Set<string> | null>(null);

  // While a code is shown, watch for the camera that uses it.
  useEffect(() => {
    if (!bind) return;
    let alive = true;
    const check = async () => {
      const r = await api<{ devices: Device[] }>('GET', '/devices');
      if (!alive || !r.ok) return;
      if (!known.current) {
        known.current = new Set(r.data.devices.map((d) => d.id));
        return;
      }
      const fresh = r.data.devices.find((d) => !known.current!.has(d.id));
      if (fresh) setAdded(fresh);
    };
    void check();
    const timer = window.setInterval(check, 2000);
    return () => {
      alive = false;
      window.clearInterval(timer);
    };
  }, [bind]);

  const create = async (e: Event) => {
    e.preventDefault();
    setError(null);
    known.current = null;
    const body = ssid ? { wifi_ssid: ssid, wifi_password: password } : {};
    const r = await api<BindToken>('POST', '/bind-tokens', body);
    if (r.ok) setBind(r.data);
    else setError(r.error);
  };

  return (
    <section class="card narrow">
      <h1>{t('devices.add.title')}</h1>
      <p>{t('devices.add.intro')}</p>
      {!bind && !added && (
        <form onSubmit={create}>
          <Field label={t('devices.add.ssid')} name="wifi_ssid" value={ssid} onInput={setSsid} />
          <Field
            label={t('devices.add.wifi_password')}
            name="wifi_password"
            type="password"
            value={password}
            onInput={setPassword}
            hint={t('devices.add.wifi_hint')}
          />
          <ErrorNote error={error} />
          <button type="submit" class="primary" data-testid="make-qr">
            {t('devices.add.make')}
          </button>
        </form>
      )}
      {bind && !added && (
        <div data-testid="qr">
          {bind.qr_png && <img class="qr" src={bind.qr_png} alt={t('devices.add.qr_alt')} width={240} height={240} />}
          <p>{t('devices.add.scan', { time: formatDate(bind.expires_at, 'time') })}</p>
          <details>
            <summary>{t('devices.add.payload')}</summary>
            <code class="payload" data-testid="qr-payload">
              {bind.qr_payload}
            </code>
          </details>
          <p class="muted">{t('devices.add.waiting')}</p>
        </div>
      )}
      {added && <NameIt device={added} />}
      {!bind && !added && <AddBySerial onAdded={setAdded} />}
    </section>
  );
}

const places = ['front_door', 'living_room', 'kitchen', 'bedroom', 'nursery', 'garden', 'garage', 'office'] as const;

// Just added: give it a name and say where it is, then open it.
function NameIt({ device }: { device: Device }) {
  const { t } = useI18n();
  const [name, setName] = useState(device.name || '');
  const [place, setPlace] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const save = async (e: Event) => {
    e.preventDefault();
    const body: Record<string, string> = { place: place.trim() };
    if (name.trim()) body.name = name.trim();
    const r = await api<Device>('PATCH', `/devices/${device.id}`, body);
    if (r.ok) navigate(`/devices/${device.id}`);
    else setError(r.error);
  };
  return (
    <form onSubmit={save} data-testid="added">
      <Note>{t('devices.add.done_named', { name: device.name || device.serial })}</Note>
      <Field label={t('devices.name')} name="name" value={name} onInput={setName} />
      <fieldset class="choice places">
        <legend>{t('devices.add.where')}</legend>
        {places.map((p) => (
          <button
            type="button"
            class={`chip${place === t(`place.${p}` as MessageKey) ? ' chosen' : ''}`}
            aria-pressed={place === t(`place.${p}` as MessageKey)}
            onClick={() => setPlace(t(`place.${p}` as MessageKey))}
          >
            {t(`place.${p}` as MessageKey)}
          </button>
        ))}
      </fieldset>
      <Field label={t('devices.place')} name="place" value={place} onInput={setPlace} />
      <ErrorNote error={error} />
      <button type="submit" class="primary" data-testid="name-it">
        {t('devices.add.finish')}
      </button>
    </form>
  );
}

// A camera that cannot scan a code: the serial and pairing code printed on its label.
function AddBySerial({ onAdded }: { onAdded: (d: Device) => void }) {
  const { t } = useI18n();
  const [serial, setSerial] = useState('');
  const [code, setCode] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const r = await api<Device>('POST', '/devices', { serial: serial.trim(), pairing_code: code.trim() });
    if (r.ok) onAdded(r.data);
    else setError(r.error);
  };
  return (
    <form onSubmit={submit} class="manual-add" data-testid="add-by-serial">
      <h2>{t('devices.add.manual')}</h2>
      <p class="muted">{t('devices.add.manual_intro')}</p>
      <Field label={t('devices.add.serial')} name="serial" value={serial} onInput={setSerial} />
      <Field label={t('devices.add.code')} name="pairing_code" value={code} onInput={setCode} />
      <ErrorNote error={error} />
      <button type="submit">{t('devices.add.manual_submit')}</button>
    </form>
  );
}

interface Share {
  id: string;
  device_id: string;
  device_name: string;
  email: string;
  role: string;
  state: string;
}

// The owner's (or an admin's) view of who else may see this camera, and the invite form.
export function Sharing({ id }: { id: string }) {
  const { t } = useI18n();
  const [shares, setShares] = useState<Share[]>([]);
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('viewer');
  const [message, setMessage] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const load = async () => {
    const r = await api<{ shares: Share[] }>('GET', `/devices/${id}/shares`);
    if (r.ok) setShares(r.data.shares);
  };
  useEffect(() => void load(), [id]);
  const invite = async (e: Event) => {
    e.preventDefault();
    const r = await api<Share>('POST', `/devices/${id}/shares`, { email, role });
    setMessage(r.ok ? t('shares.invited', { email: r.data.email }) : '');
    setError(r.ok ? null : r.error);
    if (r.ok) setEmail('');
    await load();
  };
  const revoke = async (share: Share) => {
    await api('DELETE', `/devices/${id}/shares/${share.id}`);
    await load();
  };
  return (
    <section class="sharing">
      <h2>{t('shares.title')}</h2>
      <ul data-testid="shares">
        {shares.map((s) => (
          <li>
            {s.email} · {t(`shares.role.${s.role}` as MessageKey)} · {t(`shares.state.${s.state}` as MessageKey)}{' '}
            <button class="link" onClick={() => void revoke(s)}>
              {t('shares.revoke')}
            </button>
          </li>
        ))}
      </ul>
      <form onSubmit={invite}>
        <Field label={t('shares.email')} name="share_email" type="email" value={email} onInput={setEmail} required />
        <label class="field">
          <span>{t('shares.role')}</span>
          <select value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value)}>
            <option value="viewer">{t('shares.role.viewer')}</option>
            <option value="family">{t('shares.role.family')}</option>
            <option value="admin">{t('shares.role.admin')}</option>
          </select>
        </label>
        <button type="submit" class="primary" data-testid="invite">
          {t('shares.invite')}
        </button>
        <ErrorNote error={error} />
        {message && (
          <p role="status" data-testid="share-message">
            {message}
          </p>
        )}
      </form>
    </section>
  );
}

// Invitations to the signed-in person, to accept or decline.
export function SharesPage() {
  const { t } = useI18n();
  useTitle(t('shares.invitations'));
  const [shares, setShares] = useState<Share[] | null>(null);
  const load = async () => {
    const r = await api<{ shares: Share[] }>('GET', '/shares');
    if (r.ok) setShares(r.data.shares);
  };
  useEffect(() => void load(), []);
  const decide = async (share: Share, accept: boolean) => {
    await api('POST', `/shares/${share.id}/${accept ? 'accept' : 'decline'}`);
    await load();
  };
  return (
    <section class="card">
      <h1>{t('shares.invitations')}</h1>
      {shares?.length === 0 && <p>{t('shares.none')}</p>}
      <ul data-testid="invitations">
        {shares?.map((s) => (
          <li data-testid="invitation">
            <strong>{s.device_name}</strong> · {t(`shares.role.${s.role}` as MessageKey)}{' '}
            {s.state === 'pending' ? (
              <>
                <button class="primary" onClick={() => void decide(s, true)}>
                  {t('shares.accept')}
                </button>{' '}
                <button onClick={() => void decide(s, false)}>{t('shares.decline')}</button>
              </>
            ) : (
              <Link href={`/devices/${s.device_id}`}>{t('shares.open')}</Link>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
