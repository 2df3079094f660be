// One camera, like a phone app's camera page: its name and state on top, live view first,
// then its sections as tabs — settings, SD card, sharing, device info — each shown only to
// roles that can use it (a viewer sees live view alone).
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type ApiError } from '../api';
import { ErrorNote, Field, Note } from '../components/form';
import { LiveView } from '../components/live-view';
import { useI18n, useTitle, type MessageKey } from '../i18n';
import { Link, navigate } from '../router';
import { Activity } from './activity';
import { DetectionPanel } from './detection';
import { SdCard, Sharing, type Device, type PrivacySchedule, type Weekday } from './devices';

export interface CameraSettings {
  motion_sensitivity?: number;
  night_mode?: 'auto' | 'on' | 'off';
  mirror?: boolean;
  flip?: boolean;
  status_light?: boolean;
  microphone?: boolean;
  privacy_mode?: boolean;
}

type Tab = 'settings' | 'detection' | 'sdcard' | 'sharing' | 'activity' | 'info';
const tabs: Tab[] = ['settings', 'detection', 'sdcard', 'sharing', 'activity', 'info'];

function tabFromHash(): Tab {
  const hash = location.hash.slice(1) as Tab;
  return tabs.includes(hash) ? hash : 'settings';
}

function manages(device: Device): boolean {
  return device.role === 'owner' || device.role === 'admin';
}

// The state under the name: online, offline since…, or privacy mode.
export function DeviceState({ device }: { device: Device }) {
  const { t, formatDate } = useI18n();
  if (device.privacy_mode) {
    return (
      <span class="pill privacy" data-testid="device-state">
        {t('devices.privacy_on')}
      </span>
    );
  }
  if (device.online) {
    return (
      <span class="pill good" data-testid="device-state">
        {t('devices.online')}
      </span>
    );
  }
  return (
    <span class="pill" data-testid="device-state">
      {device.last_seen
        ? t('devices.offline_since', { time: formatDate(device.last_seen, 'time'), date: formatDate(device.last_seen, 'date') })
        : t('devices.offline')}
    </span>
  );
}

