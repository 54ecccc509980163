/**
 * One autocannon run for the benchmark groups: a request (with optional per-request paths and
 * bodies) from `connections` connections for `seconds`, where every answer must be 2xx (or the
 * one status the caller expects); anything else fails the run.
 */
import autocannon from 'autocannon';

export interface CannonRequest {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  /** The body of the n-th request. */
  bodies?: (n: number) => string;
  /** The path of the n-th request. */
  paths?: (n: number) => string;
}

export interface CannonResult {
  /** Answers with the expected status. */
  answered: number;
  /** The run's length as autocannon measured it. */
  seconds: number;
  rps: number;
  /** Latency p99, ms. */
  p99: number;
}

/**
 * @example
 * const { rps } = await cannon(url, 4, 64, { method: 'GET', path: '/v1/boards/global/top' });
 */
export async function cannon(
  url: string,
  seconds: number,
  connections: number,
  request: CannonRequest,
  options: { expectStatus?: number } = {},
): Promise<CannonResult> {
  const { expectStatus } = options;
  let n = 0;
  let unexpected = 0;
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    requests: [
      {
        method: request.method,
        path: request.path,
        headers: request.headers,
        setupRequest: (req) => {
          const i = n++;
          const next: autocannon.Request = { ...req };
          if (request.bodies) next.body = request.bodies(i);
          if (request.paths) next.path = request.paths(i);
          return next;
        },
        onResponse: (code) => {
          if (expectStatus !== undefined && code !== expectStatus) unexpected++;
        },
      },
    ],
  });
  const refused = expectStatus === undefined ? result.non2xx : unexpected;
  if (refused > 0 || result.errors > 0 || result.timeouts > 0) {
    throw new Error(
      `${request.method} ${request.path} on ${url}: ${refused} answers other than ${expectStatus ?? '2xx'} ` +
        `(${JSON.stringify(result.statusCodeStats)}), ${result.errors} errors, ${result.timeouts} timeouts`,
    );
  }
  const answered =
    expectStatus === undefined
      ? result['2xx']
      : Object.values(result.statusCodeStats ?? {}).reduce((sum, s) => sum + (s.count ?? 0), 0);
  return { answered, seconds: result.duration, rps: answered / result.duration, p99: result.latency.p99 };
}
