// Uncaught errors go to our own server (POST /api/v1/client-errors), never to a third
// party; a few per page load at most.
let budget = 5;

function report(message: string, source: string, stack: string): void {
  if (budget <= 0) return;
  budget -= 1;
  void fetch('/api/v1/client-errors', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      message: message.slice(0, 2000),
      source: source.slice(0, 500),
      stack: stack.slice(0, 8000),
    }),
  }).catch(() => undefined);
}

export function installErrorReporting(): void {
  window.addEventListener('error', (event) => {
    report(String(event.message), `${event.filename}:${event.lineno}:${event.colno}`, event.error?.stack ?? '');
  });
  window.addEventListener('unhandledrejection', (event) => {
    const reason = event.reason;
    report(reason instanceof Error ? reason.message : String(reason), 'unhandledrejection', reason?.stack ?? '');
  });
}
