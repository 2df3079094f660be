// Live video in the browser: fMP4 over a WebSocket into Media Source Extensions. Keeps
// close to the live edge, trims what was played, reconnects with backoff, and reports its
// state and latency.
export type PlayerState = 'connecting' | 'playing' | 'offline' | 'unsupported' | 'ended';

export interface PlayerStatus {
  state: PlayerState;
  latencyMs: number | null;
  width: number;
  height: number;
  startupMs: number | null; // from start() to the first frame shown
}

export class LivePlayer {
  private ws: WebSocket | null = null;
  private mediaSource: MediaSource | null = null;
  private buffer: SourceBuffer | null = null;
  private queue: ArrayBuffer[] = [];
  private backoff = 1000;
  private retry: number | undefined;
  private stopped = false;
  private startedAt = 0;
  private status: PlayerStatus = { state: 'connecting', latencyMs: null, width: 0, height: 0, startupMs: null };

  private ended = false;

  // wake: called before every (re)connection, e.g. to ask a camera to start streaming.
  // once: a stream with an end (a recording): when the server says it ended, the player
  // stays on the last picture instead of reconnecting.
  constructor(
    private readonly video: HTMLVideoElement,
    private readonly url: string,
    private readonly onStatus: (s: PlayerStatus) => void,
    private readonly wake?: () => Promise<void>,
    private readonly once = false,
  ) {}

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
    this.update({ state: 'connecting' });
    if (this.wake) {
      this.wake()
        .catch(() => undefined)
        .then(() => {
          if (!this.stopped) this.open_socket();
        });
      return;
    }
    this.open_socket();
  }

  private open_socket(): void {
    const ws = new WebSocket(this.url);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onmessage = (event) => {
      if (typeof event.data === 'string') {
        const message = JSON.parse(event.data);
        if (message.type === 'init') this.open(message.codec, message.width, message.height);
        if (message.type === 'ended' && this.once) this.ended = true;
        return;
      }
      this.queue.push(event.data as ArrayBuffer);
      this.pump();
    };
    ws.onclose = () => {
      if (this.ended) {
        // Played to the end: what is buffered plays out, then the last picture stays.
        this.stopped = true;
        this.update({ state: 'ended', latencyMs: null });
        return;
      }
      this.reset();
      if (this.stopped) return;
      this.update({ state: 'offline', latencyMs: null });
      this.retry = window.setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 10000);
    };
  }

  private open(codec: string, width: number, height: number): void {
    const type = `video/mp4; codecs="${codec}"`;
    if (!('MediaSource' in window) || !MediaSource.isTypeSupported(type)) {
      this.update({ state: 'unsupported' });
      this.ws?.close();
      this.stopped = true;
      return;
    }
    this.update({ width, height });
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
      this.update({ state: 'playing' });
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
