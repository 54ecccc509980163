/**
 * The single-event fast path (`server/singleEventListener.ts`) against the Hono route it stands in
 * front of: the same requests, over real sockets, to a server with the fast path (composed here as
 * `server/edgeServer.ts` composes it, recording which requests the fast path took) and to one
 * without it. Every answer must be the same (status, body, content type, Retry-After), and every
 * 202 must have appended exactly one entry.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { singleEventListener } from '../../server/singleEventListener.js';
import { MAX_FUTURE_MS } from '../../server/validation.js';
import { startTestService, TEST_KEYS, type TestService } from '../support/service.js';
import { streamLengths } from './httpSupport.js';

interface RawRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body with chunked transfer encoding (no Content-Length). */
  chunked?: boolean;
}

interface RawAnswer {
  status: number;
  type: string | undefined;
  retryAfter: string | undefined;
  body: string;
}

const PATH = '/v1/boards/global/events';
const JSON_TYPE = { 'content-type': 'application/json' };
const ingestHeaders = { authorization: `Bearer ${TEST_KEYS.ingest}`, ...JSON_TYPE };

function send(base: string, raw: RawRequest): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const body = raw.body ?? '';
    const headers: Record<string, string | number> = { ...raw.headers };
    if (!raw.chunked) headers['content-length'] = Buffer.byteLength(body);
    const req = request(
      `${base}${raw.path ?? PATH}`,
      { method: raw.method ?? 'POST', headers, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (piece: string) => {
          text += piece;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: res.headers['content-type'],
            retryAfter: res.headers['retry-after'] as string | undefined,
            body: text,
          }),
        );
      },
    );
    req.on('error', reject);
    if (raw.chunked) req.write(body);
    req.end(raw.chunked ? undefined : body);
  });
}

