import { Hono } from 'hono';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { call, expectError, expectNothingEnqueued } from '../../test/server/httpSupport.js';
import { startTestService, TEST_KEYS, type TestService } from '../../test/support/service.js';
import { parseApiKeys } from '../auth/apiKeys.js';
import { type AuthVariables, requireScope } from '../auth/index.js';
import { TrustedProxies } from '../clientAddress.js';
import { HttpError } from '../httpError.js';
import { RateLimiter, type RateLimitOptions, rateLimit } from './index.js';

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

/**
 * The same app with a separate limit for requests without a key; requests carry the socket's peer
 * and headers the way `@hono/node-server` hands them over (`c.env.incoming`).
 */
function appWithAnonymous(keyed: RateLimitOptions, anonymous: RateLimitOptions, trusted = '') {
  const keys = parseApiKeys('one=read');
  const app = new Hono<{ Variables: AuthVariables }>();
  app.get(
    '/r',
    requireScope({ keys, scope: 'read', required: false }),
    rateLimit(keyed, { subject: 'this client address', ...anonymous }, TrustedProxies.parse(trusted)),
    (c) => c.json({ ok: true }),
  );
  app.onError((error, c) => {
    if (error instanceof HttpError) return c.json(error.toJSON(), error.status as 429, error.headers);
    throw error;
  });
  return (from: string, options: { key?: string; forwardedFor?: string } = {}) => {
    const headers: Record<string, string> = {};
    if (options.key) headers.authorization = `Bearer ${options.key}`;
    if (options.forwardedFor) headers['x-forwarded-for'] = options.forwardedFor;
    const incoming = { socket: { remoteAddress: from }, headers };
    return app.request('/r', { headers }, { incoming });
  };
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

  it('limits requests without a key per client address, on their own budget, apart from keys', async () => {
    const send = appWithAnonymous({ perSecond: 100 }, { perSecond: 1, burst: 2 });
    expect((await send('203.0.113.9')).status).toBe(200);
    expect((await send('203.0.113.9')).status).toBe(200);
    const refused = await send('203.0.113.9');
    expect(await expectError(refused, 429, 'rate-limited')).toContain('this client address');
    expect(refused.headers.get('retry-after')).toBe('1');
    // Another address, and a key from the same address, have budgets of their own.
    expect((await send('203.0.113.10')).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await send('203.0.113.9', { key: 'one' })).status).toBe(200);
  });

  it('counts the IPv6 addresses of one /64 as one client', async () => {
    const send = appWithAnonymous({ perSecond: 100 }, { perSecond: 1, burst: 1 });
    expect((await send('2001:db8:1:2::1')).status).toBe(200);
    expect((await send('2001:db8:1:2::ffff')).status).toBe(429);
    expect((await send('2001:db8:1:3::1')).status).toBe(200);
  });

  it('follows X-Forwarded-For from a trusted proxy only', async () => {
    const send = appWithAnonymous({ perSecond: 100 }, { perSecond: 1, burst: 1 }, '10.0.0.0/8');
    expect((await send('10.0.0.5', { forwardedFor: '198.51.100.1' })).status).toBe(200);
    expect((await send('10.0.0.6', { forwardedFor: '198.51.100.1' })).status).toBe(429);
    expect((await send('10.0.0.5', { forwardedFor: '198.51.100.2' })).status).toBe(200);
    // From an untrusted peer the header is the client's own say: ignored.
    expect((await send('203.0.113.9', { forwardedFor: '198.51.100.3' })).status).toBe(200);
    expect((await send('203.0.113.9', { forwardedFor: '198.51.100.4' })).status).toBe(429);
  });

  it('forgets buckets that have refilled, once they pile up: clients that come and go leave nothing', () => {
    const limiter = new RateLimiter({ perSecond: 10, burst: 2 });
    expect(limiter.tryTake('address busy')).toBe(true);
    expect(limiter.tryTake('address busy')).toBe(true);
    for (let i = 1; i < 10_000; i++) expect(limiter.tryTake(`address 10.0.${i >> 8}.${i & 255}`)).toBe(true);
    expect(limiter.size).toBe(10_000);
    // 150 ms later the others are full again (as good as absent); `busy` spends again.
    vi.advanceTimersByTime(150);
    expect(limiter.tryTake('address busy')).toBe(true);
    expect(limiter.tryTake('address newcomer')).toBe(true);
    expect(limiter.size).toBe(2);
    // The bucket kept is the one in use, with what it has spent.
    expect(limiter.tryTake('address busy')).toBe(false);
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
