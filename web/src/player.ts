// Live video in the browser: fMP4 over a WebSocket into Media Source Extensions. Keeps
// close to the live edge, trims what was played, and reports its state and latency. It
// says truthfully why it does not play, and retries only where retrying can help:
//   waking       the camera is starting its stream (retried at once)
//   unreachable  the server cannot be reached (retried with backoff, 1 s to 30 s)
//   offline      the camera is offline (retried every 30 s, or at once by retryNow())
//   privacy      the camera is in privacy mode (retried every 30 s)
//   revoked      this person's access ended (never retried)
//   signed_out   the session ended (never retried)
import type { ApiResult } from './api';

export type PlayerState =
  | 'connecting'
  | 'waking'
  | 'playing'
  | 'offline'
  | 'privacy'
  | 'unreachable'
  | 'revoked'
  | 'signed_out'
  | 'unsupported'
  | 'ended';

export interface PlayerStatus {
  state: PlayerState;
  latencyMs: number | null;
  width: number;
  height: number;
  startupMs: number | null; // from start() to the first frame shown
  retryAt: number | null; // Date.now() of the next attempt, if one is planned
  since: string | null; // offline: when the camera was last seen (RFC 3339)
  audio: boolean; // the stream carries sound
}

// What asking the camera to stream came to: go on, or a state to show (and `since`).
export type WakeOutcome = { ok: true } | { ok: false; state: PlayerState; since?: string | null };

// The answer to POST /devices/{id}/stream, read as a player state.
export function wakeOutcome(r: ApiResult<unknown>): WakeOutcome {
  if (r.ok) return { ok: true };
  const code = r.error.code;
  if (r.status === 0) return { ok: false, state: 'unreachable' };
  if (r.status === 401) return { ok: false, state: 'signed_out' };
  if (r.status === 403 || r.status === 404) return { ok: false, state: 'revoked' };
  if (code === 'privacy_mode') return { ok: false, state: 'privacy' };
  if (code === 'device_offline') return { ok: false, state: 'offline' };
  if (code === 'device_not_ready' || code === 'device_timeout') return { ok: false, state: 'waking' };
  // A gateway's 502/503/504 without our error body, or anything else: the server side.
  return { ok: false, state: 'unreachable' };
}

export function initialStatus(): PlayerStatus {
  return { state: 'connecting', latencyMs: null, width: 0, height: 0, startupMs: null, retryAt: null, since: null, audio: false };
}

// Fixed delays; the others (unreachable, waking) back off from 1 s to 30 s.
const retryDelayMs: Partial<Record<PlayerState, number>> = { offline: 30000, privacy: 30000 };

export class LivePlayer {
  private ws: WebSocket | null = null;
  private mediaSource: MediaSource | null = null;
  private buffer: SourceBuffer | null = null;
  private queue: ArrayBuffer[] = [];
  private backoff = 1000;
  private retry: number | undefined;
  private stopped = false;
  private startedAt = 0;
  private status: PlayerStatus = initialStatus();

  private ended = false;
  private attempt = 0;
  private init: ArrayBuffer | null = null; // the current init segment
  private awaitingInit = false; // the next binary message is an init segment
  // Every media message (fragments) with the init segment it belongs to: for recording.
  onFragment: ((bytes: ArrayBuffer, init: ArrayBuffer | null) => void) | null = null;

  currentInit(): ArrayBuffer | null {
    return this.init;
  }

  // wake: called before every (re)connection, e.g. to ask a camera to start streaming; what
  // it answers decides whether to connect or what to show.
  // once: a stream with an end (a recording): when the server says it ended, the player
  // stays on the last picture instead of reconnecting.
  constructor(
    private readonly video: HTMLVideoElement,
    private readonly url: string,
    private readonly onStatus: (s: PlayerStatus) => void,
    private readonly wake?: () => Promise<WakeOutcome>,
    private readonly once = false,
  ) {}

  // Tries again now (a person pressed "Try again").
  retryNow(): void {
    if (this.stopped) return;
    window.clearTimeout(this.retry);
    this.backoff = 1000;
    this.connect();
  }