export function DevicePage({ id }: { id: string }) {
  const { t } = useI18n();
  const [device, setDevice] = useState<Device | null>(null);
  // Not (or no longer) this person's: never theirs, or their access was removed meanwhile.
  const [missing, setMissing] = useState<'missing' | 'revoked' | null>(null);
  const [reachable, setReachable] = useState(true);
  const seen = useRef(false); // this person could see it earlier on this page
  const [tab, setTab] = useState<Tab>(tabFromHash);
  // The section is in the address (#sdcard…), so it can be linked to and survives a reload.
  useEffect(() => {
    const follow = () => setTab(tabFromHash());
    window.addEventListener('hashchange', follow);
    return () => window.removeEventListener('hashchange', follow);
  }, []);
  useTitle(device ? device.name || device.serial : t('devices.title'));

  // Its state is read again (online, privacy mode, last seen): every 5 s while it is offline
  // or in privacy mode, so the view starts as soon as it can; every 15 s otherwise.
  const waiting = device !== null && (!device.online || device.privacy_mode);
  useEffect(() => {
    let alive = true;
    const load = async () => {
      const r = await api<Device>('GET', `/devices/${id}`);
      if (!alive) return;
      setReachable(r.ok || r.status !== 0);
      if (r.ok) {
        seen.current = true;
        setDevice(r.data);
      } else if (r.status === 404 || r.status === 403) {
        setMissing(seen.current ? 'revoked' : 'missing');
      }
    };
    if (device === null) void load();
    const timer = window.setInterval(load, waiting ? 5000 : 15000);
    return () => {
      alive = false;
      window.clearInterval(timer);
    };
  }, [id, waiting]);

  if (missing) {
    return (
      <section class="card">
        <p role="status" data-testid="device-missing">
          {missing === 'revoked' ? t('live.state.revoked') : t('devices.missing')}
        </p>
        <Link href="/devices" class="button">
          {t('devices.title')}
        </Link>
      </section>
    );
  }
  if (!device) return <section class="card muted">{t('health.loading')}</section>;

  const name = device.name || device.serial;
  // Who opened the camera is the owner's to see, not an admin's.
  const shownTabs: Tab[] = manages(device) ? tabs.filter((k) => k !== 'activity' || device.role === 'owner') : [];
  const shown = shownTabs.includes(tab) ? tab : shownTabs[0];
  const privacyOff = async () => {
    const r = await api<Device>('PATCH', `/devices/${id}`, { settings: { privacy_mode: false } });
    if (r.ok) setDevice(r.data);
    return r.ok;
  };

  return (
    <section class="card camera-page">
      <div class="camera-head">
        <h1 data-testid="device-name">{name}</h1>
        <DeviceState device={device} />
        {device.shared_by && (
          <span class="muted" data-testid="shared-by">
            {t('devices.shared_by', { name: device.shared_by })}
          </span>
        )}
      </div>
      <LiveView
        device={device}
        reachable={reachable}
        canTurnOffPrivacy={manages(device)}
        onPrivacyOff={privacyOff}
        talkRole={device.role === 'owner' ? 'owner' : device.role === 'viewer' ? undefined : 'other'}
      />
      {device.role !== 'viewer' && (
        <p class="actions">
          <Link href={`/devices/${id}/playback`} class="button" data-testid="recordings-link">
            {t('playback.open')}
          </Link>
        </p>
      )}
      {shownTabs.length > 0 && (
        <>
          <div class="tabs" role="tablist" aria-label={t('devices.sections')}>
            {shownTabs.map((k) => (
              <button
                role="tab"
                id={`tab-${k}`}
                aria-selected={shown === k}
                aria-controls={`panel-${k}`}
                tabIndex={shown === k ? 0 : -1}
                class="tab"
                data-testid={`tab-${k}`}
                onClick={() => {
                  setTab(k);
                  history.replaceState(null, '', `#${k}`);
                }}
              >
                {t(`devices.tab.${k}` as MessageKey)}
              </button>
            ))}
          </div>
          <div role="tabpanel" id={`panel-${shown}`} aria-labelledby={`tab-${shown}`}>
            {shown === 'settings' && <SettingsForm device={device} onSaved={setDevice} />}
            {shown === 'detection' && <DetectionPanel id={id} />}
            {shown === 'sdcard' && <SdCard id={id} name={name} />}
            {shown === 'sharing' && <Sharing id={id} />}
            {shown === 'activity' && <Activity id={id} />}
            {shown === 'info' && <DeviceInfo device={device} />}
          </div>
        </>
      )}
    </section>
  );
}

const defaults: Required<CameraSettings> = {
  motion_sensitivity: 50,
  night_mode: 'auto',
  mirror: false,
  flip: false,
  status_light: true,
  microphone: true,
  privacy_mode: false,
};

const weekdays: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

// The browser's own time zone, which a new schedule follows.
function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

// Short weekday names in the person's language, Monday first (5 Jan 2026 was a Monday).
function weekdayNames(language: string): string[] {
  const f = new Intl.DateTimeFormat(language, { weekday: 'short', timeZone: 'UTC' });
  return weekdays.map((_, i) => f.format(new Date(Date.UTC(2026, 0, 5 + i))));
}

interface ScheduleForm {
  on: boolean;
  start: string;
  end: string;
  days: Weekday[];
}

function scheduleForm(stored: PrivacySchedule | null | undefined): ScheduleForm {
  const first = stored?.windows[0];
  return {
    on: Boolean(stored?.enabled),
    start: first?.start ?? '22:00',
    end: first?.end ?? '07:00',
    days: first ? [...first.days] : [...weekdays],
  };
}

