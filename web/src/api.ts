// Talking to our own server: JSON in and out, the session cookie sent automatically, and
// the CSRF token (from the nj_csrf cookie) echoed on every write.
export interface ApiError {
  code: string;
  message: string;
  field?: string;
  retryAfter?: number; // seconds, when the server said when to try again
}

export type ApiResult<T> = { ok: true; status: number; data: T } | { ok: false; status: number; error: ApiError };

function csrfToken(): string {
  const match = document.cookie.match(/(?:^|;\s*)nj_csrf=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : '';
}

export async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<ApiResult<T>> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken();
  let response: Response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    return { ok: false, status: 0, error: { code: 'network', message: 'network error' } };
  }
  const text = await response.text();
  let parsed: { error?: ApiError } & Record<string, unknown> = {};
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    // Not our JSON (a proxy's error page): the server side is not answering properly.
    if (response.ok) return { ok: false, status: 0, error: { code: 'network', message: 'bad answer' } };
  }
  if (response.ok) return { ok: true, status: response.status, data: parsed as T };
  const error: ApiError = { ...(parsed.error ?? { code: response.status >= 500 ? 'network' : 'unknown', message: '' }) };
  const wait = Number(response.headers.get('Retry-After'));
  if (wait > 0) error.retryAfter = wait;
  return { ok: false, status: response.status, error };
}
