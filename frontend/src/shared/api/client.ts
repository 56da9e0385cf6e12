// The portal's HTTP client: one fetch wrapper for every call to the API,
// and the error type a refused call throws (its code, message and request
// id). The endpoints themselves are typed functions in endpoints.ts.

/** One invalid field of a form: its name as sent, a stable code and a message. */
export interface FieldError {
  field: string;
  code: string;
  message: string;
}

/** An error the API returned: its code, message and request id (and, for a form, its invalid fields). */
export class ApiError extends Error {
  status: number;
  code: string;
  requestId: string;
  fields: FieldError[];
  constructor(status: number, code: string, message: string, requestId: string, fields: FieldError[] = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
    this.fields = fields;
  }
}

/** The code of an ApiError thrown when the server could not be reached at all. */
export const UNREACHABLE = 'unreachable';

/** Whether an error means the server could not be reached (not a refusal). */
export const isUnreachable = (e: unknown) => e instanceof ApiError && e.code === UNREACHABLE;

let onUnauthenticated: (() => void) | null = null;

/** Registers what to do when the session is gone and cannot be renewed (go to sign-in). */
export function setUnauthenticatedHandler(fn: (() => void) | null) {
  onUnauthenticated = fn;
}

let reauthenticate: (() => Promise<boolean>) | null = null;
let pendingReauth: Promise<boolean> | null = null;

/**
 * Registers how to renew an expired session without leaving the page (a
 * sign-in dialog over it): it resolves true once signed in again, false if
 * the person gave up. Calls refused meanwhile wait for it and are retried,
 * so what was typed on the page survives.
 */
export function setReauthenticateHandler(fn: (() => Promise<boolean>) | null) {
  reauthenticate = fn;
}

// ---- whether the server can be reached (one state for the whole page) ----

let unreachable = false;
const listeners = new Set<() => void>();

function setReachable(ok: boolean) {
  if (unreachable === !ok) return;
  unreachable = !ok;
  listeners.forEach((l) => l());
}

/** For useSyncExternalStore: whether the last call failed to reach the server. */
export const connection = {
  subscribe(fn: () => void) {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
  unreachable: () => unreachable,
};

// Calls whose 401 means "not signed in" rather than "the session ended".
const AUTH_PATHS = /^\/api\/auth\/(login|logout)/;

/**
 * Calls the API. The body goes as JSON, unless contentType is given: then a
 * string body is sent as it is (e.g. a CSV file as text/csv).
 *
 * A call that cannot reach the server throws an ApiError with code
 * UNREACHABLE (and the page says so, see connection). A call refused because
 * the session ended waits for the sign-in dialog and is sent again.
 */
export async function request<T>(
  path: string,
  init?: { method?: string; body?: unknown; contentType?: string; headers?: Record<string, string> },
): Promise<T> {
  const raw = init?.contentType !== undefined;
  let res: Response;
  try {
    res = await fetch(path, {
      method: init?.method ?? 'GET',
      headers:
        init?.body !== undefined || init?.headers
          ? { ...(init?.body !== undefined ? { 'Content-Type': init.contentType ?? 'application/json' } : {}), ...init?.headers }
          : undefined,
      body: init?.body !== undefined ? (raw ? String(init.body) : JSON.stringify(init.body)) : undefined,
      credentials: 'same-origin',
    });
  } catch {
    // fetch rejects only when no answer came: the network or the server is down.
    setReachable(false);
    throw new ApiError(0, UNREACHABLE, "Can't reach Marketgate. Check the connection; the page tries again by itself.", '');
  }
  setReachable(true);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string; request_id?: string; fields?: FieldError[] } } | null)?.error;
    const e = new ApiError(
      res.status,
      err?.code ?? 'http_' + res.status,
      err?.message ?? `The server answered ${res.status}.`,
      err?.request_id ?? res.headers.get('X-Request-Id') ?? '',
      Array.isArray(err?.fields) ? err.fields : [],
    );
    if (res.status === 401 && (e.code === 'unauthenticated' || e.code === 'session_expired')) {
      if (reauthenticate && !AUTH_PATHS.test(path)) {
        // One dialog for every call refused meanwhile.
        pendingReauth ??= reauthenticate().finally(() => (pendingReauth = null));
        if (await pendingReauth) return request<T>(path, init);
      }
      onUnauthenticated?.();
    }
    throw e;
  }
  return data as T;
}

/** Builds a query string from the non-empty values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? '?' + s : '';
}
