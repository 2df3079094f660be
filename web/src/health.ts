// The server's health, live: a WebSocket to /api/v1/health/live asked every 2 s, with the
// round trip measured; reconnects with backoff, and falls back to GET /healthz meanwhile.
import { useEffect, useState } from 'preact/hooks';

export interface Health {
  status: 'ok' | 'degraded';
  version: string;
  instance: string;
  uptime_seconds: number;
  time: string;
  database: { ok: boolean; schema_version?: number; error?: string };
}

export interface HealthState {
  health: Health | null;
  live: boolean;
  unreachable: boolean;
  roundTripMs: number | null;
  checkedAt: Date | null;
}

const pollMs = 2000;

export function useHealth(): HealthState {
  const [state, setState] = useState<HealthState>({
    health: null,
    live: false,
    unreachable: false,
    roundTripMs: null,
    checkedAt: null,
  });

  useEffect(() => {
    let socket: WebSocket | null = null;
    let pollTimer: number | undefined;
    let retryTimer: number | undefined;
    let backoff = 1000;
    let sentAt = 0;
    let stopped = false;

    const fetchOnce = async () => {
      try {
        const response = await fetch('/healthz', { cache: 'no-store' });
        const health = (await response.json()) as Health;
        setState((s) => ({ ...s, health, unreachable: false, checkedAt: new Date() }));
      } catch {
        setState((s) => ({ ...s, unreachable: true, live: false }));
      }
    };

    const connect = () => {
      const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
      socket = new WebSocket(`${scheme}//${location.host}/api/v1/health/live`);
      socket.onopen = () => {
        backoff = 1000;
        sentAt = performance.now();
        pollTimer = window.setInterval(() => {
          sentAt = performance.now();
          socket?.send(JSON.stringify({ type: 'health' }));
        }, pollMs);
      };
      socket.onmessage = (event) => {
        const message = JSON.parse(String(event.data));
        if (message.type !== 'health') return;
        const roundTripMs = Math.max(0, Math.round(performance.now() - sentAt));
        setState({ health: message as Health, live: true, unreachable: false, roundTripMs, checkedAt: new Date() });
      };
      socket.onclose = () => {
        window.clearInterval(pollTimer);
        if (stopped) return;
        setState((s) => ({ ...s, live: false }));
        void fetchOnce();
        retryTimer = window.setTimeout(connect, backoff);
        backoff = Math.min(backoff * 2, 10000);
      };
    };

    void fetchOnce();
    connect();
    return () => {
      stopped = true;
      window.clearInterval(pollTimer);
      window.clearTimeout(retryTimer);
      socket?.close();
    };
  }, []);

  return state;
}
