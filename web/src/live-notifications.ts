// The in-app channel in a tab: while signed in, one WebSocket to /api/v1/notifications. Each
// notification becomes a toast in the page, and, when the person allowed it in the browser and
// the tab is hidden, a system notification. The server sends nothing without the person's
// consent to in-app notifications; a closed session (1008) ends it; otherwise it reconnects,
// waiting longer each time.
import { useEffect, useState } from 'preact/hooks';
import { navigate } from './router';

export interface LiveNotification {
  id: string;
  event_id: string;
  device_id: string;
  device_name: string;
  kind: string;
  at: string;
  grouped: number;
  snapshot: string;
}

// Told when the list of events changed (new ones, or read), so the badge follows at once.
export const eventsChanged = 'nightjar:events-read';

export function useLiveNotifications(
  enabled: boolean,
  describe: (n: LiveNotification) => { title: string; body: string },
): { toasts: LiveNotification[]; dismiss: (id: string) => void } {
  const [toasts, setToasts] = useState<LiveNotification[]>([]);
  const dismiss = (id: string) => setToasts((all) => all.filter((t) => t.id !== id));
  useEffect(() => {
    if (!enabled) return;
    let socket: WebSocket | null = null;
    let stopped = false;
    let delay = 1000;
    let timer: number | undefined;
    const connect = () => {
      const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
      socket = new WebSocket(`${scheme}://${location.host}/api/v1/notifications`);
      socket.onopen = () => (delay = 1000);
      socket.onmessage = (m) => {
        let n: LiveNotification & { type: string };
        try {
          n = JSON.parse(String(m.data));
        } catch {
          return;
        }
        if (n.type !== 'event') return;
        setToasts((all) => [n, ...all].slice(0, 3));
        window.setTimeout(() => dismiss(n.id), 10_000);
        window.dispatchEvent(new Event(eventsChanged));
        if (document.hidden && typeof Notification !== 'undefined' && Notification.permission === 'granted') {
          const { title, body } = describe(n);
          const shown = new Notification(title, { body, tag: n.event_id });
          shown.onclick = () => {
            window.focus();
            navigate('/events');
          };
        }
      };
      socket.onclose = (e) => {
        if (stopped || e.code === 1008) return;  // the session ended: nothing more to hear
        timer = window.setTimeout(connect, delay);
        delay = Math.min(delay * 2, 30_000);
      };
    };
    connect();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      socket?.close();
    };
  }, [enabled]);
  return { toasts, dismiss };
}
