// A camera's cloud recordings: a day, its recorded spans and gaps on a 24-hour timeline,
// and a player that starts at any instant (HLS VOD from the recording's own files), with
// play/pause, speed, jumps of 10 s and a clip to download.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type ApiError } from '../api';
import { ErrorNote } from '../components/form';
import { useI18n, useTitle, type MessageKey } from '../i18n';
import { kindLabel } from './events';
import { Link } from '../router';

interface Span {
  start: string;
  end: string;
}
interface Recordings {
  spans: Span[];
  gaps: Span[];
  privacy?: Span[]; // the camera was in privacy mode (a gap on purpose)
  plan: {
    name: string;
    mode: string;
    retention_days: number;
    ends_at: string;
    pre_roll_s?: number;
    post_roll_s?: number;
  } | null;
  recorder: { state: 'recording' | 'waiting' | 'paused' | 'privacy'; reason?: string } | null;
}

type HlsModule = typeof import('hls.js/light');
const DAY = 86_400_000;
const HOUR = 3_600_000;
const MINUTE = 60_000;
// The timeline's zoom levels: a day, six hours, an hour, a quarter and five minutes, each with
// the distance between its labelled ticks.
const ZOOMS = [
  { span: DAY, tick: 6 * HOUR },
  { span: 6 * HOUR, tick: HOUR },
  { span: HOUR, tick: 10 * MINUTE },
  { span: 15 * MINUTE, tick: 5 * MINUTE },
  { span: 5 * MINUTE, tick: MINUTE },
];
const PRE_ROLL = 5_000;

// An event on the timeline (GET /devices/{id}/events).
interface Marker {
  id: string;
  kind: string;
  start: string;
  end: string | null;
  snapshot: string | null;
}

