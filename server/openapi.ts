/**
 * The OpenAPI description the server serves at /openapi.json (and renders at /docs). Its schemas
 * are generated from the API's zod schemas (`apiSchemas.ts`: the routes' own request validation,
 * and the answers), its query parameters from `QUERY_PARAMS`; the paths and their prose are here.
 */
import { z } from 'zod';
import { apiRegistry } from './apiSchemas.js';
import { LARGE_BODY, MAX_JSON_DEPTH, SMALL_BODY } from './routes/http.js';
import { ID_RULE, MAX_BOARDS_PAGE, QUERY_PARAMS } from './validation.js';

const error = { $ref: '#/components/schemas/Error' };
const errors = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((code) => [
      String(code),
      { description: 'error', content: { 'application/json': { schema: error } } },
    ]),
  );
const json = (schema: object, description = 'OK') => ({
  description,
  content: { 'application/json': { schema } },
});
const query = (name: string, description: string, schema: object = { type: 'string' }) => ({
  name,
  in: 'query',
  description,
  schema,
});
const path = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } });
const windowParam = query(
  'window',
  'one of the board’s windows: all, hour, day, week, month or an ISO-8601 duration such as PT6H (any spelling of it: PT360M); default all, or the board’s first window',
  { type: 'string' },
);
const body = (schema: object, limit = SMALL_BODY) => ({
  required: true,
  description: `JSON, at most ${limit.label} (413 past it), nesting at most ${MAX_JSON_DEPTH} levels and holding at most ${limit.maxValues} values and object members (400 json-too-deep, json-too-many-values).`,
  content: { 'application/json': { schema } },
});

const userPath = {
  name: 'userId',
  in: 'path',
  required: true,
  schema: { type: 'string', minLength: 1, maxLength: 128, description: ID_RULE },
};

const LIMITS = [
  `Limits. Bodies: ${SMALL_BODY.label} for single objects (an event, a board, a profile), ${LARGE_BODY.label} for batches and friend lists (413 past them); JSON nesting at most ${MAX_JSON_DEPTH} levels, at most ${SMALL_BODY.maxValues} (single objects) or ${LARGE_BODY.maxValues} (batches, friend lists) values, checked before parsing (400).`,
  'Rate limits: per key (RATE_LIMIT_RPS, default 20,000/s) and, for requests without a key, per client address (ANONYMOUS_RATE_LIMIT_RPS, default 200/s, a burst of 2 s worth; an IPv6 client counts by its /64): 429 rate-limited with Retry-After.',
  'Connections: at most MAX_CONNECTIONS_PER_CLIENT (default 256) per client address and MAX_CONNECTIONS in total (default: what fits under the process open-file limit); a connection over a cap is answered 503 (too-many-connections, server-busy) with Retry-After: 1 and closed as it is accepted, before any request is read; past the total and a small slack it is closed unanswered. Behind a load balancer, set TRUSTED_PROXIES: the rightmost X-Forwarded-For hop that is not a trusted proxy is the client.',
  "Timeouts: a request's headers must arrive within HEADERS_TIMEOUT_MS (default 10 s; also how long a new connection may stay silent) and the whole request within REQUEST_TIMEOUT_MS (default 30 s), else 408 request-timeout and the connection closes; an idle keep-alive connection closes after KEEP_ALIVE_TIMEOUT_MS (5 s), one without traffic either way after SOCKET_IDLE_TIMEOUT_MS (60 s). Headers over 16 KiB: 431.",
  'Live streams: at most MAX_LIVE_STREAMS_PER_CLIENT (default 32) per client address (429 too-many-streams) and MAX_LIVE_STREAMS (default 1,000) in total (503 server-busy), both with Retry-After: 5. A stream holds only the newest update its client has not read; a client that leaves an update unread for LIVE_STALL_MS (10 s) is disconnected (reconnect and read faster).',
].join(' ');

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** The components, generated from the API's zod schemas (`apiSchemas.ts`). */
const schemas = (() => {
  const generated = z.toJSONSchema(apiRegistry, {
    io: 'input',
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  }).schemas as Record<string, Record<string, unknown>>;
  for (const schema of Object.values(generated)) delete schema.$schema;
  return generated;
})();

const integerQuery = (name: keyof typeof QUERY_PARAMS) =>
  query(name, QUERY_PARAMS[name].description, {
    type: 'integer',
    minimum: QUERY_PARAMS[name].min,
    maximum: QUERY_PARAMS[name].max,
  });