/** A server with the fast path in front of the app, recording whether it took each request. */
async function listenRecording(svc: TestService, onServerError: (error: unknown) => void) {
  const taken: boolean[] = [];
  const single = singleEventListener(svc.services, onServerError);
  const hono = getRequestListener(svc.app.fetch, { hostname: '127.0.0.1' });
  const server = createServer((req, res) => {
    const took = single(req, res);
    taken.push(took);
    if (!took) void hono(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, taken, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

describe('the single-event fast path answers as the Hono route does', () => {
  let svc: TestService;
  let fast: Awaited<ReturnType<typeof listenRecording>>;
  let hono: string;
  const serverErrors: unknown[] = [];

  beforeAll(async () => {
    svc = await startTestService();
    fast = await listenRecording(svc, (error) => serverErrors.push(error));
    hono = await svc.listen({ honoOnly: true });
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await close(fast.server);
    await svc?.stop();
  });

  const total = async () => (await streamLengths(svc.services)).reduce((a, b) => a + b, 0);

  /** Sends `raw` to both servers; resolves with the fast one's answer and whether it took it. */
  const both = async (raw: RawRequest) => {
    const before = await total();
    const viaHono = await send(hono, raw);
    const viaFast = await send(fast.url, raw);
    const took = fast.taken.at(-1);
    expect(viaFast).toEqual(viaHono);
    const accepted = viaFast.status === 202 ? 2 : 0;
    expect(await total()).toBe(before + accepted);
    return { answer: viaFast, took };
  };

  const DAY = 86_400_000;
  const cases: [string, RawRequest, number, boolean][] = [
    ['a valid event', { headers: ingestHeaders, body: '{"userId":"ann","value":5}' }, 202, true],
    [
      'ts and eventId',
      { headers: ingestHeaders, body: JSON.stringify({ userId: 'bob', value: 1.5, ts: 1, eventId: 'e-1' }) },
      202,
      true,
    ],
    [
      'a query string',
      { path: `${PATH}?x=1`, headers: ingestHeaders, body: '{"userId":"a","value":1}' },
      202,
      true,
    ],
    ['a byte order mark', { headers: ingestHeaders, body: '\ufeff{"userId":"a","value":1}' }, 202, true],
    [
      'a charset',
      {
        headers: { ...ingestHeaders, 'content-type': 'application/json; charset=utf-8' },
        body: '{"userId":"a","value":1}',
      },
      202,
      true,
    ],
    ['a value as a string', { headers: ingestHeaders, body: '{"userId":"a","value":"5"}' }, 400, true],
    ['no userId', { headers: ingestHeaders, body: '{"value":5}' }, 400, true],
    ['an unknown field', { headers: ingestHeaders, body: '{"userId":"a","value":5,"x":1}' }, 400, true],
    ['a control character', { headers: ingestHeaders, body: '{"userId":"a\\u0007","value":5}' }, 400, true],
    ['a lone surrogate', { headers: ingestHeaders, body: '{"userId":"\\ud800","value":5}' }, 400, true],
    ['a userId in NFD', { headers: ingestHeaders, body: '{"userId":"Rene\\u0301e","value":5}' }, 202, true],
    ['a zero-width userId', { headers: ingestHeaders, body: '{"userId":"a\\u200bb","value":5}' }, 400, true],
    [
      'a bidi override in the eventId',
      { headers: ingestHeaders, body: '{"userId":"a","value":5,"eventId":"\\u202eevil"}' },
      400,
      true,
    ],
    [
      'JSON nested 33 deep',
      { headers: ingestHeaders, body: `{"userId":"a","value":1,"x":${'['.repeat(32)}${']'.repeat(32)}}` },
      400,
      true,
    ],
    [
      'JSON nested 32 deep (an unknown field)',
      { headers: ingestHeaders, body: `{"userId":"a","value":1,"x":${'['.repeat(31)}${']'.repeat(31)}}` },
      400,
      true,
    ],
    [
      'more than 4,096 values',
      { headers: ingestHeaders, body: `{"userId":"a","value":1,"x":[${'0,'.repeat(5000)}0]}` },
      400,
      true,
    ],
    [
      'ts two days ahead',
      { headers: ingestHeaders, body: JSON.stringify({ userId: 'a', value: 1, ts: Date.now() + 2 * DAY }) },
      400,
      true,
    ],
    ['a body that is not JSON', { headers: ingestHeaders, body: 'nope' }, 400, true],
    ['an empty body', { headers: ingestHeaders, body: '' }, 400, true],
    ['a JSON array', { headers: ingestHeaders, body: '[1]' }, 400, true],
    ['no key', { headers: JSON_TYPE, body: '{"userId":"a","value":1}' }, 401, false],
    [
      'an unknown key',
      { headers: { ...ingestHeaders, authorization: 'Bearer nope' }, body: '{"userId":"a","value":1}' },
      401,
      false,
    ],
    [
      'a malformed Authorization',
      { headers: { ...ingestHeaders, authorization: TEST_KEYS.ingest }, body: '{"userId":"a","value":1}' },
      401,
      false,
    ],
    [
      'a key without the ingest scope',
      {
        headers: { ...ingestHeaders, authorization: `Bearer ${TEST_KEYS.read}` },
        body: '{"userId":"a","value":1}',
      },
      403,
      false,
    ],
    [
      'an unknown board',
      { path: '/v1/boards/nope/events', headers: ingestHeaders, body: '{"userId":"a","value":1}' },
      404,
      false,
    ],
    [
      'an upper-case board',
      { path: '/v1/boards/GLOBAL/events', headers: ingestHeaders, body: '{"userId":"a","value":1}' },
      404,
      false,
    ],
    [
      'a percent-encoded board',
      { path: '/v1/boards/glob%61l/events', headers: ingestHeaders, body: '{"userId":"a","value":1}' },
      202,
      false,
    ],
    [
      'a trailing slash',
      { path: `${PATH}/`, headers: ingestHeaders, body: '{"userId":"a","value":1}' },
      404,
      false,
    ],
    ['GET', { method: 'GET', headers: ingestHeaders }, 405, false],
    [
      'text/plain',
      { headers: { ...ingestHeaders, 'content-type': 'text/plain' }, body: '{"userId":"a","value":1}' },
      415,
      false,
    ],
    [
      'a body over 64 KiB',
      { headers: ingestHeaders, body: JSON.stringify({ userId: 'a', value: 1, pad: 'x'.repeat(70_000) }) },
      413,
      false,
    ],
    [
      'a chunked body',
      { headers: ingestHeaders, body: '{"userId":"a","value":1}', chunked: true },
      202,
      false,
    ],
  ];
  for (const [what, raw, status, taken] of cases) {
    it(`${what}: ${status}, ${taken ? 'taken by the fast path' : 'left to Hono'}`, async () => {
      const { answer, took } = await both(raw);
      expect(answer.status).toBe(status);
      expect(took).toBe(taken);
    });
  }

  it('refuses deep and crowded JSON before parsing it, with the same codes from both', async () => {
    const deep = await both({ headers: ingestHeaders, body: `[${'['.repeat(40)}${']'.repeat(40)}]` });
    expect(deep.took).toBe(true);
    expect(JSON.parse(deep.answer.body).error.code).toBe('json-too-deep');
    const crowded = await both({ headers: ingestHeaders, body: `[${'{},'.repeat(5000)}{}]` });
    expect(JSON.parse(crowded.answer.body).error).toEqual({
      code: 'json-too-many-values',
      message: 'the body holds more than 4096 JSON values (values and object members)',
    });
    const invisible = await both({ headers: ingestHeaders, body: '{"userId":"\\ufeffann","value":1}' });
    expect(JSON.parse(invisible.answer.body).error).toEqual({
      code: 'invalid-body',
      message: 'userId: must not contain zero-width or bidirectional control characters',
    });
  });

  it('random bodies: the same answers, and an entry per 202', async () => {
    const now = Date.now();
    const anyField = fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.boolean(), fc.constant(null));
    const tricky = fc.string({
      unit: fc.constantFrom('a', 'e', '\u0301', '\u00e9', '\u200b', '\u202e', '\u2066', '\ufeff', '\u0958'),
      maxLength: 10,
    });
    const nested = fc
      .tuple(fc.integer({ min: 28, max: 36 }), fc.constantFrom('[', '{"k":'))
      .map(([depth, open]) =>
        JSON.parse(`${open.repeat(depth)}1${(open === '[' ? ']' : '}').repeat(depth)}`),
      );
    const event = fc.record(
      {
        userId: fc.oneof(fc.string({ maxLength: 140, unit: 'binary' }), tricky, anyField),
        value: fc.oneof(fc.double(), fc.integer(), anyField),
        // Clear of the 24-hour bound, which the two requests meet at slightly different times.
        ts: fc.oneof(
          fc.integer({ min: -5, max: now }),
          fc.integer({ min: now + MAX_FUTURE_MS + 60_000, max: now + 3 * MAX_FUTURE_MS }),
          anyField,
        ),
        eventId: fc.oneof(fc.string({ maxLength: 130 }), tricky, anyField),
        extra: fc.oneof(anyField, nested),
      },
      { requiredKeys: [] },
    );
    const valid = fc.record(
      {
        userId: fc.oneof(fc.stringMatching(/^[a-z0-9]{1,12}$/), fc.constantFrom('Rene\u0301e', 'Ren\u00e9e')),
        value: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
        ts: fc.integer({ min: 0, max: now }),
        eventId: fc.stringMatching(/^[a-z0-9-]{1,20}$/),
      },
      { requiredKeys: ['userId', 'value'] },
    );
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(valid, event, fc.jsonValue({ maxDepth: 2 }), nested), async (body) => {
        const { answer, took } = await both({ headers: ingestHeaders, body: JSON.stringify(body) });
        expect(took).toBe(true);
        if (answer.status === 202) accepted++;
        else expect(answer.status).toBe(400);
      }),
      { numRuns: 80 },
    );
    // The property is only worth something if both kinds of answer came up.
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThan(80);
  });

  it('a failure that is not the client’s: 500 internal from both, and the error reported', async () => {
    const boom = () => {
      throw new Error('boom');
    };
    const spy = vi.spyOn(svc.services.writer, 'overloadedPartition');
    spy.mockImplementation(boom);
    try {
      const { answer, took } = await both({ headers: ingestHeaders, body: '{"userId":"a","value":1}' });
      expect(took).toBe(true);
      expect(answer.status).toBe(500);
      expect(JSON.parse(answer.body)).toEqual({
        error: { code: 'internal', message: 'an unexpected error occurred; it was logged' },
      });
      expect(serverErrors.map((e) => (e as Error).message)).toEqual(['boom']);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('the fast path and the rate limit', () => {
  let svc: TestService;
  let fast: Awaited<ReturnType<typeof listenRecording>>;
  beforeAll(async () => {
    svc = await startTestService({ env: { RATE_LIMIT_RPS: '1' } });
    fast = await listenRecording(svc, () => {});
  });
  afterAll(async () => {
    await close(fast.server);
    await svc?.stop();
  });

  it('spends the key’s bucket, and leaves the request that finds it empty to the app’s 429', async () => {
    const answers: RawAnswer[] = [];
    // A burst of 2 at 1 request/s: two accepted, then the third refused.
    for (let i = 0; i < 3; i++) {
      answers.push(await send(fast.url, { headers: ingestHeaders, body: `{"userId":"u${i}","value":1}` }));
    }
    expect(answers.map((a) => a.status)).toEqual([202, 202, 429]);
    expect(fast.taken).toEqual([true, true, false]);
    expect(JSON.parse(answers[2]!.body).error.code).toBe('rate-limited');
    expect(Number(answers[2]!.retryAfter)).toBeGreaterThanOrEqual(1);
  });
});

describe('the fast path and backpressure', () => {
  let svc: TestService;
  let fast: Awaited<ReturnType<typeof listenRecording>>;
  let hono: string;
  beforeAll(async () => {
    svc = await startTestService({ env: { HIGH_WATER_MARK: '2' } });
    fast = await listenRecording(svc, () => {});
    hono = await svc.listen({ honoOnly: true });
  });
  afterAll(async () => {
    await close(fast.server);
    await svc?.stop();
  });

  it('answers 503 backlog-full with Retry-After, as the route does, and appends nothing', async () => {
    const hot = 'hot-user';
    const events = Array.from({ length: 3 }, () => ({ board: 'global', userId: hot, value: 1 }));
    const seeded = await send(fast.url, {
      path: '/v1/events',
      headers: ingestHeaders,
      body: JSON.stringify({ events }),
    });
    expect(seeded.status).toBe(202);
    const p = svc.services.writer.partitionOf(hot);
    expect((await svc.services.writer.refreshBacklogs())[p]).toBe(3);
    const before = await streamLengths(svc.services);
    const body = JSON.stringify({ userId: hot, value: 1 });
    const viaFast = await send(fast.url, { headers: ingestHeaders, body });
    expect(fast.taken.at(-1)).toBe(true);
    const viaHono = await send(hono, { headers: ingestHeaders, body });
    expect(viaFast).toEqual(viaHono);
    expect(viaFast.status).toBe(503);
    expect(JSON.parse(viaFast.body).error.code).toBe('backlog-full');
    expect(viaFast.retryAfter).toBe('1');
    expect(await streamLengths(svc.services)).toEqual(before);
  });
});
