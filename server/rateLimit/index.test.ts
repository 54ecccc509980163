import { Hono } from 'hono';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { call, expectError, expectNothingEnqueued } from '../../test/server/httpSupport.js';
import { startTestService, TEST_KEYS, type TestService } from '../../test/support/service.js';
import { parseApiKeys } from '../auth/apiKeys.js';
import { type AuthVariables, requireScope } from '../auth/index.js';
import { HttpError } from '../httpError.js';
import { type RateLimitOptions, rateLimit } from './index.js';

/** A tiny app: keys, then the limiter, then a handler; errors in the contract's shape. */
function appWith(options: RateLimitOptions) {
  const keys = parseApiKeys('one=read,two=read');
  const app = new Hono<{ Variables: AuthVariables }>();
  app.get('/r', requireScope({ keys, scope: 'read', required: false }), rateLimit(options), (c) =>
    c.json({ ok: true }),
  );
  app.onError((error, c) => {
    if (error instanceof HttpError) return c.json(error.toJSON(), error.status as 429, error.headers);
    throw error;
  });
  return (key?: string) =>
    app.request('/r', { headers: key === undefined ? {} : { Authorization: `Bearer ${key}` } });
}

describe('rateLimit', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets a burst of 2 seconds worth through, then answers 429 with Retry-After', async () => {
    const send = appWith({ perSecond: 2 });
    for (let i = 0; i < 4; i++) expect((await send('one')).status).toBe(200);
    const res = await send('one');
    const message = await expectError(res, 429, 'rate-limited');
    expect(message).toContain('retry');
    expect(res.headers.get('retry-after')).toBe('1');
  });

  it('keeps a bucket per key: one key over its rate does not limit another', async () => {
    const send = appWith({ perSecond: 1 });
    expect((await send('one')).status).toBe(200);
    expect((await send('one')).status).toBe(200);
    expect((await send('one')).status).toBe(429);
    expect((await send('two')).status).toBe(200);
    expect((await send('two')).status).toBe(200);
    expect((await send('two')).status).toBe(429);
  });

  it('refills continuously: after 1/rate seconds one more request passes', async () => {
    const send = appWith({ perSecond: 2, burst: 1 });
    expect((await send('one')).status).toBe(200);
    expect((await send('one')).status).toBe(429);
    vi.advanceTimersByTime(499);
    expect((await send('one')).status).toBe(429);
    vi.advanceTimersByTime(1);
    expect((await send('one')).status).toBe(200);
    expect((await send('one')).status).toBe(429);
  });

  it('never stores more than the burst, however long the key was idle', async () => {
    const send = appWith({ perSecond: 10, burst: 3 });
    expect((await send('one')).status).toBe(200);
    vi.advanceTimersByTime(60_000);
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await send('one')).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });

  it('answers a Retry-After as long as the wait for the next token (slow rates)', async () => {
    const send = appWith({ perSecond: 0.25 });
    expect((await send('one')).status).toBe(200);
    const res = await send('one');
    await expectError(res, 429, 'rate-limited');
    expect(res.headers.get('retry-after')).toBe('4');
  });

  it('limits requests without a key as one client', async () => {
    const send = appWith({ perSecond: 1, burst: 1 });
    expect((await send()).status).toBe(200);
    await expectError(await send(), 429, 'rate-limited');
  });

  it('is off when perSecond is 0', async () => {
    const send = appWith({ perSecond: 0 });
    for (let i = 0; i < 50; i++) expect((await send('one')).status).toBe(200);
  });
});

describe('rate limits in the real app (RATE_LIMIT_RPS=2)', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ env: { RATE_LIMIT_RPS: '2' } });
  });
  afterAll(async () => {
    await svc?.stop();
  });

  it('answers 429 with Retry-After to a key over its rate, enqueues nothing, and leaves other keys alone', async () => {
    const event = (i: number) => ({ key: TEST_KEYS.ingest, body: { userId: `u${i}`, value: 1 } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await call(svc.app, 'POST', '/v1/boards/global/events', event(i))).status);
    expect(statuses).toEqual([202, 202, 202, 202]);
    const res = await expectNothingEnqueued(svc.services, () =>
      call(svc.app, 'POST', '/v1/boards/global/events', event(5)),
    );
    await expectError(res, 429, 'rate-limited');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const other = await call(svc.app, 'POST', '/v1/boards/global/events', {
      key: TEST_KEYS.admin,
      body: { userId: 'x', value: 1 },
    });
    expect(other.status).toBe(202);
  });
});
