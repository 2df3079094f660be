// The alarm centre: what happened in front of the person's cameras, newest first, each with
// its picture, filters by camera, kind and day, read and unread, and a tap to play it from
// just before it began. The navigation shows how many are unread.
import { useEffect, useState } from 'preact/hooks';
import { api, type ApiError } from '../api';
import { ErrorNote } from '../components/form';
import { icons } from '../components/icons';
import { useI18n, useTitle, type MessageKey } from '../i18n';
import { eventsChanged } from '../live-notifications';
import { Link } from '../router';
import { ModeSwitch, type NotifySettings } from './notifications';
import type { Device } from './devices';

export interface EventItem {
  id: string;
  device_id: string;
  device_name: string;
  kind: string;
  start: string;
  end: string | null;
  score: number;
  reports: number;
  zones: string[];
  read: boolean;
  snapshot: string | null;
  clip: { from: string; to: string };
}

interface EventPage {
  events: EventItem[];
  next_cursor: string | null;
}

// The kinds a person can filter by, in the order they are offered.
const kinds = ['motion', 'person', 'sound', 'device_alarm', 'offline', 'privacy_mode', 'sd_card', 'storage_full'];

export function kindLabel(t: (k: MessageKey) => string, kind: string): string {
  return kinds.includes(kind) ? t(`kind.${kind}` as MessageKey) : kind;
}

// Told when this tab changed what is read (or new events came), so the badge follows at once.
const readChanged = eventsChanged;

// The unread count for the navigation's badge: asked every 30 s and when told.
export function useUnread(enabled: boolean): number {
  const [count, setCount] = useState(0);
  useEffect(() => {
    if (!enabled) return setCount(0);
    let alive = true;
    const load = async () => {
      const r = await api<{ count: number }>('GET', '/events/unread');
      if (alive && r.ok) setCount(r.data.count);
    };
    void load();
    const timer = window.setInterval(load, 30_000);
    window.addEventListener(readChanged, load);
    window.addEventListener('focus', load);
    return () => {
      alive = false;
      window.clearInterval(timer);
      window.removeEventListener(readChanged, load);
      window.removeEventListener('focus', load);
    };
  }, [enabled]);
  return count;
}

function localDayBounds(day: string): { from: number; to: number } | null {
  const m = day.match(/^(\d{4})-(\d{2})-(\d{2})$/);
  if (!m) return null;
  const start = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const end = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + 1);
  return { from: start.getTime(), to: end.getTime() };
}

