/** The OpenAPI description the server serves at /openapi.json (and renders at /docs). */
import { LARGE_BODY, MAX_JSON_DEPTH, SMALL_BODY } from './routes/http.js';

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
const windowParam = query('window', 'all | day | week | month (default all)', {
  type: 'string',
  enum: ['all', 'day', 'week', 'month'],
});
const atParam = query('at', 'epoch ms inside the wanted window (default now)', {
  type: 'integer',
  minimum: 0,
});
const body = (schema: object, limit = SMALL_BODY) => ({
  required: true,
  description: `JSON, at most ${limit.label} (413 past it), nesting at most ${MAX_JSON_DEPTH} levels and holding at most ${limit.maxValues} values and object members (400 json-too-deep, json-too-many-values).`,
  content: { 'application/json': { schema } },
});

/** The rule of user ids and eventIds (`idSchema` in `validation.ts`). */
const ID_RULE =
  'Normalised to NFC by the server (the NFC and NFD spellings of an id are one id, stored and returned in NFC); then 1 to 128 characters (code points), no control characters (U+0000-U+001F, U+007F-U+009F), no zero-width characters (U+200B-U+200D, U+2060, U+FEFF), no bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), no lone surrogates. A refused id is 400 naming the field.';
const idString = { type: 'string', minLength: 1, maxLength: 128, description: ID_RULE };
const userPath = { name: 'userId', in: 'path', required: true, schema: idString };