  start(): void {
    this.stopped = false;
    this.startedAt = performance.now();
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.retry);
    this.ws?.close();
    this.reset();
  }

  private update(patch: Partial<PlayerStatus>): void {
    this.status = { ...this.status, ...patch };
    this.onStatus(this.status);
  }

  private reset(): void {
    this.queue = [];
    this.buffer = null;
    if (this.mediaSource && this.mediaSource.readyState === 'open') {
      try {
        this.mediaSource.endOfStream();
      } catch {
        /* already ended */
      }
    }
    this.mediaSource = null;
  }

  private connect(): void {
    // One attempt at a time: a newer one (retryNow, a reconnection) makes older ones moot.
    const attempt = ++this.attempt;
    window.clearTimeout(this.retry);
    const old = this.ws;
    this.ws = null;
    old?.close();
    this.reset();
    this.update({ state: this.status.state === 'playing' ? 'connecting' : this.wake ? 'waking' : 'connecting', retryAt: null });
    if (this.wake) {
      this.wake()
        .catch((): WakeOutcome => ({ ok: false, state: 'unreachable' }))
        .then((outcome) => {
          if (this.stopped || attempt !== this.attempt) return;
          if (outcome.ok) this.open_socket();
          else this.settle(outcome.state, outcome.since ?? null);
        });
      return;
    }
    this.open_socket();
  }

  // Not playing, for a reason: show it, and try again when that can help.
  private settle(state: PlayerState, since: string | null = null): void {
    this.reset();
    if (state === 'revoked' || state === 'signed_out' || state === 'unsupported') {
      this.stopped = true;
      this.ws?.close();
      this.update({ state, latencyMs: null, retryAt: null, since });
      return;
    }
    let delay = retryDelayMs[state];
    if (delay === undefined) {
      delay = this.backoff;
      this.backoff = Math.min(this.backoff * 2, 30000);
    }
    this.update({ state, latencyMs: null, retryAt: Date.now() + delay, since });
    window.clearTimeout(this.retry);
    this.retry = window.setTimeout(() => this.connect(), delay);
  }

  private open_socket(): void {
    const ws = new WebSocket(this.url);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onmessage = (event) => {
      if (typeof event.data === 'string') {
        const message = JSON.parse(event.data);
        if (message.type === 'init') {
          this.awaitingInit = true;
          this.open(message.codec, message.width, message.height);
        }
        if (message.type === 'ended' && this.once) this.ended = true;
        return;
      }
      const bytes = event.data as ArrayBuffer;
      if (this.awaitingInit) {
        this.awaitingInit = false;
        this.init = bytes;
      } else {
        this.onFragment?.(bytes, this.init);
      }
      this.queue.push(bytes);
      this.pump();
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;  // an older socket
      if (this.ended) {
        // Played to the end: what is buffered plays out, then the last picture stays.
        this.stopped = true;
        this.update({ state: 'ended', latencyMs: null });
        return;
      }
      if (this.stopped) return this.reset();
      // 1008: the server ended this person's access (a revoked share, an unbind).
      if (event.code === 1008) return this.settle('revoked');
      // The stream stopped or the connection broke: ask again at once (the wake says why,
      // if it cannot go on). If it closes again before playing, back off (still waking:
      // the wake answered that the camera streams).
      if (this.wake && this.status.state === 'playing') {
        this.connect();
        return;
      }
      this.settle(this.wake ? 'waking' : 'offline');
    };
  }

  private open(codec: string, width: number, height: number): void {
    const type = `video/mp4; codecs="${codec}"`;
    if (!('MediaSource' in window) || !MediaSource.isTypeSupported(type)) {
      this.settle('unsupported');
      return;
    }
    // A second codec in the list is the camera's sound.
    this.update({ width, height, audio: codec.includes(',') });
    const ms = new MediaSource();
    this.mediaSource = ms;
    this.video.src = URL.createObjectURL(ms);
    ms.addEventListener('sourceopen', () => {
      URL.revokeObjectURL(this.video.src);
      const buffer = ms.addSourceBuffer(type);
      buffer.mode = 'segments';
      buffer.addEventListener('updateend', () => this.afterAppend());
      this.buffer = buffer;
      this.pump();
    });
    this.video.onplaying = () => {
      this.backoff = 1000;
      if (this.status.startupMs === null) this.update({ startupMs: Math.round(performance.now() - this.startedAt) });
      this.update({ state: 'playing', retryAt: null, since: null });
    };
  }

  private pump(): void {
    const buffer = this.buffer;
    if (!buffer || buffer.updating || this.queue.length === 0) return;
    try {
      buffer.appendBuffer(this.queue.shift()!);
    } catch {
      // The buffer is full or the source closed: start again cleanly.
      this.ws?.close();
    }
  }

  private afterAppend(): void {
    const buffer = this.buffer;
    const video = this.video;
    if (!buffer || buffer.buffered.length === 0) return this.pump();
    const end = buffer.buffered.end(buffer.buffered.length - 1);
    // The stream's timeline does not start at zero for a viewer who joins later: begin at
    // the first thing buffered (a keyframe).
    if (video.currentTime < buffer.buffered.start(0)) video.currentTime = buffer.buffered.start(0);
    // Stay near the live edge: jump forward when more than 1.5 s behind (a recording plays
    // every frame instead).
    if (!this.once && end - video.currentTime > 1.5) video.currentTime = Math.max(end - 0.3, 0);
    this.update({ latencyMs: Math.max(0, Math.round((end - video.currentTime) * 1000)) });
    if (video.paused) void video.play().catch(() => undefined);
    // Keep about 20 s behind the play position; remove older media.
    const start = buffer.buffered.start(0);
    if (!buffer.updating && video.currentTime - start > 30) {
      buffer.remove(start, video.currentTime - 20);
      return;
    }
    this.pump();
  }
}