export function EventsPage() {
  const { t, formatDate } = useI18n();
  useTitle(t('events.title'));
  const [devices, setDevices] = useState<Device[]>([]);
  const [camera, setCamera] = useState('');
  const [kind, setKind] = useState('');
  const [day, setDay] = useState('');
  const [unreadOnly, setUnreadOnly] = useState(false);
  const [events, setEvents] = useState<EventItem[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [mode, setMode] = useState<NotifySettings['mode'] | null>(null);

  useEffect(() => {
    void api<{ devices: Device[] }>('GET', '/devices').then((r) => {
      if (r.ok) setDevices(r.data.devices.filter((d) => d.role !== 'viewer'));
    });
    void api<NotifySettings>('GET', '/me/notifications').then((r) => r.ok && setMode(r.data.mode));
  }, []);

  const query = (cursor: string | null) => {
    const p = new URLSearchParams();
    if (camera) p.set('device', camera);
    if (kind) p.set('kind', kind);
    const bounds = localDayBounds(day);
    if (bounds) {
      p.set('from', String(bounds.from));
      p.set('to', String(bounds.to));
    }
    if (unreadOnly) p.set('unread', '1');
    if (cursor) p.set('cursor', cursor);
    p.set('limit', '30');
    return `/events?${p.toString()}`;
  };

  // The first page, again whenever a filter changes, and every 10 s for what is new.
  useEffect(() => {
    let alive = true;
    const load = async () => {
      const r = await api<EventPage>('GET', query(null));
      if (!alive) return;
      if (!r.ok) return setError(r.error);
      setError(null);
      setEvents((old) => {
        // Keep older pages already shown below the refreshed first one.
        if (!old) return r.data.events;
        const fresh = new Set(r.data.events.map((e) => e.id));
        const lastFresh = r.data.events[r.data.events.length - 1];
        const older = lastFresh ? old.filter((e) => !fresh.has(e.id) && e.start < lastFresh.start) : [];
        return [...r.data.events, ...older];
      });
      setNext((old) => old ?? r.data.next_cursor);
    };
    setEvents(null);
    setNext(null);
    void load();
    const timer = window.setInterval(load, 10_000);
    return () => {
      alive = false;
      window.clearInterval(timer);
    };
  }, [camera, kind, day, unreadOnly]);

  const more = async () => {
    if (!next) return;
    const r = await api<EventPage>('GET', query(next));
    if (!r.ok) return setError(r.error);
    setEvents((old) => [...(old ?? []), ...r.data.events]);
    setNext(r.data.next_cursor);
  };

  const setRead = async (e: EventItem, read: boolean) => {
    const r = await api<EventItem>('PATCH', `/events/${e.id}`, { read });
    if (!r.ok) return setError(r.error);
    setEvents((old) => (old ?? []).map((x) => (x.id === e.id ? { ...x, read } : x)));
    window.dispatchEvent(new Event(readChanged));
  };
  const allRead = async () => {
    const r = await api('POST', '/events/read', {});
    if (!r.ok) return setError(r.error);
    setEvents((old) => (old ?? []).map((x) => ({ ...x, read: true })));
    window.dispatchEvent(new Event(readChanged));
  };

  const duration = (e: EventItem) => {
    if (!e.end) return t('events.ongoing');
    const seconds = Math.max(1, Math.round((Date.parse(e.end) - Date.parse(e.start)) / 1000));
    return t('events.duration', { seconds });
  };

  return (
    <section class="card events-page">
      <h1>{t('events.title')}</h1>
      <div class="events-head">
        {mode && <ModeSwitch mode={mode} onChange={(s) => setMode(s.mode)} />}
        <Link href="/account/notifications" testId="notify-settings">
          {t('notify.title')}
        </Link>
      </div>
      <form class="event-filters" onSubmit={(e) => e.preventDefault()}>
        <label class="field">
          <span>{t('events.filter.camera')}</span>
          <select value={camera} onChange={(e) => setCamera((e.target as HTMLSelectElement).value)} data-testid="filter-camera">
            <option value="">{t('events.filter.all_cameras')}</option>
            {devices.map((d) => (
              <option value={d.id} key={d.id}>
                {d.name || d.serial}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>{t('events.filter.kind')}</span>
          <select value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value)} data-testid="filter-kind">
            <option value="">{t('events.filter.all_kinds')}</option>
            {kinds.map((k) => (
              <option value={k} key={k}>
                {kindLabel(t, k)}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>{t('events.filter.day')}</span>
          <input type="date" value={day} onInput={(e) => setDay((e.target as HTMLInputElement).value)} data-testid="filter-day" />
        </label>
        <label class="switch">
          <input
            type="checkbox"
            checked={unreadOnly}
            onChange={(e) => setUnreadOnly((e.target as HTMLInputElement).checked)}
            data-testid="filter-unread"
          />
          <span>{t('events.filter.unread')}</span>
        </label>
      </form>
      <div class="event-actions">
        <button type="button" onClick={() => void allRead()} data-testid="all-read">
          {t('events.mark_all_read')}
        </button>
      </div>
      <ErrorNote error={error} />
      {events === null ? (
        <p class="muted">{t('health.loading')}</p>
      ) : events.length === 0 ? (
        <p class="muted" data-testid="no-events">
          {t('events.empty')}
        </p>
      ) : (
        <ul class="events" data-testid="events">
          {events.map((e) => (
            <li class={`event${e.read ? '' : ' unread'}`} key={e.id} data-testid="event" data-kind={e.kind} data-id={e.id}>
              <div class="thumb event-thumb">
                {e.snapshot ? (
                  <img src={e.snapshot} alt={t('events.picture', { kind: kindLabel(t, e.kind), camera: e.device_name })} loading="lazy" />
                ) : (
                  <span class="thumb-empty" aria-hidden="true">
                    {icons.video()}
                  </span>
                )}
              </div>
              <div class="event-text">
                <strong>
                  {!e.read && <span class="unread-dot" aria-label={t('events.unread')} role="img" />}
                  {kindLabel(t, e.kind)}
                </strong>
                <span>
                  {e.device_name}
                  {e.zones.length > 0 && <> · {t('events.zones', { zones: e.zones.join(', ') })}</>}
                </span>
                <span class="muted">
                  <time dateTime={e.start}>{formatDate(e.start, 'datetime')}</time> · {duration(e)}
                  {e.reports > 1 && <> · {t('events.reports', { count: e.reports })}</>}
                </span>
              </div>
              <div class="event-buttons">
                <Link
                  href={`/devices/${e.device_id}/playback?at=${Date.parse(e.clip.from)}&play=1`}
                  class="button primary"
                  onNavigate={() => {
                    if (!e.read) void setRead(e, true);
                  }}
                  testId="play-event"
                >
                  {t('events.play')}
                </Link>
                <button type="button" onClick={() => void setRead(e, !e.read)} data-testid="toggle-read">
                  {e.read ? t('events.mark_unread') : t('events.mark_read')}
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
      {next && (
        <button type="button" onClick={() => void more()} data-testid="more-events">
          {t('events.more')}
        </button>
      )}
    </section>
  );
}
