/** The OpenAPI description the server serves at /openapi.json (and renders at /docs). */

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
const body = (schema: object) => ({ required: true, content: { 'application/json': { schema } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Real-time leaderboard',
    version: '0.1.0',
    description:
      'Score events in, boards out. Ranks are competition ranks (1, 2, 2, 4); equal scores are listed by user id bytes, descending on desc boards and ascending on asc boards. Send an eventId to make retries safe: a repeat within 24 hours for the same board and user counts once.',
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
          userId: { type: 'string', minLength: 1, maxLength: 128 },
          value: { type: 'number' },
          ts: { type: 'integer', description: 'event time, epoch ms; default now; at most 24 h ahead' },
          eventId: { type: 'string', minLength: 1, maxLength: 128 },
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
          ...errors(400, 401, 403, 404, 413, 415, 429, 503),
        },
      },
    },
    '/v1/events': {
      post: {
        summary: 'Ingest 1 to 10,000 events, all or nothing (ingest scope)',
        requestBody: body({
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
        }),
        responses: {
          202: json({ type: 'object', properties: { accepted: { type: 'integer' } } }, 'accepted'),
          ...errors(400, 401, 403, 413, 415, 429, 503),
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
        responses: { 200: json(ref('Top')), ...errors(400, 404) },
      },
    },
    '/v1/boards/{board}/users/{userId}': {
      get: {
        summary: 'A user’s rank, score, total and percentile (share of the others ranked below)',
        parameters: [path('board'), path('userId'), windowParam, atParam],
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
          ...errors(400, 404),
        },
      },
    },
    '/v1/boards/{board}/users/{userId}/around': {
      get: {
        summary: 'The user and up to n entries above and below, in rank order',
        parameters: [
          path('board'),
          path('userId'),
          windowParam,
          atParam,
          query('n', '1..100 (default 5)', { type: 'integer' }),
        ],
        responses: {
          200: json({ type: 'object', properties: { entries: { type: 'array', items: ref('Entry') } } }),
          ...errors(400, 404),
        },
      },
    },
    '/v1/boards/{board}/users/{userId}/friends': {
      get: {
        summary: 'The user and their friends ranked among themselves (those with a score)',
        parameters: [
          path('board'),
          path('userId'),
          windowParam,
          atParam,
          query('k', '1..1000 (default 100)', { type: 'integer' }),
        ],
        responses: {
          200: json({ type: 'object', properties: { entries: { type: 'array', items: ref('Entry') } } }),
          ...errors(400, 404),
        },
      },
    },
    '/v1/boards/{board}/live': {
      get: {
        summary:
          'Server-Sent Events: event `top` with the /top body whenever the snapshot version changes; heartbeat comments every 15 s',
        parameters: [path('board'), windowParam, atParam],
        responses: { 200: { description: 'text/event-stream' }, ...errors(400, 404) },
      },
    },
    '/v1/users/{userId}/profile': {
      put: {
        summary: 'Set a user’s profile (ingest scope)',
        parameters: [path('userId')],
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
        parameters: [path('userId')],
        requestBody: body({
          type: 'object',
          required: ['friends'],
          properties: { friends: { type: 'array', maxItems: 10000, items: { type: 'string' } } },
        }),
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
