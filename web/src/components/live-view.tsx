// A camera's live view as in a phone app: the picture with what it is doing over it (waking,
// offline since…, privacy mode, access removed, server unreachable, each with what can be
// done), and a control bar: sound on/off and volume, talk (hold to talk, tap to keep
// talking; a level meter shows the microphone is heard), screenshot, recording to this
// device, full screen (button, double-click or double-tap, `f`). The latency readout stays
// small.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import { useI18n, type MessageKey } from '../i18n';
import { LivePlayer, wakeOutcome, type PlayerStatus, type WakeOutcome } from '../player';
import { Link } from '../router';
import { LocalRecorder } from '../local-recording';
import { TalkSession, type TalkState } from '../talk';
import { icons } from './icons';

export interface LiveDevice {
  id: string;
  serial: string;
  name: string;
  last_seen: string | null;
  online: boolean;
  privacy_mode: boolean;
}

function download(url: string, name: string) {
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
}

// Seconds until `at`, refreshed every second while there is one.
function useCountdown(at: number | null): number | null {
  const [, tick] = useState(0);
  useEffect(() => {
    if (at === null) return;
    const timer = window.setInterval(() => tick((n) => n + 1), 1000);
    return () => window.clearInterval(timer);
  }, [at]);
  return at === null ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

export function LiveView({
  device,
  reachable = true,
  canTurnOffPrivacy,
  onPrivacyOff,
  talkRole,
}: {
  device: LiveDevice;
  reachable?: boolean; // false: the page could not reach the server just now
  canTurnOffPrivacy: boolean;
  onPrivacyOff?: () => Promise<boolean>;
  talkRole?: 'owner' | 'other'; // may talk through the camera (family and up); the owner may take the line
}) {
  const { t, formatDate } = useI18n();
  const video = useRef<HTMLVideoElement>(null);
  const frame = useRef<HTMLDivElement>(null);
  const player = useRef<LivePlayer | null>(null);
  const recorder = useRef<LocalRecorder | null>(null);
  const [status, setStatus] = useState<PlayerStatus | null>(null);
  const [muted, setMuted] = useState(true);
  const [volume, setVolume] = useState(0.8);
  const [recording, setRecording] = useState(false);
  const [full, setFull] = useState(false);
  const [notice, setNotice] = useState('');
  const countdown = useCountdown(status?.retryAt ?? null);
  const talk = useRef<TalkSession | null>(null);
  const [talkState, setTalkState] = useState<TalkState | null>(null);
  const [level, setLevel] = useState(0);
  const pressedAt = useRef(0);
  const keptTalking = useRef(false);
  const name = device.name || device.serial;

  useEffect(() => {
    if (!video.current) return;
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const wake = async (): Promise<WakeOutcome> => {
      const outcome = wakeOutcome(await api('POST', `/devices/${device.id}/stream`));
      if (!outcome.ok && outcome.state === 'offline') {
        // When it was last seen, for "offline since".
        const r = await api<{ last_seen: string | null }>('GET', `/devices/${device.id}`);
        if (r.ok) return { ...outcome, since: r.data.last_seen };
      }
      return outcome;
    };
    const p = new LivePlayer(video.current, `${scheme}//${location.host}/api/v1/devices/${device.id}/live`, setStatus, wake);
    p.onFragment = (bytes, init) => recorder.current?.add(bytes, init);
    player.current = p;
    p.start();
    return () => {
      p.stop();
      player.current = null;
    };
  }, [device.id]);

  // The camera came back (or left privacy mode) while the player waits, or the server went
  // away while it showed the camera's state: try at once (the attempt says what is true).
  useEffect(() => {
    const waiting = status?.state === 'offline' || status?.state === 'privacy';
    if (waiting && ((device.online && !device.privacy_mode) || !reachable)) player.current?.retryNow();
  }, [device.online, device.privacy_mode, reachable]);

  // While the person talks, the camera's sound is ducked to a sixth, as intercoms do: what
  // the camera's microphone picks up of its own speaker would otherwise come back at them,
  // and echo cancellation alone does not always catch it.
  const speaking = talkState?.kind === 'ready' || talkState?.kind === 'listening';
  useEffect(() => {
    if (!video.current) return;
    video.current.muted = muted;
    video.current.volume = speaking ? volume / 6 : volume;
  }, [muted, volume, speaking]);

  // Talk: a press starts it; released within 0.4 s it keeps going until the next tap (a
  // toggle), held longer it stops on release (push to talk).
  const stopTalk = (keepState = false) => {
    talk.current?.stop();
    talk.current = null;
    keptTalking.current = false;
    setLevel(0);
    if (!keepState) setTalkState(null);
  };
  const startTalk = (take = false) => {
    stopTalk();
    const session = new TalkSession(device.id, {
      state: (s) => {
        setTalkState(s);
        if (s.kind === 'busy' || s.kind === 'ended' || s.kind === 'denied' || s.kind === 'refused') {
          if (talk.current === session) stopTalk(true);
        }
      },
      level: setLevel,
    });
    talk.current = session;
    void session.start(take);
  };
  useEffect(() => () => talk.current?.stop(), [device.id]);
  useEffect(() => {
    if (device.privacy_mode || !device.online) stopTalk(true);
  }, [device.privacy_mode, device.online]);
  const talking = talk.current !== null;
  const talkPressed = (e: PointerEvent) => {
    e.preventDefault();
    if (talking && keptTalking.current) return stopTalk();
    pressedAt.current = Date.now();
    startTalk();
  };
  const talkReleased = () => {
    if (!talk.current || keptTalking.current) return;
    if (Date.now() - pressedAt.current < 400) keptTalking.current = true;
    else stopTalk();
  };
  const talkKey = (e: MouseEvent) => {
    if (e.detail !== 0) return; // a pointer's click: handled by press and release
    if (talking) stopTalk();
    else {
      startTalk();
      keptTalking.current = true;
    }
  };
  const talkText = (s: TalkState): string => {
    switch (s.kind) {
      case 'connecting':
        return t('talk.connecting');
      case 'ready':
        return t('talk.ready');
      case 'listening':
        return t('talk.listening');
      case 'busy':
        return s.holder ? t('talk.busy_named', { name: s.holder }) : s.holderIsOwner ? t('talk.busy_owner') : t('talk.busy');
      case 'ended':
        return s.reason === 'taken' ? t('talk.ended.taken') : s.reason === 'camera' ? t('talk.ended.camera') : t('talk.ended.other');
      case 'denied':
        return t('talk.denied');
      case 'refused':
        return t('talk.refused');
    }
  };

  // Full screen of the picture and its controls; on a phone, turned to landscape.
  const toggleFull = async () => {
    if (document.fullscreenElement) {
      await document.exitFullscreen().catch(() => undefined);
      return;
    }
    await frame.current?.requestFullscreen().catch(() => undefined);
    const orientation = screen.orientation as ScreenOrientation & { lock?: (o: string) => Promise<void> };
    await orientation.lock?.('landscape').catch(() => undefined);
  };
  useEffect(() => {
    const changed = () => setFull(document.fullscreenElement === frame.current);
    const key = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement;
      if (e.key !== 'f' || e.ctrlKey || e.metaKey || e.altKey) return;
      if (target.closest('input, select, textarea')) return;
      void toggleFull();
    };
    document.addEventListener('fullscreenchange', changed);
    document.addEventListener('keydown', key);
    return () => {
      document.removeEventListener('fullscreenchange', changed);
      document.removeEventListener('keydown', key);
    };
  }, []);

  // A still of what is on screen, as PNG, made here in the browser.
  const screenshot = () => {
    const v = video.current;
    if (!v || !v.videoWidth) return;
    const canvas = document.createElement('canvas');
    canvas.width = v.videoWidth;
    canvas.height = v.videoHeight;
    canvas.getContext('2d')!.drawImage(v, 0, 0);
    download(canvas.toDataURL('image/png'), `${name}.png`);
  };
  // A recording kept on this device only (policy items 13–14): the camera's own H.264/AAC
  // as received, saved as an MP4 with its duration.
  const toggleRecording = () => {
    if (recorder.current) {
      const file = recorder.current.finish();
      recorder.current = null;
      setRecording(false);
      if (file) {
        const url = URL.createObjectURL(file);
        download(url, `${name}.mp4`);
        window.setTimeout(() => URL.revokeObjectURL(url), 10000);
        setNotice('');
      } else {
        setNotice(t('devices.record.empty')); // stopped before the first keyframe came
      }
      return;
    }
    recorder.current = new LocalRecorder(player.current?.currentInit() ?? null);
    setRecording(true);
    setNotice('');
  };

  const state = status?.state ?? 'connecting';
  const playing = state === 'playing';
  let overlay: preact.JSX.Element | null = null;
  if (!playing && state !== 'ended') {
    let text: string;
    if (state === 'offline' && status?.since) {
      text = t('live.state.offline_since', { time: formatDate(status.since, 'time'), date: formatDate(status.since, 'date') });
    } else if (state === 'unreachable') {
      text = t('live.state.unreachable', { s: countdown ?? 0 });
    } else {
      text = t(`live.state.${state}` as MessageKey);
    }
    const busy = state === 'connecting' || state === 'waking';
    overlay = (
      <div class={`live-overlay ${state}`} data-testid="live-overlay" data-state={state}>
        {busy && <span class="spinner" aria-hidden="true" />}
        <p role={busy ? undefined : 'status'} data-testid="live-message">
          {text}
        </p>
        {(state === 'offline' || state === 'unreachable' || state === 'privacy') && (
          <p class="overlay-actions">
            {state === 'privacy' && canTurnOffPrivacy && onPrivacyOff && (
              <button
                class="primary"
                data-testid="privacy-off"
                onClick={() => void onPrivacyOff()}
              >
                {t('live.privacy_off')}
              </button>
            )}
            <button onClick={() => player.current?.retryNow()} data-testid="retry-now">
              {t('live.retry_now')}
            </button>
          </p>
        )}
        {state === 'signed_out' && (
          <p class="overlay-actions">
            <Link href={`/signin?next=${encodeURIComponent(location.pathname)}`} class="button primary">
              {t('nav.signin')}
            </Link>
          </p>
        )}
        {state === 'revoked' && (
          <p class="overlay-actions">
            <Link href="/devices" class="button">
              {t('devices.title')}
            </Link>
          </p>
        )}
      </div>
    );
  }

  return (
    <div class={`live-frame${full ? ' full' : ''}`} ref={frame}>
      <div class="live-stage">
        <video
          ref={video}
          class="live-video"
          muted
          playsInline
          autoPlay
          data-testid="live-video"
          onDblClick={() => void toggleFull()}
          aria-label={t('live.video_label', { name })}
        />
        {overlay}
        {playing && status?.latencyMs !== null && status?.latencyMs !== undefined && (
          <span class="latency" data-testid="live-latency">
            {t('live.latency', { ms: status.latencyMs })}
          </span>
        )}
      </div>
      <div class="live-controls" role="toolbar" aria-label={t('live.controls')}>
        <span
          class={`live ${playing ? 'on' : 'off'}`}
          data-testid="live-state"
          data-startup-ms={status?.startupMs ?? ''}
        >
          {playing ? t('live.state.playing') : t('live.state.short')}
        </span>
        <button
          class="icon"
          aria-pressed={!muted}
          disabled={!status?.audio}
          onClick={() => setMuted(!muted)}
          data-testid="sound"
          title={muted ? t('live.sound_on') : t('live.sound_off')}
        >
          {muted ? icons.soundOff() : icons.soundOn()}
          <span class="visually-hidden">{muted ? t('live.sound_on') : t('live.sound_off')}</span>
        </button>
        <input
          type="range"
          class="volume"
          min={0}
          max={1}
          step={0.05}
          value={volume}
          disabled={muted || !status?.audio}
          aria-label={t('live.volume')}
          onInput={(e) => setVolume(Number((e.target as HTMLInputElement).value))}
        />
        {talkRole && (
          <button
            class={`icon talk${talking ? ' on' : ''}`}
            aria-pressed={talking}
            disabled={device.privacy_mode || !device.online}
            onPointerDown={talkPressed}
            onPointerUp={talkReleased}
            onPointerCancel={talkReleased}
            onClick={talkKey}
            onContextMenu={(e) => e.preventDefault()}
            data-testid="talk"
            title={t('talk.hold')}
          >
            {icons.mic()}
            <span class="visually-hidden">{t('talk.hold')}</span>
          </button>
        )}
        {talkRole && talking && (
          <meter class="talk-level" min={0} max={1} value={level} aria-label={t('talk.level')} data-testid="talk-level" />
        )}
        <span class="spacer" />
        <button class="icon" onClick={screenshot} disabled={!playing} data-testid="screenshot" title={t('devices.screenshot')}>
          {icons.camera()}
          <span class="visually-hidden">{t('devices.screenshot')}</span>
        </button>
        <button
          class={`icon${recording ? ' recording' : ''}`}
          onClick={toggleRecording}
          disabled={!playing && !recording}
          aria-pressed={recording}
          data-testid="record"
          title={recording ? t('devices.record.stop') : t('devices.record.start')}
        >
          {recording ? icons.stop() : icons.record()}
          <span class="visually-hidden">{recording ? t('devices.record.stop') : t('devices.record.start')}</span>
        </button>
        <button class="icon" onClick={() => void toggleFull()} data-testid="fullscreen" title={t('live.fullscreen')}>
          {icons.fullscreen()}
          <span class="visually-hidden">{full ? t('live.fullscreen_exit') : t('live.fullscreen')}</span>
        </button>
      </div>
      {talkState && (
        <p class="live-notice talk-state" role="status" data-testid="talk-state" data-state={talkState.kind}>
          {talkText(talkState)}
          {talkRole === 'owner' && talkState.kind === 'busy' && !talkState.holderIsOwner && (
            <button class="link" onClick={() => startTalk(true)} data-testid="talk-take">
              {t('talk.take')}
            </button>
          )}
        </p>
      )}
      {notice && (
        <p class="live-notice" role="status">
          {notice}
        </p>
      )}
    </div>
  );
}
