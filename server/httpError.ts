/**
 * The one HTTP error type: a status, a kebab-case code and a message a person can act on, always
 * answered as `{"error": {"code", "message"}}` (API.md).
 */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.headers = headers;
  }

  toJSON() {
    return { error: { code: this.code, message: this.message } };
  }
}

/** A dependency (Redis, the database) is down: 503 with Retry-After. */
export function unavailable(what: string, retryAfterSeconds = 1): HttpError {
  return new HttpError(503, 'unavailable', `${what} is unavailable; retry shortly`, {
    'Retry-After': String(retryAfterSeconds),
  });
}

/** An error that is not the client's fault: 500, and the cause goes to the log, not the client. */
export function internalError(): HttpError {
  return new HttpError(500, 'internal', 'an unexpected error occurred; it was logged');
}

const REDIS_AWAY =
  /Command timed out|Connection is closed|ECONNREFUSED|ECONNRESET|EPIPE|Stream isn't writeable|max retries|CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|READONLY|Failed to refresh slots cache|^(MOVED|ASK) \d+ /i;

/**
 * Whether an error says Redis (or the one shard a read needs) cannot answer now: the read gets
 * 503 with Retry-After, within the connection's command timeout, not a 500 or a hang. A cluster's
 * `MOVED` or `ASK` that reaches a route is one of these: ioredis hands it on when it resent a
 * command whose node had gone to another node (which redirects to the slot's master, down), or
 * inside an auto-pipeline that also held a script's success (a slot being resharded).
 *
 * @example
 * if (isRedisUnavailable(error)) return unavailable('a Redis shard');
 */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    error.name === 'ClusterAllFailedError' ||
    REDIS_AWAY.test(error.message)
  );
}
