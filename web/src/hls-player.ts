// Live video over LL-HLS with hls.js, for networks where a WebSocket cannot pass (some
// proxies) and as the standard route. Loaded on demand, so the WebSocket player's pages do
// not carry it. Same status reports as LivePlayer.
import { initialStatus, type PlayerStatus } from './player';

// The light build: no subtitles, alternate audio or DRM, none of which a camera needs.
type HlsModule = typeof import('hls.js/light');

export class HlsLivePlayer {
  private hls: InstanceType<HlsModule['default']> | null = null;
  private stopped = false;
  private startedAt = 0;
  private timer: number | undefined;
  private status: PlayerStatus = initialStatus();

  constructor(
    private readonly video: HTMLVideoElement,
    private readonly url: string,
    private readonly onStatus: (s: PlayerStatus) => void,
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    this.startedAt = performance.now();
    const { default: Hls } = await import('hls.js/light');
    if (this.stopped) return;
    if (!Hls.isSupported()) {
      this.update({ state: 'unsupported' });
      return;
    }
    // No worker: the page's CSP allows scripts from 'self' only, not blob: workers.
    const hls = new Hls({ lowLatencyMode: true, enableWorker: false, liveSyncDurationCount: 1 });
    this.hls = hls;
    hls.on(Hls.Events.ERROR, (_event, data) => {
      if (data.fatal) {
        this.update({ state: 'offline', latencyMs: null });
        hls.destroy();
        this.hls = null;
        if (!this.stopped) this.timer = window.setTimeout(() => void this.start(), 2000);
      }
    });
    this.video.onplaying = () => {
      if (this.status.startupMs === null) this.update({ startupMs: Math.round(performance.now() - this.startedAt) });
      this.update({ state: 'playing', width: this.video.videoWidth, height: this.video.videoHeight });
    };
    this.video.ontimeupdate = () => {
      if (hls.latency > 0) this.update({ latencyMs: Math.round(hls.latency * 1000) });
    };
    hls.loadSource(this.url);
    hls.attachMedia(this.video);
    void this.video.play().catch(() => undefined);
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
    this.hls?.destroy();
    this.hls = null;
  }

  private update(patch: Partial<PlayerStatus>): void {
    this.status = { ...this.status, ...patch };
    this.onStatus(this.status);
  }
}
