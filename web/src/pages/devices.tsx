// The person's cameras: the list (online state, a recent picture), adding one by QR code,
// and one camera's page (live view with screenshot and local recording, settings, unbind).
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import { Field } from '../components/form';
import { useI18n, type MessageKey } from '../i18n';
import { LivePlayer, type PlayerStatus } from '../player';
import { LiveStatus } from '../components/live-status';
import { Link, navigate } from '../router';

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
}

function useDevices(intervalMs: number): Device[] | null {
  const [devices, setDevices] = useState<Device[] | null>(null);
  useEffect(() => {
    let alive = true;
    const load = async () => {
      const r = await api<{ devices: Device[] }>('GET', '/devices');
      if (alive && r.ok) setDevices(r.data.devices);
    };
    void load();
    const timer = window.setInterval(load, intervalMs);
    return () => {
      alive = false;
      window.clearInterval(timer);
    };
  }, []);
  return devices;
}

export function DevicesPage() {
  const { t } = useI18n();
  const devices = useDevices(5000);
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
      {devices === null && <p class="muted">{t('health.loading')}</p>}
      {devices?.length === 0 && <p data-testid="no-devices">{t('devices.none')}</p>}
      <ul class="device-grid" data-testid="device-list">
        {devices?.map((d) => (
          <li class="device-card" data-testid="device" data-serial={d.serial}>
            <Link href={`/devices/${d.id}`}>
              <strong>{d.name || d.serial}</strong>
            </Link>
            <span class={`live ${d.online ? 'on' : 'off'}`} data-testid="device-online">
              {d.online ? t('devices.online') : t('devices.offline')}
            </span>
            <span class="muted">{d.serial}</span>
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
  const { t } = useI18n();
  const video = useRef<HTMLVideoElement>(null);
  const [status, setStatus] = useState<PlayerStatus | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    if (!video.current) return;
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const play = async () => {
      const r = await api('POST', `/devices/${id}/sdcard/recordings/${encodeURIComponent(recording.name)}/play`, {
        offset_ms: 0,
      });
      setError(r.ok ? '' : r.error.message);
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
        {t('sd.playing', { time: new Date(recording.start_ms).toLocaleString() })}{' '}
        <span data-testid="sd-playback-state">
          {status?.state === 'playing'
            ? t('sd.state.playing')
            : t(`live.state.${status?.state ?? 'connecting'}` as MessageKey)}
        </span>{' '}
        <button class="link" onClick={onClose}>
          {t('sd.close')}
        </button>
      </p>
      {error && <p class="error">{error}</p>}
      <video ref={video} class="live-video" muted playsInline autoPlay controls data-testid="sd-video" />
    </div>
  );
}

// The camera's SD card: its recordings and state; play or delete one; format (after asking).
function SdCard({ id, name }: { id: string; name: string }) {
  const { t } = useI18n();
  const [card, setCard] = useState<Card | null>(null);
  const [error, setError] = useState('');
  const [playing, setPlaying] = useState<Recording | null>(null);
  const load = async () => {
    const r = await api<Card>('GET', `/devices/${id}/sdcard`);
    if (r.ok) {
      setCard(r.data);
      setError('');
    } else setError(r.error.code === 'no_card' ? t('sd.none') : r.error.message);
  };
  useEffect(() => void load(), [id]);
  const remove = async (recording: string) => {
    await api('DELETE', `/devices/${id}/sdcard/recordings/${encodeURIComponent(recording)}`);
    await load();
  };
  const format = async () => {
    if (!window.confirm(t('sd.format.confirm', { name }))) return;
    const r = await api('POST', `/devices/${id}/sdcard/format`, { confirm: true });
    if (!r.ok) setError(r.error.message);
    await load();
  };
  return (
    <section class="sdcard" data-testid="sdcard">
      <h2>{t('sd.title')}</h2>
      {error && <p class="muted">{error}</p>}
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
          <ul>
            {card.recordings.map((r) => (
              <li>
                {new Date(r.start_ms).toLocaleString()} – {new Date(r.end_ms).toLocaleTimeString()} ·{' '}
                {(r.bytes / 1e6).toFixed(1)} MB{' '}
                <button class="link" onClick={() => setPlaying(r)} data-testid="sd-play">
                  {t('sd.play')}
                </button>{' '}
                <button class="link" onClick={() => void remove(r.name)}>
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

// What the camera sent in the last days (policy item 12 c).
function Traffic({ id }: { id: string }) {
  const { t } = useI18n();
  const [days, setDays] = useState<{ day: string; bytes: number }[]>([]);
  useEffect(() => {
    void api<{ days: { day: string; bytes: number }[] }>('GET', `/devices/${id}/traffic`).then((r) => {
      if (r.ok) setDays(r.data.days);
    });
  }, [id]);
  if (days.length === 0) return null;
  return (
    <p class="muted" data-testid="traffic">
      {t('devices.traffic', { mb: (days[0].bytes / 1e6).toFixed(1), day: days[0].day })}
    </p>
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
    const wake = async () => {
      await api('POST', `/devices/${device.id}/stream`);
    };
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
  const devices = useDevices(30000);
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
  const { t } = useI18n();
  const [ssid, setSsid] = useState('');
  const [password, setPassword] = useState('');
  const [bind, setBind] = useState<BindToken | null>(null);
  const [error, setError] = useState('');
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
    setError('');
    known.current = null;
    const body = ssid ? { wifi_ssid: ssid, wifi_password: password } : {};
    const r = await api<BindToken>('POST', '/bind-tokens', body);
    if (r.ok) setBind(r.data);
    else setError(r.error.message);
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
          {error && <p class="error">{error}</p>}
          <button type="submit" class="primary" data-testid="make-qr">
            {t('devices.add.make')}
          </button>
        </form>
      )}
      {bind && !added && (
        <div data-testid="qr">
          {bind.qr_png && <img class="qr" src={bind.qr_png} alt={t('devices.add.qr_alt')} width={240} height={240} />}
          <p>{t('devices.add.scan', { time: new Date(bind.expires_at).toLocaleTimeString() })}</p>
          <details>
            <summary>{t('devices.add.payload')}</summary>
            <code class="payload" data-testid="qr-payload">
              {bind.qr_payload}
            </code>
          </details>
          <p class="muted">{t('devices.add.waiting')}</p>
        </div>
      )}
      {added && (
        <p data-testid="added">
          {t('devices.add.done')} <Link href={`/devices/${added.id}`}>{added.name || added.serial}</Link>
        </p>
      )}
      {!bind && !added && <AddBySerial onAdded={setAdded} />}
    </section>
  );
}

// A camera that cannot scan a code: the serial and pairing code printed on its label.
function AddBySerial({ onAdded }: { onAdded: (d: Device) => void }) {
  const { t } = useI18n();
  const [serial, setSerial] = useState('');
  const [code, setCode] = useState('');
  const [error, setError] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    setError('');
    const r = await api<Device>('POST', '/devices', { serial: serial.trim(), pairing_code: code.trim() });
    if (r.ok) onAdded(r.data);
    else setError(r.error.message);
  };
  return (
    <form onSubmit={submit} class="manual-add" data-testid="add-by-serial">
      <h2>{t('devices.add.manual')}</h2>
      <p class="muted">{t('devices.add.manual_intro')}</p>
      <Field label={t('devices.add.serial')} name="serial" value={serial} onInput={setSerial} />
      <Field label={t('devices.add.code')} name="pairing_code" value={code} onInput={setCode} />
      {error && (
        <p class="error" data-testid="add-error">
          {error}
        </p>
      )}
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
function Sharing({ id }: { id: string }) {
  const { t } = useI18n();
  const [shares, setShares] = useState<Share[]>([]);
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('viewer');
  const [message, setMessage] = useState('');
  const load = async () => {
    const r = await api<{ shares: Share[] }>('GET', `/devices/${id}/shares`);
    if (r.ok) setShares(r.data.shares);
  };
  useEffect(() => void load(), [id]);
  const invite = async (e: Event) => {
    e.preventDefault();
    const r = await api<Share>('POST', `/devices/${id}/shares`, { email, role });
    setMessage(r.ok ? t('shares.invited', { email: r.data.email }) : r.error.message);
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
        {message && <p data-testid="share-message">{message}</p>}
      </form>
    </section>
  );
}

// Invitations to the signed-in person, to accept or decline.
export function SharesPage() {
  const { t } = useI18n();
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

function download(url: string, name: string) {
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
}

export function DevicePage({ id }: { id: string }) {
  const { t } = useI18n();
  const [device, setDevice] = useState<Device | null>(null);
  const [missing, setMissing] = useState(false);
  const [status, setStatus] = useState<PlayerStatus | null>(null);
  const [wakeError, setWakeError] = useState('');
  const [recording, setRecording] = useState<MediaRecorder | null>(null);
  const [name, setName] = useState('');
  const [nightMode, setNightMode] = useState('auto');
  const [message, setMessage] = useState('');
  const video = useRef<HTMLVideoElement>(null);

  useEffect(() => {
    void api<Device>('GET', `/devices/${id}`).then((r) => {
      if (r.ok) {
        setDevice(r.data);
        setName(r.data.name);
      } else setMissing(true);
    });
  }, [id]);

  useEffect(() => {
    if (!device || !video.current) return;
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const wake = async () => {
      const r = await api('POST', `/devices/${id}/stream`);
      setWakeError(r.ok ? '' : r.error.code);
    };
    const player = new LivePlayer(video.current, `${scheme}//${location.host}/api/v1/devices/${id}/live`, setStatus, wake);
    player.start();
    return () => player.stop();
  }, [device?.id]);

  if (missing) return <section class="card">{t('devices.missing')}</section>;
  if (!device) return <section class="card muted">{t('health.loading')}</section>;

  // A still of what is on screen, as PNG, made here in the browser.
  const screenshot = () => {
    const v = video.current;
    if (!v || !v.videoWidth) return;
    const canvas = document.createElement('canvas');
    canvas.width = v.videoWidth;
    canvas.height = v.videoHeight;
    canvas.getContext('2d')!.drawImage(v, 0, 0);
    download(canvas.toDataURL('image/png'), `${device.name || device.serial}.png`);
  };
  // A recording kept on this computer only (policy items 13–14), with MediaRecorder.
  const toggleRecording = () => {
    if (recording) {
      recording.stop();
      setRecording(null);
      return;
    }
    const v = video.current as (HTMLVideoElement & { captureStream?: () => MediaStream }) | null;
    if (!v?.captureStream) return;
    const recorder = new MediaRecorder(v.captureStream(), { mimeType: 'video/webm' });
    const chunks: Blob[] = [];
    recorder.ondataavailable = (e) => chunks.push(e.data);
    recorder.onstop = () => {
      const url = URL.createObjectURL(new Blob(chunks, { type: 'video/webm' }));
      download(url, `${device.name || device.serial}.webm`);
      window.setTimeout(() => URL.revokeObjectURL(url), 10000);
    };
    recorder.start(1000);
    setRecording(recorder);
  };
  const save = async (e: Event) => {
    e.preventDefault();
    const r = await api<Device>('PATCH', `/devices/${id}`, { name, settings: { night_mode: nightMode } });
    if (r.ok) {
      setDevice(r.data);
      setMessage(t('devices.saved'));
    } else setMessage(r.error.message);
  };
  const unbind = async () => {
    if (!window.confirm(t('devices.unbind.confirm', { name: device.name || device.serial }))) return;
    const r = await api('DELETE', `/devices/${id}`);
    if (r.ok) navigate('/devices');
    else setMessage(r.error.message);
  };

  return (
    <section class="card">
      <h1 data-testid="device-name">{device.name || device.serial}</h1>
      <video ref={video} class="live-video" muted playsInline autoPlay data-testid="live-video" />
      <LiveStatus status={status}>
        {wakeError && <span class="error">{t('devices.wake_failed', { code: wakeError })}</span>}
      </LiveStatus>
      <p class="actions">
        <button onClick={screenshot} data-testid="screenshot">
          {t('devices.screenshot')}
        </button>
        <button onClick={toggleRecording} data-testid="record">
          {recording ? t('devices.record.stop') : t('devices.record.start')}
        </button>
      </p>
      {device.role === 'owner' || device.role === 'admin' ? (
        <form onSubmit={save} class="settings">
          <h2>{t('devices.settings')}</h2>
          <Field label={t('devices.name')} name="name" value={name} onInput={setName} />
          <label class="field">
            <span>{t('devices.night_mode')}</span>
            <select value={nightMode} onChange={(e) => setNightMode((e.target as HTMLSelectElement).value)}>
              <option value="auto">{t('devices.night_mode.auto')}</option>
              <option value="on">{t('devices.night_mode.on')}</option>
              <option value="off">{t('devices.night_mode.off')}</option>
            </select>
          </label>
          <button type="submit" class="primary">
            {t('devices.save')}
          </button>
          {message && <p data-testid="settings-message">{message}</p>}
        </form>
      ) : null}
      {device.role !== 'viewer' && (
        <p>
          <Link href={`/devices/${id}/playback`} class="button" data-testid="recordings-link">
            {t('playback.open')}
          </Link>
        </p>
      )}
      {(device.role === 'owner' || device.role === 'admin') && <Traffic id={id} />}
      {(device.role === 'owner' || device.role === 'admin') && (
        <SdCard id={id} name={device.name || device.serial} />
      )}
      {(device.role === 'owner' || device.role === 'admin') && <Sharing id={id} />}
      {device.role === 'owner' && (
        <p>
          <button class="danger" onClick={unbind} data-testid="unbind">
            {t('devices.unbind')}
          </button>
        </p>
      )}
    </section>
  );
}