// The schedule to send, or undefined when nothing changed. Only the first window is edited
// here; others (set through the API) are kept.
function scheduleChange(stored: PrivacySchedule | null | undefined, form: ScheduleForm): PrivacySchedule | undefined {
  if (!form.on && !stored) return undefined;
  if (!form.on) return stored!.enabled ? { ...stored!, enabled: false } : undefined;
  const window = { days: weekdays.filter((d) => form.days.includes(d)), start: form.start, end: form.end };
  const wanted: PrivacySchedule = {
    enabled: true,
    time_zone: stored?.time_zone ?? browserTimeZone(),
    windows: [window, ...(stored?.windows.slice(1) ?? [])],
  };
  return JSON.stringify(wanted) === JSON.stringify(stored) ? undefined : wanted;
}

// Privacy mode by the clock: when it starts and ends, on which days, in whose time zone, and
// when it next acts.
function ScheduleFields({ device, form, onChange }: { device: Device; form: ScheduleForm; onChange: (f: ScheduleForm) => void }) {
  const { t, language, formatDate } = useI18n();
  const names = weekdayNames(language);
  const zone = device.privacy_schedule?.time_zone ?? browserTimeZone();
  const next = device.privacy_schedule_next;
  return (
    <fieldset class="schedule" data-testid="privacy-schedule">
      <legend>{t('devices.schedule')}</legend>
      <label class="switch">
        <input
          type="checkbox"
          checked={form.on}
          onChange={(e) => onChange({ ...form, on: (e.target as HTMLInputElement).checked })}
          data-testid="schedule-on"
        />
        <span>
          {t('devices.schedule.on')}
          <small class="muted">{t('devices.schedule.hint')}</small>
        </span>
      </label>
      {form.on && (
        <>
          <div class="schedule-times">
            <label class="field">
              <span>{t('devices.schedule.from')}</span>
              <input
                type="time"
                required
                value={form.start}
                onInput={(e) => onChange({ ...form, start: (e.target as HTMLInputElement).value })}
                data-testid="schedule-start"
              />
            </label>
            <label class="field">
              <span>{t('devices.schedule.until')}</span>
              <input
                type="time"
                required
                value={form.end}
                onInput={(e) => onChange({ ...form, end: (e.target as HTMLInputElement).value })}
                data-testid="schedule-end"
              />
            </label>
          </div>
          <div class="days" role="group" aria-label={t('devices.schedule.days')}>
            {weekdays.map((day, i) => (
              <label class={`chip day${form.days.includes(day) ? ' chosen' : ''}`} key={day}>
                <input
                  type="checkbox"
                  checked={form.days.includes(day)}
                  onChange={(e) => {
                    const on = (e.target as HTMLInputElement).checked;
                    onChange({ ...form, days: on ? [...form.days, day] : form.days.filter((d) => d !== day) });
                  }}
                  data-testid={`schedule-day-${day}`}
                />
                {names[i]}
              </label>
            ))}
          </div>
          <small class="muted" data-testid="schedule-zone">
            {t('devices.schedule.zone', { zone })}
          </small>
        </>
      )}
      {next && (
        <p class="muted" data-testid="schedule-next">
          {t(next.privacy_mode ? 'devices.schedule.next_on' : 'devices.schedule.next_off', {
            time: formatDate(next.at, 'weekday_time'),
          })}
        </p>
      )}
    </fieldset>
  );
}