function dayStart(date: string): number {
  return new Date(`${date}T00:00:00`).getTime();
}
function today(): string {
  const d = new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function PlaybackPage({ id }: { id: string }) {
  const { t, formatDate } = useI18n();
  useTitle(t('playback.title'));
  const [day, setDay] = useState(today());
  const [recordings, setRecordings] = useState<Recordings | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [at, setAt] = useState<number | null>(null); // the instant playback started from
  const [now, setNow] = useState<number | null>(null); // the instant on screen
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState(1);
  const video = useRef<HTMLVideoElement>(null);
  const hls = useRef<InstanceType<HlsModule['default']> | null>(null);

  const from = dayStart(day);
  const [zoom, setZoom] = useState(0);
  const [viewStart, setViewStart] = useState(from);
  const [markers, setMarkers] = useState<Marker[]>([]);
  const [hover, setHover] = useState<{ x: number; at: number; marker?: Marker } | null>(null);
  const bar = useRef<HTMLDivElement>(null);
  const gesture = useRef<{ pointers: Map<number, number>; startX: number; startView: number; dragged: boolean; pinch: number }>({
    pointers: new Map(),
    startX: 0,
    startView: 0,
    dragged: false,
    pinch: 0,
  });
  const span = ZOOMS[zoom].span;
  // A new day starts zoomed out.
  useEffect(() => {
    setZoom(0);
    setViewStart(from);
  }, [from]);
  // The day's events, for the markers (a busy camera's day is 10,000 at most).
  useEffect(() => {
    void api<{ events: Marker[] }>('GET', `/devices/${id}/events?from=${from}&to=${from + DAY}`).then((r) => {
      setMarkers(r.ok ? r.data.events : []);
    });
  }, [id, from]);
  // Zooms to level `next`, keeping `instant` where it is on the bar (the wheel, a pinch), or
  // putting it in the middle (the buttons, which zoom around what is playing).
  const zoomTo = (next: number, instant: number, center = false) => {
    const level = Math.max(0, Math.min(ZOOMS.length - 1, next));
    const nextSpan = ZOOMS[level].span;
    const fraction = center ? 0.5 : (instant - viewStart) / span;
    const start = Math.round(instant - fraction * nextSpan);
    setZoom(level);
    setViewStart(Math.max(from, Math.min(from + DAY - nextSpan, start)));
  };
  const instantAt = (clientX: number) => {
    const box = bar.current!.getBoundingClientRect();
    const fraction = Math.max(0, Math.min(1, (clientX - box.left) / box.width));
    return viewStart + Math.round(fraction * span);
  };
  useEffect(() => {
    void api<Recordings>('GET', `/devices/${id}/recordings?from=${from}&to=${from + DAY}`).then((r) => {
      if (r.ok) {
        setRecordings(r.data);
        setError(null);
      } else setError(r.error);
    });
  }, [id, from]);

  // Plays from `instant` (ms since the epoch) to the end of that day; with `start`, it plays at
  // once (a click on the timeline, or Play on an alarm), else it waits at that instant.
  const play = async (instant: number, start = false) => {
    const el = video.current;
    if (!el) return;
    hls.current?.destroy();
    const { default: Hls } = await import('hls.js/light');
    if (!Hls.isSupported()) {
      setError({ code: 'unsupported_browser', message: '' });
      return;
    }
    const h = new Hls({ enableWorker: false });
    hls.current = h;
    h.on(Hls.Events.ERROR, (_e, data) => {
      if (data.fatal) setError({ code: 'playback_failed', message: '' });
    });
    setAt(instant);
    setError(null);
    if (start) {
      h.on(Hls.Events.MANIFEST_PARSED, () => {
        // A browser that refuses sound without a gesture still plays, muted.
        el.play().catch(() => {
          el.muted = true;
          return el.play().catch(() => undefined);
        });
      });
    }
    h.loadSource(`/api/v1/devices/${id}/playback.m3u8?from=${instant}&to=${instant + 6 * 3_600_000}`);
    h.attachMedia(el);
    el.playbackRate = speed;
    el.ontimeupdate = () => {
      const date = h.playingDate;
      if (date) setNow(date.getTime());
    };
    el.onplay = () => setPlaying(true);
    el.onpause = () => setPlaying(false);
    el.dataset.requested = String(instant);
  };
  useEffect(() => () => hls.current?.destroy(), []);
  // A link to a moment (?at=ms since the epoch) opens there.
  useEffect(() => {
    const params = new URLSearchParams(location.search);
    const requested = Number(params.get('at'));
    if (requested > 0) {
      const d = new Date(requested);
      const pad = (n: number) => String(n).padStart(2, '0');
      setDay(`${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`);
      void play(requested, params.get('play') === '1');
    }
  }, [id]);

  // A click plays from exactly there (not after a drag or a pinch).
  const clickTimeline = (e: MouseEvent) => {
    if (gesture.current.dragged) return;
    void play(instantAt(e.clientX), true);
  };
  // The wheel zooms around the pointer; a drag moves the view; two fingers zoom.
  const onWheel = (e: WheelEvent) => {
    e.preventDefault();
    zoomTo(zoom + (e.deltaY < 0 ? 1 : -1), instantAt(e.clientX));
  };
  const onPointerDown = (e: PointerEvent) => {
    const g = gesture.current;
    g.pointers.set(e.pointerId, e.clientX);
    g.startX = e.clientX;
    g.startView = viewStart;
    g.dragged = false;
    g.pinch = g.pointers.size === 2 ? Math.abs([...g.pointers.values()].reduce((a, b) => a - b)) : 0;
  };
  const onPointerMove = (e: PointerEvent) => {
    const g = gesture.current;
    const box = bar.current!.getBoundingClientRect();
    // Over a marker, the card shows its event and picture; elsewhere the time under the pointer.
    const markerId = (e.target as HTMLElement).dataset?.id;
    const marker = markerId ? markers.find((m) => m.id === markerId) : undefined;
    setHover({ x: e.clientX - box.left, at: marker ? Date.parse(marker.start) : instantAt(e.clientX), marker });
    if (!g.pointers.has(e.pointerId)) return;
    g.pointers.set(e.pointerId, e.clientX);
    if (g.pointers.size === 2) {
      const distance = Math.abs([...g.pointers.values()].reduce((a, b) => a - b));
      if (g.pinch > 0 && (distance > g.pinch * 1.4 || distance < g.pinch / 1.4)) {
        const middle = [...g.pointers.values()].reduce((a, b) => a + b) / 2;
        zoomTo(zoom + (distance > g.pinch ? 1 : -1), instantAt(middle));
        g.pinch = distance;
      }
      g.dragged = true;
      return;
    }
    const moved = e.clientX - g.startX;
    if (Math.abs(moved) > 5) g.dragged = true;
    if (g.dragged && zoom > 0) {
      const start = g.startView - Math.round((moved / box.width) * span);
      setViewStart(Math.max(from, Math.min(from + DAY - span, start)));
    }
  };
  const onPointerUp = (e: PointerEvent) => {
    gesture.current.pointers.delete(e.pointerId);
  };
  const jump = (seconds: number) => {
    if (video.current) video.current.currentTime = Math.max(0, video.current.currentTime + seconds);
  };
  const changeSpeed = (value: number) => {
    setSpeed(value);
    if (video.current) video.current.playbackRate = value;
  };
  // A role that cannot see recordings (a viewer) is not shown this page at all.
  if (error && (error.code === 'forbidden' || error.code === 'not_found') && !recordings) {
    return (
      <section class="card">
        <p role="status" data-testid="not-allowed">
          {error.code === 'forbidden' ? t('playback.not_allowed') : t('devices.missing')}
        </p>
        <Link href={`/devices/${id}`} class="button">
          {t('playback.back')}
        </Link>
      </section>
    );
  }
  const clipFrom = now ?? at;
  const viewEnd = viewStart + span;
  const percent = (ms: number) => `${(((ms - viewStart) / span) * 100).toFixed(3)}%`;
  // Where [a, b) sits on the bar (at least 2 px, so short ones can be seen); nothing outside.
  const place = (a: number, b: number) => {
    const left = Math.max(a, viewStart);
    const right = Math.min(b, viewEnd);
    return { left: percent(left), width: `max(2px, ${(((right - left) / span) * 100).toFixed(3)}%)` };
  };
  const inView = (a: number, b: number) => b >= viewStart && a < viewEnd;
  const ticks: number[] = [];
  for (let tick = viewStart - ((viewStart - from) % ZOOMS[zoom].tick); tick <= viewEnd; tick += ZOOMS[zoom].tick) {
    if (tick >= viewStart) ticks.push(tick);
  }
  // Markers closer than a pixel apart (at a width of 1000) are drawn as one.
  const shown: Marker[] = [];
  let lastBucket = -1;
  for (const m of markers) {
    const a = Date.parse(m.start);
    const b = m.end ? Date.parse(m.end) : a;
    if (!inView(a, b)) continue;
    const bucket = Math.floor(((a - viewStart) / span) * 1000);
    if (bucket === lastBucket) continue;
    lastBucket = bucket;
    shown.push(m);
  }
  const playMarker = (m: Marker) => void play(Date.parse(m.start) - PRE_ROLL, true);

  return (
    <section class="card">
      <div class="title-row">
        <h1>{t('playback.title')}</h1>
        <Link href={`/devices/${id}`} class="button">
          {t('playback.back')}
        </Link>
      </div>
      {recordings?.plan ? (
        <p class="muted" data-testid="plan">
          {t('playback.plan', {
            name: recordings.plan.name,
            days: recordings.plan.retention_days,
            end: formatDate(recordings.plan.ends_at, 'date'),
          })}
          {recordings.plan.mode === 'events' &&
            ' ' +
              t('playback.events_only', {
                pre: recordings.plan.pre_roll_s ?? 0,
                post: recordings.plan.post_roll_s ?? 0,
              })}
        </p>
      ) : (
        recordings && <p class="muted">{t('playback.no_plan')}</p>
      )}
      {recordings?.recorder?.state === 'privacy' && (
        <p class="note warn" role="status" data-testid="recorder-privacy">
          {t('playback.privacy_now')}
        </p>
      )}
      {recordings?.recorder?.state === 'paused' && (
        <p class="note error" role="alert" data-testid="recorder-paused">
          {t('playback.paused')}
        </p>
      )}
      <label class="field">
        <span>{t('playback.day')}</span>
        <input type="date" value={day} onInput={(e) => setDay((e.target as HTMLInputElement).value)} data-testid="day" />
      </label>
      <div class="zoom" role="group" aria-label={t('playback.zoom')}>
        <button type="button" onClick={() => zoomTo(zoom - 1, now ?? at ?? viewStart + span / 2, true)} disabled={zoom === 0} aria-label={t('playback.zoom_out')} data-testid="zoom-out">
          −
        </button>
        <span data-testid="zoom-level">{t(`playback.zoom.${zoom}` as MessageKey)}</span>
        <button type="button" onClick={() => zoomTo(zoom + 1, now ?? at ?? viewStart + span / 2, true)} disabled={zoom === ZOOMS.length - 1} aria-label={t('playback.zoom_in')} data-testid="zoom-in">
          +
        </button>
      </div>
      <div class="timeline-wrap">
      <div
        class="timeline"
        ref={bar}
        onClick={clickTimeline}
        onWheel={onWheel}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
        onPointerLeave={() => setHover(null)}
        data-testid="timeline"
        data-view-start={viewStart}
        data-view-span={span}
        title={t('playback.timeline_hint')}
      >
        {recordings?.spans.map((s) => {
          const [a, b] = [Date.parse(s.start), Date.parse(s.end)];
          return inView(a, b) && <span class="span" data-testid="span" data-start={a} data-end={b} style={place(a, b)} />;
        })}
        {recordings?.privacy?.map((s) => {
          const [a, b] = [Date.parse(s.start), Date.parse(s.end)];
          const title = t('playback.privacy_span', { from: formatDate(a, 'time'), to: formatDate(b, 'time') });
          return inView(a, b) && <span class="span privacy" data-testid="privacy-span" title={title} style={place(a, b)} />;
        })}
        {shown.map((m) => {
          const a = Date.parse(m.start);
          const b = m.end ? Date.parse(m.end) : a;
          return (
            <button
              type="button"
              class={`marker kind-${m.kind}`}
              key={m.id}
              style={place(a, b)}
              data-testid="marker"
              data-id={m.id}
              data-start={a}
              aria-label={t('playback.marker', { kind: kindLabel(t, m.kind), time: formatDate(a, 'time') })}
              onClick={(e) => {
                e.stopPropagation();
                playMarker(m);
              }}
            />
          );
        })}
        {now !== null && now >= viewStart && now < viewEnd && <span class="cursor" data-testid="playhead" style={{ left: percent(now) }} />}
      </div>
      {hover && (
        <div class="timeline-hover" style={{ left: `${hover.x}px` }} data-testid="timeline-hover">
          {hover.marker?.snapshot && <img src={hover.marker.snapshot} alt="" width={128} height={72} />}
          <span>
            {hover.marker ? `${kindLabel(t, hover.marker.kind)} · ` : ''}
            {formatDate(hover.at, 'datetime')}
          </span>
        </div>
      )}
      </div>
      <div class="timeline-hours" aria-hidden="true">
        {ticks.map((tick) => (
          <span style={{ left: percent(tick) }} key={tick}>
            {formatDate(tick, 'time')}
          </span>
        ))}
      </div>
      {recordings?.privacy && recordings.privacy.length > 0 && (
        <p class="muted legend">
          <span class="swatch privacy" aria-hidden="true" /> {t('playback.privacy_legend')}
        </p>
      )}
      {recordings && recordings.spans.length === 0 && <p>{t('playback.nothing')}</p>}
      <ErrorNote error={error} />
      <video ref={video} class="live-video" muted playsInline data-testid="playback-video" />
      <div class="actions">
        <button onClick={() => (playing ? video.current?.pause() : void video.current?.play())} disabled={at === null}>
          {playing ? t('playback.pause') : t('playback.play')}
        </button>
        <button onClick={() => jump(-10)} disabled={at === null}>
          −10 s
        </button>
        <button onClick={() => jump(10)} disabled={at === null}>
          +10 s
        </button>
        <label>
          {t('playback.speed')}{' '}
          <select value={String(speed)} onChange={(e) => changeSpeed(Number((e.target as HTMLSelectElement).value))}>
            {[0.5, 1, 2, 4, 8].map((s) => (
              <option value={String(s)}>{s}×</option>
            ))}
          </select>
        </label>
        {clipFrom !== null && (
          <a
            class="button"
            data-testid="clip"
            href={`/api/v1/devices/${id}/clip.mp4?from=${clipFrom}&to=${clipFrom + 60_000}`}
            download
          >
            {t('playback.clip')}
          </a>
        )}
        {now !== null && (
          <span class="muted" data-testid="playback-time">
            {formatDate(now, 'datetime')}
          </span>
        )}
      </div>
    </section>
  );
}
