/**
 * Where to go after signing in: a path on this site, else the dashboard.
 * The same rule as the server's SafeNext: no scheme or host, no "//", no
 * control characters or backslashes, also once percent-decoded.
 */
export function safeNext(next: string | null): string {
  if (!next || next.length > 2048 || !next.startsWith('/')) return '/';
  // eslint-disable-next-line no-control-regex
  const unsafe = /[\u0000-\u001f\u007f-\u009f\\]/;
  let decoded: string;
  try {
    decoded = decodeURIComponent(next);
  } catch {
    return '/';
  }
  if (unsafe.test(next) || unsafe.test(decoded) || next.startsWith('//') || decoded.startsWith('//')) return '/';
  const u = new URL(next, 'http://this.site');
  if (u.origin !== 'http://this.site') return '/';
  return u.pathname + u.search + u.hash;
}