// The camera's settings as it last reported them; saving sends only what changed.
function SettingsForm({ device, onSaved }: { device: Device; onSaved: (d: Device) => void }) {
  const { t, formatDate } = useI18n();
  const reported: Required<CameraSettings> = { ...defaults, ...(device.settings ?? {}) };
  const [name, setName] = useState(device.name);
  const [form, setForm] = useState<Required<CameraSettings>>(reported);
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const [schedule, setSchedule] = useState<ScheduleForm>(() => scheduleForm(device.privacy_schedule));
  // A new report from the camera (another tab, the camera itself) replaces untouched fields.
  useEffect(() => setForm(reported), [device.settings_reported_at]);
  useEffect(() => setSchedule(scheduleForm(device.privacy_schedule)), [JSON.stringify(device.privacy_schedule)]);

  const set = <K extends keyof CameraSettings>(key: K, value: Required<CameraSettings>[K]) => {
    setSaved(false);
    setForm({ ...form, [key]: value });
  };
  const save = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setSaved(false);
    const changed: CameraSettings = {};
    for (const key of Object.keys(form) as (keyof CameraSettings)[]) {
      if (form[key] !== reported[key]) (changed as Record<string, unknown>)[key] = form[key];
    }
    setBusy(true);
    let latest = device;
    if (name.trim() !== device.name) {
      const r = await api<Device>('PATCH', `/devices/${device.id}`, { name: name.trim() });
      if (!r.ok) {
        setBusy(false);
        return setError(r.error);
      }
      latest = r.data;
    }
    const newSchedule = scheduleChange(device.privacy_schedule, schedule);
    if (newSchedule) {
      const r = await api<Device>('PATCH', `/devices/${device.id}`, { privacy_schedule: newSchedule });
      if (!r.ok) {
        setBusy(false);
        onSaved(latest);
        return setError(r.error);
      }
      latest = r.data;
    }
    if (Object.keys(changed).length > 0) {
      const r = await api<Device>('PATCH', `/devices/${device.id}`, { settings: changed });
      if (!r.ok) {
        setBusy(false);
        onSaved(latest);
        return setError(r.error);
      }
      latest = r.data;
    }
    setBusy(false);
    onSaved(latest);
    setSaved(true);
  };
  const check = (key: 'mirror' | 'flip' | 'status_light' | 'microphone', label: MessageKey) => (
    <label class="switch">
      <input
        type="checkbox"
        name={key}
        checked={form[key]}
        onChange={(e) => set(key, (e.target as HTMLInputElement).checked)}
        data-testid={`setting-${key}`}
      />
      <span>{t(label)}</span>
    </label>
  );
  return (
    <form onSubmit={save} class="settings" data-testid="settings">
      <Field label={t('devices.name')} name="name" value={name} onInput={setName} />
      <label class="switch privacy">
        <input
          type="checkbox"
          name="privacy_mode"
          checked={form.privacy_mode}
          onChange={(e) => set('privacy_mode', (e.target as HTMLInputElement).checked)}
          data-testid="setting-privacy_mode"
        />
        <span>
          <strong>{t('devices.privacy_mode')}</strong>
          <small class="muted">{t('devices.privacy_mode.hint')}</small>
        </span>
      </label>
      <ScheduleFields
        device={device}
        form={schedule}
        onChange={(f) => {
          setSaved(false);
          setSchedule(f);
        }}
      />
      <label class="field">
        <span>{t('devices.motion_sensitivity', { value: form.motion_sensitivity })}</span>
        <input
          type="range"
          min={0}
          max={100}
          step={5}
          value={form.motion_sensitivity}
          onInput={(e) => set('motion_sensitivity', Number((e.target as HTMLInputElement).value))}
          data-testid="setting-motion_sensitivity"
        />
        <small class="muted">{t('devices.motion_sensitivity.hint')}</small>
      </label>
      <label class="field">
        <span>{t('devices.night_mode')}</span>
        <select
          value={form.night_mode}
          onChange={(e) => set('night_mode', (e.target as HTMLSelectElement).value as CameraSettings['night_mode'] & string)}
          data-testid="setting-night_mode"
        >
          <option value="auto">{t('devices.night_mode.auto')}</option>
          <option value="on">{t('devices.night_mode.on')}</option>
          <option value="off">{t('devices.night_mode.off')}</option>
        </select>
      </label>
      {check('mirror', 'devices.mirror')}
      {check('flip', 'devices.flip')}
      {check('status_light', 'devices.status_light')}
      {check('microphone', 'devices.microphone')}
      <p class="muted" data-testid="settings-reported">
        {device.settings_reported_at
          ? t('devices.settings_reported', { time: formatDate(device.settings_reported_at, 'datetime') })
          : t('devices.settings_unknown')}
      </p>
      <ErrorNote error={error} />
      {saved && <Note>{t('devices.saved')}</Note>}
      <button type="submit" class="primary" disabled={busy} data-testid="save-settings">
        {t('devices.save')}
      </button>
      {device.role === 'owner' && <Unbind device={device} />}
    </form>
  );
}

