// A camera's cloud recordings: a day, its recorded spans and gaps on a 24-hour timeline,
// and a player that starts at any instant (HLS VOD from the recording's own files), with
// play/pause, speed, jumps of 10 s and a clip to download.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type ApiError } from '../api';
import { ErrorNote } from '../components/form';
import { useI18n, useTitle } from '../i18n';
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

  const clickTimeline = (e: MouseEvent) => {
    const bar = e.currentTarget as HTMLElement;
    const box = bar.getBoundingClientRect();
    void play(from + Math.round(((e.clientX - box.left) / box.width) * DAY), true);
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
  const percent = (ms: number) => `${(((ms - from) / DAY) * 100).toFixed(3)}%`;
  // Where [a, b) sits on the day's bar (at least 2 px, so short ones can be seen).
  const place = (a: number, b: number) => ({ left: percent(a), width: `max(2px, ${percent(from + (b - a))})` });

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
      <div class="timeline" onClick={clickTimeline} data-testid="timeline" title={t('playback.timeline_hint')}>
        {recordings?.spans.map((s) => {
          const [a, b] = [Date.parse(s.start), Date.parse(s.end)];
          return <span class="span" data-testid="span" data-start={a} data-end={b} style={place(a, b)} />;
        })}
        {recordings?.privacy?.map((s) => {
          const [a, b] = [Date.parse(s.start), Date.parse(s.end)];
          const title = t('playback.privacy_span', { from: formatDate(a, 'time'), to: formatDate(b, 'time') });
          return <span class="span privacy" data-testid="privacy-span" title={title} style={place(a, b)} />;
        })}
        {now !== null && <span class="cursor" style={{ left: percent(now) }} />}
      </div>
      <div class="timeline-hours" aria-hidden="true">
        {[0, 6, 12, 18, 24].map((h) => (
          <span style={{ left: `${(h / 24) * 100}%` }}>{`${String(h).padStart(2, '0')}:00`}</span>
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