const LIMITS = [
  `Limits. Bodies: ${SMALL_BODY.label} for single objects (an event, a board, a profile), ${LARGE_BODY.label} for batches and friend lists (413 past them); JSON nesting at most ${MAX_JSON_DEPTH} levels, at most ${SMALL_BODY.maxValues} (single objects) or ${LARGE_BODY.maxValues} (batches, friend lists) values, checked before parsing (400).`,
  'Rate limits: per key (RATE_LIMIT_RPS, default 20,000/s) and, for requests without a key, per client address (ANONYMOUS_RATE_LIMIT_RPS, default 200/s, a burst of 2 s worth; an IPv6 client counts by its /64): 429 rate-limited with Retry-After.',
  'Connections: at most MAX_CONNECTIONS_PER_CLIENT (default 256) per client address and MAX_CONNECTIONS in total (default: what fits under the process open-file limit); a connection over a cap is answered 503 (too-many-connections, server-busy) with Retry-After: 1 and closed as it is accepted, before any request is read; past the total and a small slack it is closed unanswered. Behind a load balancer, set TRUSTED_PROXIES: the rightmost X-Forwarded-For hop that is not a trusted proxy is the client.',
  "Timeouts: a request's headers must arrive within HEADERS_TIMEOUT_MS (default 10 s; also how long a new connection may stay silent) and the whole request within REQUEST_TIMEOUT_MS (default 30 s), else 408 request-timeout and the connection closes; an idle keep-alive connection closes after KEEP_ALIVE_TIMEOUT_MS (5 s), one without traffic either way after SOCKET_IDLE_TIMEOUT_MS (60 s). Headers over 16 KiB: 431.",
  'Live streams: at most MAX_LIVE_STREAMS_PER_CLIENT (default 32) per client address (429 too-many-streams) and MAX_LIVE_STREAMS (default 1,000) in total (503 server-busy), both with Retry-After: 5. A stream holds only the newest update its client has not read; a client that leaves an update unread for LIVE_STALL_MS (10 s) is disconnected (reconnect and read faster).',
].join(' ');

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Real-time leaderboard',
    version: '0.1.0',
    description: `Score events in, boards out. Ranks are competition ranks (1, 2, 2, 4); equal scores are listed by user id bytes, descending on desc boards and ascending on asc boards. Send an eventId to make retries safe: a repeat within 24 hours for the same board and user counts once. User ids and eventIds: ${ID_RULE} ${LIMITS}`,
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      Error: {
        type: 'object',
        properties: {
          error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
        },
      },
      BoardConfig: {
        type: 'object',
        required: ['id'],
        properties: {
          id: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' },
          policy: { enum: ['sum', 'max', 'min', 'last'], default: 'sum' },
          order: { enum: ['desc', 'asc'], default: 'desc' },
          windows: { type: 'array', items: { enum: ['all', 'day', 'week', 'month'] } },
          topK: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          graceSeconds: { type: 'integer', minimum: 0, default: 300 },
          retentionDays: { type: 'integer', minimum: 1, default: 30 },
        },
      },
      Event: {
        type: 'object',
        required: ['userId', 'value'],
        additionalProperties: false,
        properties: {
          userId: idString,
          value: { type: 'number' },
          ts: { type: 'integer', description: 'event time, epoch ms; default now; at most 24 h ahead' },
          eventId: idString,
        },
      },
      Entry: {
        type: 'object',
        properties: {
          rank: { type: 'integer' },
          userId: { type: 'string' },
          score: { type: 'number' },
          profile: {
            type: 'object',
            properties: { name: { type: 'string' }, avatarUrl: { type: ['string', 'null'] } },
          },
        },
      },
      StatsSample: {
        type: 'object',
        description:
          'One sample, taken every intervalMs: rates over the interval before `at`, the backlog read at `at`. The rates count this process only: its edge, and its workers when they run in it (null otherwise).',
        required: [
          'at',
          'ingestedPerSecond',
          'appliedPerSecond',
          'lateEventsPerSecond',
          'deadLettersPerSecond',
          'freshnessP50Ms',
          'freshnessP99Ms',
          'backlog',
        ],
        properties: {
          at: { type: 'integer', description: 'epoch ms of the sample' },
          ingestedPerSecond: {
            type: 'number',
            description: 'events this process accepted (202), per second',
          },
          appliedPerSecond: {
            type: ['number', 'null'],
            description:
              'stream entries this process’s workers applied, per second; null without workers here',
          },
          lateEventsPerSecond: {
            type: ['number', 'null'],
            description: 'late (event, window) pairs set aside by this process’s workers, per second',
          },
          deadLettersPerSecond: {
            type: ['number', 'null'],
            description: 'entries this process’s workers moved to dead-letter streams, per second',
          },
          freshnessP50Ms: {
            type: ['number', 'null'],
            description:
              'median of lb_freshness_seconds over the snapshots of the last 10 s, ms (interpolated in its buckets); null without snapshots or workers here',
          },
          freshnessP99Ms: { type: ['number', 'null'], description: '99th percentile, as freshnessP50Ms' },
          backlog: {
            type: ['array', 'null'],
            items: { type: 'integer', minimum: 0 },
            description:
              'per partition (index = partition): entries not yet delivered plus delivered and not acknowledged, read from the stream groups (every process’s workers); null while nobody has asked for the stats in the last 30 s',
          },
        },
      },
      Stats: {
        type: 'object',
        required: ['intervalMs', 'workersInProcess', 'partitions', 'samples'],
        properties: {
          intervalMs: { type: 'integer', description: 'sampling interval (1000)' },
          workersInProcess: { type: 'boolean' },
          partitions: { type: 'integer' },
          samples: {
            type: 'array',
            maxItems: 300,
            description: 'oldest first; the last five minutes at most',
            items: ref('StatsSample'),
          },
        },
      },
      Top: {
        type: 'object',
        properties: {
          board: { type: 'string' },
          window: { type: 'string' },
          windowStart: { type: 'integer' },
          version: { type: 'integer' },
          updatedAt: { type: ['integer', 'null'] },
          entries: { type: 'array', items: ref('Entry') },
        },
      },
    },
  },
  security: [{ bearer: [] }],
  paths: {
    '/v1/boards': {
      get: {
        summary: 'List boards',
        responses: {
          200: json({ type: 'object', properties: { boards: { type: 'array', items: ref('BoardConfig') } } }),
        },
      },
    },
    '/v1/boards/{board}': {
      put: {
        summary:
          'Create or update a board (admin scope); policy and order of an existing board cannot change (409)',
        parameters: [path('board')],
        requestBody: body(ref('BoardConfig')),
        responses: {
          200: json(ref('BoardConfig'), 'updated'),
          201: json(ref('BoardConfig'), 'created'),
          ...errors(400, 401, 403, 409, 415),
        },
      },
    },
    '/v1/boards/{board}/events': {
      post: {
        summary: 'Ingest one event (ingest scope); 202 once Redis accepted it',
        parameters: [path('board')],
        requestBody: body(ref('Event')),
        responses: {
          202: json({ type: 'object', properties: { accepted: { type: 'integer' } } }, 'accepted'),
          ...errors(400, 401, 403, 404, 408, 413, 415, 429, 503),
        },
      },
    },
    '/v1/events': {
      post: {
        summary: 'Ingest 1 to 10,000 events, all or nothing (ingest scope)',
        requestBody: body(
          {
            type: 'object',
            properties: {
              events: {
                type: 'array',
                maxItems: 10000,
                items: {
                  allOf: [
                    ref('Event'),
                    { type: 'object', required: ['board'], properties: { board: { type: 'string' } } },
                  ],
                },
              },
            },
          },
          LARGE_BODY,
        ),
        responses: {
          202: json({ type: 'object', properties: { accepted: { type: 'integer' } } }, 'accepted'),
          ...errors(400, 401, 403, 408, 413, 415, 429, 503),
        },
      },
    },
    '/v1/boards/{board}/top': {
      get: {
        summary: 'The top-K from the cached snapshot (k is capped by the board’s topK)',
        parameters: [
          path('board'),
          windowParam,
          atParam,
          query('k', '1..1000 (default the board’s topK)', { type: 'integer' }),
        ],
        responses: { 200: json(ref('Top')), ...errors(400, 404, 429) },
      },
    },
    '/v1/boards/{board}/users/{userId}': {
      get: {
        summary: 'A user’s rank, score, total and percentile (share of the others ranked below)',
        parameters: [path('board'), userPath, windowParam, atParam],
        responses: {
          200: json({
            type: 'object',
            properties: {
              userId: { type: 'string' },
              rank: { type: 'integer' },
              score: { type: 'number' },
              total: { type: 'integer' },
              percentile: { type: 'number' },
            },
          }),
          ...errors(400, 404, 429),
        },
      },
    },
    '/v1/boards/{board}/users/{userId}/around': {
      get: {
        summary: 'The user and up to n entries above and below, in rank order',
        parameters: [
          path('board'),
          userPath,
          windowParam,
          atParam,
          query('n', '1..100 (default 5)', { type: 'integer' }),
        ],
        responses: {
          200: json({ type: 'object', properties: { entries: { type: 'array', items: ref('Entry') } } }),
          ...errors(400, 404, 429),
        },
      },
    },
    '/v1/boards/{board}/users/{userId}/friends': {
      get: {
        summary: 'The user and their friends ranked among themselves (those with a score)',
        parameters: [
          path('board'),
          userPath,
          windowParam,
          atParam,
          query('k', '1..1000 (default 100)', { type: 'integer' }),
        ],
        responses: {
          200: json({ type: 'object', properties: { entries: { type: 'array', items: ref('Entry') } } }),
          ...errors(400, 404, 429),
        },
      },
    },
    '/v1/boards/{board}/live': {
      get: {
        summary:
          'Server-Sent Events: event `top` with the /top body whenever the snapshot version changes; heartbeat comments every 15 s',
        description:
          'A client that reads slower than the board changes gets the newest top when it reads next (versions in between are skipped); one that leaves an update unread for LIVE_STALL_MS (default 10 s) is disconnected. Streams are capped per client address (429 too-many-streams) and in total (503 server-busy), both with Retry-After.',
        parameters: [
          path('board'),
          windowParam,
          atParam,
          query('k', '1..1000 (default the board’s topK)', { type: 'integer' }),
        ],
        responses: { 200: { description: 'text/event-stream' }, ...errors(400, 404, 429, 503) },
      },
    },
    '/v1/users/{userId}/profile': {
      put: {
        summary: 'Set a user’s profile (ingest scope)',
        parameters: [userPath],
        requestBody: body({
          type: 'object',
          required: ['name'],
          properties: {
            name: { type: 'string', maxLength: 100 },
            avatarUrl: { type: 'string', format: 'uri' },
          },
        }),
        responses: { 200: json({ type: 'object' }), ...errors(400, 401, 403, 415) },
      },
    },
    '/v1/users/{userId}/friends': {
      put: {
        summary: 'Replace a user’s friend list (ingest scope)',
        parameters: [userPath],
        requestBody: body(
          {
            type: 'object',
            required: ['friends'],
            properties: { friends: { type: 'array', maxItems: 10000, items: idString } },
          },
          LARGE_BODY,
        ),
        responses: { 200: json({ type: 'object' }), ...errors(400, 401, 403, 415) },
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
        parameters: [
          query('since', 'epoch ms: only the samples taken after it (default: all kept)', {
            type: 'integer',
            minimum: 0,
          }),
        ],
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