function Unbind({ device }: { device: Device }) {
  const { t } = useI18n();
  const [error, setError] = useState<ApiError | null>(null);
  const unbind = async () => {
    if (!window.confirm(t('devices.unbind.confirm', { name: device.name || device.serial }))) return;
    const r = await api('DELETE', `/devices/${device.id}`);
    if (r.ok) navigate('/devices');
    else setError(r.error);
  };
  return (
    <div class="danger-zone">
      <ErrorNote error={error} />
      <button type="button" class="danger" onClick={() => void unbind()} data-testid="unbind">
        {t('devices.unbind')}
      </button>
    </div>
  );
}

// Model, firmware, serial, when last seen, its address, its card, and what it sent per day
// over 30 days (policy item 12 c).
function DeviceInfo({ device }: { device: Device }) {
  const { t, formatDate } = useI18n();
  const [days, setDays] = useState<{ day: string; bytes: number }[] | null>(null);
  useEffect(() => {
    void api<{ days: { day: string; bytes: number }[] }>('GET', `/devices/${device.id}/traffic`).then((r) => {
      setDays(r.ok ? r.data.days : []);
    });
  }, [device.id]);
  return (
    <div data-testid="device-info">
      <dl class="facts">
        <dt>{t('devices.info.model')}</dt>
        <dd>{device.model || '—'}</dd>
        <dt>{t('devices.info.firmware')}</dt>
        <dd>{device.firmware || '—'}</dd>
        <dt>{t('devices.add.serial')}</dt>
        <dd class="mono">{device.serial}</dd>
        <dt>{t('devices.info.last_seen')}</dt>
        <dd>{device.last_seen ? formatDate(device.last_seen, 'datetime') : '—'}</dd>
        <dt>{t('devices.info.ip')}</dt>
        <dd class="mono">{device.ip || '—'}</dd>
        <dt>{t('devices.info.sd')}</dt>
        <dd>
          {device.sd_card
            ? t('devices.info.sd_state', {
                health: device.sd_card.health,
                used: (device.sd_card.used_bytes / 1e6).toFixed(1),
                capacity: (device.sd_card.capacity_bytes / 1e6).toFixed(0),
              })
            : '—'}
        </dd>
      </dl>
      <h2>{t('devices.info.traffic')}</h2>
      {days && <TrafficChart days={days} />}
    </div>
  );
}

// 30 bars, one per day (UTC), the newest on the right; each says its figure when pointed at.
function TrafficChart({ days }: { days: { day: string; bytes: number }[] }) {
  const { t, formatDate } = useI18n();
  const byDay = new Map(days.map((d) => [d.day, d.bytes]));
  const today = new Date();
  const series: { day: string; bytes: number }[] = [];
  for (let i = 29; i >= 0; --i) {
    const d = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - i));
    const key = d.toISOString().slice(0, 10);
    series.push({ day: key, bytes: byDay.get(key) ?? 0 });
  }
  const max = Math.max(1, ...series.map((d) => d.bytes));
  const total = series.reduce((n, d) => n + d.bytes, 0);
  return (
    <figure class="traffic" data-testid="traffic">
      <svg viewBox="0 0 300 80" role="img" aria-label={t('devices.info.traffic_total', { mb: (total / 1e6).toFixed(1) })}>
        {series.map((d, i) => {
          const h = Math.round((d.bytes / max) * 76);
          return (
            <rect x={i * 10 + 1} y={78 - h} width={8} height={Math.max(h, 1)} class={d.bytes ? 'bar' : 'bar empty'}>
              <title>
                {formatDate(`${d.day}T12:00:00Z`, 'date')}: {(d.bytes / 1e6).toFixed(1)} MB
              </title>
            </rect>
          );
        })}
      </svg>
      <figcaption class="muted">{t('devices.info.traffic_total', { mb: (total / 1e6).toFixed(1) })}</figcaption>
    </figure>
  );
}
