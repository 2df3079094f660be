// Two-way talk from the browser: the microphone (with the browser's echo cancellation, noise
// suppression and gain control), low-passed and taken down to 8 kHz G.711 µ-law in an
// AudioWorklet (public/talk-worklet.js), sent in 20 ms frames over the talk WebSocket
// (docs/openapi.yaml, /devices/{id}/talk). Nothing is recorded: samples go to the socket
// and nowhere else, and the microphone is released the moment talking stops.

export type TalkState =
  | { kind: 'connecting' }
  | { kind: 'ready' } // the line is ours; the camera is being asked to listen
  | { kind: 'listening' } // the camera plays what is said
  | { kind: 'busy'; holder: string | null; holderIsOwner: boolean }
  | { kind: 'ended'; reason: string } // taken | camera | ended | access_revoked | closed
  | { kind: 'denied' } // no microphone, or permission refused
  | { kind: 'refused'; status: string }; // the server would not open the line

export interface TalkHandlers {
  state: (s: TalkState) => void;
  level: (rms: number) => void; // 0–1, about 50 times a second
}

export class TalkSession {
  private socket: WebSocket | null = null;
  private context: AudioContext | null = null;
  private stream: MediaStream | null = null;
  private stopped = false;
  private sendable = false;

  constructor(private readonly deviceId: string, private readonly handlers: TalkHandlers) {}

  async start(take = false): Promise<void> {
    this.handlers.state({ kind: 'connecting' });
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
      });
    } catch {
      this.handlers.state({ kind: 'denied' });
      this.stop();
      return;
    }
    if (this.stopped) return this.stop();
    const context = new AudioContext({ latencyHint: 'interactive' });
    this.context = context;
    await context.audioWorklet.addModule('/talk-worklet.js');
    if (this.stopped) return this.stop();
    const source = context.createMediaStreamSource(this.stream);
    // Nothing above what 8 kHz can carry reaches the encoder (it would fold back as noise).
    const lowpass = new BiquadFilterNode(context, { type: 'lowpass', frequency: 3400, Q: 0.7 });
    const encoder = new AudioWorkletNode(context, 'nj-talk', { numberOfInputs: 1, numberOfOutputs: 0 });
    source.connect(lowpass).connect(encoder);
    encoder.port.onmessage = (e: MessageEvent<{ frame: Uint8Array<ArrayBuffer>; level: number }>) => {
      this.handlers.level(Math.min(1, e.data.level * 4));
      if (this.sendable && this.socket?.readyState === WebSocket.OPEN && this.socket.bufferedAmount < 16000) {
        this.socket.send(e.data.frame);
      }
    };

    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const url = `${scheme}//${location.host}/api/v1/devices/${encodeURIComponent(this.deviceId)}/talk${take ? '?take=1' : ''}`;
    const socket = new WebSocket(url);
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    let told = false;
    socket.onmessage = (e) => {
      if (typeof e.data !== 'string') return;
      const m = JSON.parse(e.data) as { type: string; reason?: string; holder?: string | null; holder_is_owner?: boolean };
      if (m.type === 'ready') {
        this.sendable = true;
        this.handlers.state({ kind: 'ready' });
      } else if (m.type === 'listening') {
        this.handlers.state({ kind: 'listening' });
      } else if (m.type === 'busy') {
        told = true;
        this.handlers.state({ kind: 'busy', holder: m.holder ?? null, holderIsOwner: !!m.holder_is_owner });
        this.stop();
      } else if (m.type === 'ended') {
        told = true;
        this.handlers.state({ kind: 'ended', reason: m.reason ?? 'ended' });
        this.stop();
      }
    };
    socket.onclose = (e) => {
      if (!told && !this.stopped) {
        // Refused at the upgrade (privacy mode, offline, not allowed): the browser only says
        // 1006; ask the server why with a plain request.
        this.handlers.state(e.code === 1006 ? { kind: 'refused', status: 'unavailable' } : { kind: 'ended', reason: 'closed' });
      }
      this.stop();
    };
  }

  // Hangs up and releases the microphone at once.
  stop(): void {
    if (this.stopped && !this.socket && !this.stream) return;
    this.stopped = true;
    this.sendable = false;
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify({ type: 'hangup' }));
      this.socket.close(1000);
    } else if (this.socket && this.socket.readyState === WebSocket.CONNECTING) {
      this.socket.close();
    }
    this.socket = null;
    this.stream?.getTracks().forEach((t) => t.stop());
    this.stream = null;
    void this.context?.close();
    this.context = null;
  }
}
