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

let onUnauthenticated: (() => void) | null = null;

/** Registers what to do when the session is gone (go to sign-in). */
export function setUnauthenticatedHandler(fn: (() => void) | null) {
  onUnauthenticated = fn;
}

/**
 * Calls the API. The body goes as JSON, unless contentType is given: then a
 * string body is sent as it is (e.g. a CSV file as text/csv).
 */
export async function request<T>(
  path: string,
  init?: { method?: string; body?: unknown; contentType?: string; headers?: Record<string, string> },
): Promise<T> {
  const raw = init?.contentType !== undefined;
  const res = await fetch(path, {
    method: init?.method ?? 'GET',
    headers:
      init?.body !== undefined || init?.headers
        ? { ...(init?.body !== undefined ? { 'Content-Type': init.contentType ?? 'application/json' } : {}), ...init?.headers }
        : undefined,
    body: init?.body !== undefined ? (raw ? String(init.body) : JSON.stringify(init.body)) : undefined,
    credentials: 'same-origin',
  });
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
    if (res.status === 401 && e.code === 'unauthenticated' && onUnauthenticated) onUnauthenticated();
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
