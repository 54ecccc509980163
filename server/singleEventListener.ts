/**
 * `POST /v1/boards/:board/events` served from Node's request, in front of the Hono app: the
 * single-event ingest is the service's hottest request, and Hono's request and response objects,
 * context and routing cost about as much CPU again as the route's own work (`npm run bench`,
 * `ingest.singleRps` against `ingest.honoSingleRps`).
 *
 * It takes only a request whose answer can come from the route's own code alone: a POST to that
 * path with a known board, an `Authorization` header holding a key with the ingest scope, a JSON
 * `Content-Type`, a `Content-Length` within 64 KiB, and a token in the key's rate-limit bucket.
 * Any other request (a missing or bad key, an unknown board, a refused header, an empty bucket, a
 * chunked body, a percent-encoded path) is left to the Hono app, which answers it as before; none
 * of those checks reads the body or changes anything. A taken request is answered by the Hono
 * route's code: `parseJson`, `acceptSingle` (validation, backpressure, the append), and the app's
 * error bodies. `test/server/singleEventListener.test.ts` sends the same requests through both.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { findKey } from './auth/apiKeys.js';
import { bearerSecret } from './auth/index.js';
import { HttpError, internalError } from './httpError.js';
import { nodeHeader, readIncoming } from './nodeRequest.js';
import { jsonHeadersRefusal, parseJson, SMALL_BODY } from './routes/http.js';
import { ACCEPTED_ONE, acceptSingle, SINGLE_EVENT_ROUTE } from './routes/ingest.js';
import type { Services } from './services.js';

/** Takes the request and answers it (true), or leaves it untouched for the next listener (false). */
export type NodeListener = (req: IncomingMessage, res: ServerResponse) => boolean;

/** The path of the route; a board id is `^[a-z0-9][a-z0-9_-]{0,63}$`, so never percent-encoded. */
const PATH = /^\/v1\/boards\/([a-z0-9][a-z0-9_-]{0,63})\/events(?:\?|$)/;

const ACCEPTED_BODY = JSON.stringify(ACCEPTED_ONE);

/**
 * @example
 * const single = singleEventListener(services);
 * createServer((req, res) => single(req, res) || honoListener(req, res));
 */
export function singleEventListener(
  services: Services,
  onServerError: (error: unknown) => void = () => {},
): NodeListener {
  const { keys, boards, rateLimiter, metrics } = services;
  const answer = (
    res: ServerResponse,
    status: number,
    body: string,
    headers: Record<string, string> = {},
  ) => {
    res.writeHead(status, {
      ...headers,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
    metrics.requests.inc({ route: SINGLE_EVENT_ROUTE, status: String(status) });
  };
  const fail = (res: ServerResponse, error: unknown) => {
    if (res.headersSent || res.destroyed) return;
    if (error instanceof HttpError) {
      answer(res, error.status, JSON.stringify(error.toJSON()), error.headers);
      return;
    }
    onServerError(error);
    const internal = internalError();
    answer(res, internal.status, JSON.stringify(internal.toJSON()));
  };

  return (req, res) => {
    if (req.method !== 'POST') return false;
    const path = PATH.exec(req.url ?? '');
    const board = path ? boards.get(path[1]!) : undefined;
    if (!board) return false;
    const authorization = req.headers.authorization;
    const secret = authorization === undefined ? undefined : bearerSecret(authorization);
    const key = secret === undefined ? undefined : findKey(keys, secret);
    if (!key?.scopes.has('ingest')) return false;
    if (req.headers['content-length'] === undefined) return false;
    if (jsonHeadersRefusal((name) => nodeHeader(req, name), SMALL_BODY)) return false;
    if (!rateLimiter.tryTake(key.id)) return false;
    readIncoming(req, SMALL_BODY)
      .then((text) => acceptSingle(services, board, parseJson(text, SMALL_BODY)))
      .then(
        () => answer(res, 202, ACCEPTED_BODY),
        (error: unknown) => fail(res, error),
      );
    return true;
  };
}
