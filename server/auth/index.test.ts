import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, expectError } from '../../test/server/httpSupport.js';
import { startTestService, TEST_KEYS, type TestService } from '../../test/support/service.js';
import { HttpError } from '../httpError.js';
import { findKey, parseApiKeys } from './apiKeys.js';
import { type AuthVariables, requireScope } from './index.js';

/** A tiny app: one route per scope, and the contract's error shape. */
function appWith(spec: string, required?: boolean) {
  const keys = parseApiKeys(spec);
  const app = new Hono<{ Variables: AuthVariables }>();
  for (const scope of ['ingest', 'admin', 'read'] as const) {
    app.get(`/${scope}`, requireScope({ keys, scope, required }), (c) =>
      c.json({ key: c.get('apiKey')?.id ?? null }),
    );
  }
  app.onError((error, c) => {
    if (error instanceof HttpError) return c.json(error.toJSON(), error.status as 401, error.headers);
    throw error;
  });
  return app;
}

const withHeader = (app: Hono<{ Variables: AuthVariables }>, path: string, authorization?: string) =>
  app.request(path, { headers: authorization === undefined ? {} : { Authorization: authorization } });

describe('requireScope', () => {
  const app = appWith('alpha=ingest+admin,beta=ingest,gamma=read');

  it('lets a key with the scope through and names the key for later middleware', async () => {
    const res = await withHeader(app, '/admin', 'Bearer alpha');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ key: 'key1' });
    expect(await (await withHeader(app, '/ingest', 'Bearer beta')).json()).toEqual({ key: 'key2' });
  });

  it('accepts the scheme in any case and trailing spaces', async () => {
    expect((await withHeader(app, '/read', 'bearer gamma')).status).toBe(200);
    expect((await withHeader(app, '/read', 'BEARER   gamma  ')).status).toBe(200);
  });

  it('answers 401 without an Authorization header', async () => {
    const message = await expectError(await withHeader(app, '/ingest'), 401, 'unauthorized');
    expect(message).toContain('Bearer');
  });

  it('answers 401 for an unknown key, a key that differs in case, and a prefix of a key', async () => {
    await expectError(await withHeader(app, '/ingest', 'Bearer delta'), 401, 'unauthorized');
    await expectError(await withHeader(app, '/ingest', 'Bearer ALPHA'), 401, 'unauthorized');
    await expectError(await withHeader(app, '/ingest', 'Bearer alph'), 401, 'unauthorized');
  });

  it('answers 401 for a malformed Authorization header', async () => {
    await expectError(await withHeader(app, '/ingest', 'Basic YWxwaGE6'), 401, 'unauthorized');
    await expectError(await withHeader(app, '/ingest', 'Bearer'), 401, 'unauthorized');
    await expectError(await withHeader(app, '/ingest', 'Bearer alpha beta'), 401, 'unauthorized');
    await expectError(await withHeader(app, '/ingest', 'alpha'), 401, 'unauthorized');
  });

  it('answers 403 naming the scope when the key lacks it', async () => {
    const message = await expectError(await withHeader(app, '/admin', 'Bearer beta'), 403, 'forbidden');
    expect(message).toContain("'admin'");
    await expectError(await withHeader(app, '/ingest', 'Bearer gamma'), 403, 'forbidden');
    await expectError(await withHeader(app, '/read', 'Bearer alpha'), 403, 'forbidden');
  });

  it('with required: false, lets a request without a key through but still rejects a bad key', async () => {
    const open = appWith('alpha=ingest,gamma=read', false);
    const anonymous = await withHeader(open, '/read');
    expect(anonymous.status).toBe(200);
    expect(await anonymous.json()).toEqual({ key: null });
    expect(await (await withHeader(open, '/read', 'Bearer gamma')).json()).toEqual({ key: 'key2' });
    await expectError(await withHeader(open, '/read', 'Bearer nope'), 401, 'unauthorized');
  });
});

describe('parseApiKeys', () => {
  it('reads keys and their scopes; a key may contain "="', () => {
    const keys = parseApiKeys(' k1=ingest+admin , a=b=read,');
    expect(keys.map((k) => [k.id, [...k.scopes]])).toEqual([
      ['key1', ['ingest', 'admin']],
      ['key2', ['read']],
    ]);
  });

  it('rejects an unknown scope and an entry without scopes', () => {
    expect(() => parseApiKeys('k1=ingest+root')).toThrow(/unknown scope 'root'/);
    expect(() => parseApiKeys('justakey')).toThrow(/key=scope/);
  });
});

describe('findKey', () => {
  it('finds a key again after remembering it, and never answers for a near miss of a remembered key', () => {
    const keys = parseApiKeys('secret-one=ingest,secret-two=read');
    const other = parseApiKeys('secret-one=admin');
    for (let round = 0; round < 3; round++) {
      expect(findKey(keys, 'secret-one')?.id).toBe('key1');
      expect(findKey(keys, 'secret-two')?.id).toBe('key2');
      expect(findKey(keys, 'secret-on')).toBeUndefined();
      expect(findKey(keys, 'secret-one ')).toBeUndefined();
      expect(findKey(keys, 'SECRET-ONE')).toBeUndefined();
      // What one key list remembered does not answer for another list.
      expect([...(findKey(other, 'secret-one')?.scopes ?? [])]).toEqual(['admin']);
      expect(findKey(other, 'secret-two')).toBeUndefined();
    }
  });
});

describe('reads that require a key (READS_REQUIRE_KEY=true, the real app)', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ env: { READS_REQUIRE_KEY: 'true' } });
  });
  afterAll(async () => {
    await svc?.stop();
  });

  it('answers 401 to a read without a key', async () => {
    await expectError(await call(svc.app, 'GET', '/v1/boards/global/top'), 401, 'unauthorized');
    await expectError(await call(svc.app, 'GET', '/v1/boards'), 401, 'unauthorized');
    await expectError(await call(svc.app, 'GET', '/v1/boards/global/live'), 401, 'unauthorized');
  });

  it('answers 403 to a read with an ingest-only key', async () => {
    await expectError(
      await call(svc.app, 'GET', '/v1/boards/global/top', { key: TEST_KEYS.ingest }),
      403,
      'forbidden',
    );
  });

  it('answers 200 to a read with a read key', async () => {
    expect((await call(svc.app, 'GET', '/v1/boards/global/top', { key: TEST_KEYS.read })).status).toBe(200);
    expect((await call(svc.app, 'GET', '/v1/boards', { key: TEST_KEYS.read })).status).toBe(200);
  });

  it('keeps /healthz open', async () => {
    expect((await call(svc.app, 'GET', '/healthz')).status).toBe(200);
  });
});
