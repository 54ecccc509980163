/**
 * The dashboard's access to the service: the public HTTP API only (API.md), with the contract's
 * error bodies turned into readable messages.
 */

/** A failed read: the HTTP status and the contract's error code and message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/**
 * GETs a JSON body, or throws an ApiError with the service's message.
 *
 * @example
 * const { boards } = await getJson('/v1/boards');
 */
export async function getJson(path) {
  const res = await fetch(path, { headers: { Accept: 'application/json' } });
  const body = await res.json().catch(() => undefined);
  if (!res.ok) {
    const error = body?.error ?? {};
    throw new ApiError(
      res.status,
      error.code ?? 'http-error',
      error.message ?? `${path} answered ${res.status}`,
    );
  }
  return body;
}

/**
 * The query string of a read of one window instance: `window`, `at` when set, and extras.
 *
 * @example
 * windowQuery({ window: 'day', at: 1763900000000 }, { k: 100 }); // 'window=day&at=1763900000000&k=100'
 */
export function windowQuery(view, extra = {}) {
  const params = new URLSearchParams({ window: view.window });
  if (view.at !== undefined) params.set('at', String(view.at));
  for (const [name, value] of Object.entries(extra)) params.set(name, String(value));
  return params.toString();
}

/** `/v1/boards/<board>` and the encoded rest of a path. */
export function boardPath(board, ...rest) {
  return ['/v1/boards', board, ...rest]
    .map((part, i) => (i === 0 ? part : encodeURIComponent(part)))
    .join('/');
}

/** A user's display name: the profile's name when they have one, else the id. */
export function displayName(entry) {
  return entry.profile?.name ?? entry.userId;
}

/** "3 s ago", "4 min ago", from an epoch ms. */
export function ago(at, now = Date.now()) {
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}