const atParam = integerQuery('at');
const windowReads = [path('board'), windowParam, atParam];

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Real-time leaderboard',
    version: '0.2.0',
    description: `Score events in, boards out. Ranks are competition ranks (1, 2, 2, 4) on boards with the tie rule shared (the default): equal scores are listed by user id bytes, descending on desc boards and ascending on asc boards; on boards with the tie rule first, equal scores are ranked by who reached them first (the event time of the event that set each score, then user id bytes), and ranks are unique. Send an eventId to make retries safe: a repeat within 24 hours for the same board and user counts once. A board's windows: all, hour, day, week (ISO, from Monday), month, in the board's time zone (timeZone, IANA; daylight-saving days included), and tumbling windows of any ISO-8601 duration from PT1M to P366D aligned to the Unix epoch (PT6H, P3D). A hidden user (admin) is left out of every read of the board while their events keep counting. User ids and eventIds: ${ID_RULE} ${LIMITS}`,
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    schemas,
  },
  security: [{ bearer: [] }],
  paths: {
    '/v1/boards': {
      get: {
        summary: 'List boards, sorted by id, a page at a time',
        description:
          'At most MAX_BOARDS boards exist (default 10000). `next` is the id of the last board of the page when more follow: pass it as `after` for the next page; null on the last page.',
        parameters: [
          query('limit', `boards per page (1..${MAX_BOARDS_PAGE}, default ${MAX_BOARDS_PAGE})`, {
            type: 'integer',
            minimum: 1,
            maximum: MAX_BOARDS_PAGE,
          }),
          query('after', 'the `next` of the previous page (a board id)'),
        ],
        responses: { 200: json(ref('BoardList')), ...errors(400, 429) },
      },
    },
    '/v1/boards/{board}': {
      put: {
        summary:
          'Create or update a board (admin scope); policy, order, tie rule and time zone of an existing board cannot change (409 board-conflict); a new board past MAX_BOARDS is refused (409 board-limit); bounds apply to events from then on',
        parameters: [path('board')],
        requestBody: body(ref('BoardConfig')),
        responses: {
          200: json(ref('BoardConfig'), 'updated'),
          201: json(ref('BoardConfig'), 'created'),
          ...errors(400, 401, 403, 409, 415, 429),
        },
      },
    },
    '/v1/boards/{board}/events': {
      post: {
        summary:
          'Ingest one event (ingest scope); 202 once Redis accepted it (DURABILITY=replicated: once a replica holds it)',
        description:
          'An event whose value is outside the board’s minValue/maxValue is refused with 400 value-out-of-range naming the bound; 503 backlog-full, unavailable or not-replicated carry Retry-After.',
        parameters: [path('board')],
        requestBody: body(ref('Event')),
        responses: {
          202: json(ref('Accepted'), 'accepted'),
          ...errors(400, 401, 403, 404, 408, 413, 415, 429, 503),
        },
      },
    },
    '/v1/events': {
      post: {
        summary: 'Ingest 1 to 10,000 events, all or nothing (ingest scope)',
        description:
          'One invalid event (an unknown board, a value outside its board’s bounds: 400 value-out-of-range) rejects the request with 400 naming its index; nothing of it is enqueued.',
        requestBody: body(ref('EventBatch'), LARGE_BODY),
        responses: {
          202: json(ref('Accepted'), 'accepted'),
          ...errors(400, 401, 403, 408, 413, 415, 429, 503),
        },
      },
    },
    '/v1/boards/{board}/top': {
      get: {
        summary: 'The top-K from the cached snapshot (k is capped by the board’s topK)',
        parameters: [...windowReads, integerQuery('k')],
        responses: { 200: json(ref('Top')), ...errors(400, 404, 429, 503) },
      },
    },
    '/v1/boards/{board}/entries': {
      get: {
        summary: 'The whole board in rank order, page by page',
        description:
          'Pass each page’s `next` as `after` for the following page. A user whose score does not change while a client pages appears exactly once across the pages, whatever changes around them.',
        parameters: [
          ...windowReads,
          integerQuery('limit'),
          query('after', 'the `next` cursor of the previous page'),
        ],
        responses: { 200: json(ref('EntriesPage')), ...errors(400, 404, 429, 503) },
      },
    },
    '/v1/boards/{board}/users/{userId}': {
      get: {
        summary: 'A user’s rank, score, total and percentile (share of the others ranked below)',
        parameters: [path('board'), userPath, windowParam, atParam],
        responses: { 200: json(ref('Standing')), ...errors(400, 404, 429, 503) },
      },
    },
    '/v1/boards/{board}/users/{userId}/around': {
      get: {
        summary: 'The user and up to n entries above and below, in rank order',
        parameters: [path('board'), userPath, windowParam, atParam, integerQuery('n')],
        responses: { 200: json(ref('Entries')), ...errors(400, 404, 429, 503) },
      },
    },
    '/v1/boards/{board}/users/{userId}/friends': {
      get: {
        summary: 'The user and their friends ranked among themselves (those with a score)',
        parameters: [path('board'), userPath, windowParam, atParam, integerQuery('k')],
        responses: { 200: json(ref('Entries')), ...errors(400, 404, 429, 503) },
      },
    },
    '/v1/boards/{board}/live': {
      get: {
        summary:
          'Server-Sent Events: event `top` with the /top body whenever the snapshot version changes; heartbeat comments every 15 s',
        description:
          'A client that reads slower than the board changes gets the newest top when it reads next (versions in between are skipped); one that leaves an update unread for LIVE_STALL_MS (default 10 s) is disconnected. Streams are capped per client address (429 too-many-streams) and in total (503 server-busy), both with Retry-After.',
        parameters: [...windowReads, integerQuery('k')],
        responses: { 200: { description: 'text/event-stream' }, ...errors(400, 404, 429, 503) },
      },
    },
    '/v1/boards/{board}/hidden': {
      get: {
        summary: 'The board’s hidden users (admin scope)',
        parameters: [path('board')],
        responses: { 200: json(ref('HiddenUsers')), ...errors(401, 403, 404, 429) },
      },
    },
    '/v1/boards/{board}/hidden/{userId}': {
      put: {
        summary:
          'Hide a user on the board (admin scope): left out of top, ranks, totals, percentiles, around, friends, entries and live from the next snapshot on; their events keep counting',
        parameters: [path('board'), userPath],
        responses: { 200: json(ref('HiddenState')), ...errors(400, 401, 403, 404, 429) },
      },
      delete: {
        summary: 'Show a hidden user again, at their current score (admin scope)',
        parameters: [path('board'), userPath],
        responses: { 200: json(ref('HiddenState')), ...errors(400, 401, 403, 404, 429) },
      },
    },
    '/v1/users/{userId}/profile': {
      put: {
        summary: 'Set a user’s profile (ingest scope)',
        parameters: [userPath],
        requestBody: body(ref('ProfileInput')),
        responses: { 200: json(ref('Profile')), ...errors(400, 401, 403, 415, 429) },
      },
    },
    '/v1/users/{userId}/friends': {
      put: {
        summary: 'Replace a user’s friend list (ingest scope)',
        parameters: [userPath],
        requestBody: body(ref('Friends'), LARGE_BODY),
        responses: { 200: json(ref('FriendList')), ...errors(400, 401, 403, 415, 429) },
      },
    },
    '/healthz': {
      get: { summary: 'Process up', security: [], responses: { 200: json({ type: 'object' }) } },
    },
    '/readyz': {
      get: {
        summary: 'Redis, the store and workers reachable',
        security: [],
        responses: { 200: json({ type: 'object' }), 503: json({ type: 'object' }, 'not ready') },
      },
    },
    '/metrics': {
      get: { summary: 'Prometheus metrics', security: [], responses: { 200: { description: 'text/plain' } } },
    },
    '/v1/stats': {
      get: {
        summary:
          'The dashboard’s per-second samples: events/s accepted and applied, freshness p50/p99, late events and dead letters per second, backlog per partition',
        parameters: [integerQuery('since')],
        responses: { 200: json(ref('Stats')), ...errors(400, 401, 403) },
      },
    },
    '/openapi.json': {
      get: {
        summary: 'This description (OpenAPI 3.1)',
        security: [],
        responses: { 200: json({ type: 'object' }) },
      },
    },
    '/docs': {
      get: {
        summary: 'The API as a page for people',
        security: [],
        responses: { 200: { description: 'text/html' } },
      },
    },
    '/': {
      get: {
        summary: 'The dashboard: live top, user look-up, pipeline charts, board settings',
        security: [],
        responses: { 200: { description: 'text/html' } },
      },
    },
    '/dashboard/{file}': {
      get: {
        summary: 'The dashboard’s scripts and stylesheets (its own, and uPlot’s)',
        security: [],
        parameters: [path('file')],
        responses: { 200: { description: 'text/javascript or text/css' }, ...errors(404) },
      },
    },
  },
} as const;
