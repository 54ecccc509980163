import { compileErrors, validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, expectError } from '../../test/server/httpSupport.js';
import { startTestService, TEST_KEYS, type TestService } from '../../test/support/service.js';

/** Every route of API.md, as OpenAPI paths. */
const CONTRACT: Record<string, string[]> = {
  '/v1/boards': ['get'],
  '/v1/boards/{board}': ['put'],
  '/v1/boards/{board}/events': ['post'],
  '/v1/events': ['post'],
  '/v1/boards/{board}/top': ['get'],
  '/v1/boards/{board}/users/{userId}': ['get'],
  '/v1/boards/{board}/users/{userId}/around': ['get'],
  '/v1/boards/{board}/users/{userId}/friends': ['get'],
  '/v1/boards/{board}/live': ['get'],
  '/v1/users/{userId}/profile': ['put'],
  '/v1/users/{userId}/friends': ['put'],
  '/healthz': ['get'],
  '/readyz': ['get'],
  '/metrics': ['get'],
};

describe('operation routes (app.request, no workers)', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(async () => {
    await svc?.stop();
  });

  it('GET /healthz answers 200 without a key while the process is up', async () => {
    const res = await call(svc.app, 'GET', '/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz answers 503 with Retry-After and names the failing check when no worker runs', async () => {
    const res = await call(svc.app, 'GET', '/readyz');
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await res.json()).toEqual({
      status: 'not-ready',
      checks: { redis: true, database: true, workers: false },
    });
  });

  it('GET /metrics answers the Prometheus text format with request and ingest counters', async () => {
    await call(svc.app, 'GET', '/healthz');
    const ingest = await call(svc.app, 'POST', '/v1/boards/global/events', {
      key: TEST_KEYS.ingest,
      body: { userId: 'ann', value: 1 },
    });
    expect(ingest.status).toBe(202);
    await call(svc.app, 'GET', '/no/such/route');
    const res = await call(svc.app, 'GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('# HELP lb_http_requests_total');
    expect(text).toContain('# TYPE lb_http_requests_total counter');
    expect(text).toMatch(/^lb_http_requests_total\{route="\/healthz",status="200"\} [1-9]\d*$/m);
    expect(text).toMatch(/^lb_http_requests_total\{route="\/v1\/boards\/:board\/events",status="202"\} 1$/m);
    expect(text).toMatch(/^lb_http_requests_total\{route="unmatched",status="404"\} [1-9]\d*$/m);
    expect(text).toMatch(/^lb_ingest_events_total 1$/m);
    // No workers run here: the accepted event waits undelivered in its user's partition.
    const partition = svc.services.writer.partitionOf('ann');
    expect(text).toMatch(new RegExp(`^lb_partition_lag\\{partition="${partition}"\\} 1$`, 'm'));
    expect(text).toMatch(new RegExp(`^lb_partition_pending\\{partition="${partition}"\\} 0$`, 'm'));
    // Every sample line is `name{labels} value` or `name value`.
    for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) {
      expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? -?(\d|NaN|\+Inf|-Inf)/);
    }
  });

  it('GET /openapi.json describes every route of the contract', async () => {
    const res = await call(svc.app, 'GET', '/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\./);
    for (const [path, methods] of Object.entries(CONTRACT)) {
      expect(Object.keys(doc.paths), path).toContain(path);
      for (const method of methods)
        expect(Object.keys(doc.paths[path]!), `${method} ${path}`).toContain(method);
    }
  });

  it('GET /openapi.json is a valid OpenAPI 3.1 document (@readme/openapi-parser)', async () => {
    const doc = await (await call(svc.app, 'GET', '/openapi.json')).json();
    const result = await validate(doc);
    expect(result.valid, compileErrors(result)).toBe(true);
    expect(result.warnings).toEqual([]);
  });

  it('GET /openapi.json describes every route of the app (app.routes)', async () => {
    const doc = (await (await call(svc.app, 'GET', '/openapi.json')).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const routes = svc.app.routes.filter((r) => r.method !== 'ALL');
    expect(routes.length).toBeGreaterThan(Object.keys(CONTRACT).length);
    for (const route of routes) {
      const path = route.path.replace(/:([A-Za-z]+)/g, '{$1}');
      expect(doc.paths[path]?.[route.method.toLowerCase()], `${route.method} ${route.path}`).toBeDefined();
    }
  });

  it('GET /docs answers a human-readable HTML page listing the routes', async () => {
    const res = await call(svc.app, 'GET', '/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const page = await res.text();
    expect(page).toMatch(/^<!doctype html>/i);
    expect(page).toContain('/openapi.json');
    for (const path of Object.keys(CONTRACT)) expect(page, path).toContain(path);
  });

  it('GET / answers the dashboard page, which loads its modules and uPlot from the app', async () => {
    const res = await call(svc.app, 'GET', '/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const page = await res.text();
    const assets = [...page.matchAll(/(?:src|href)="(\/dashboard\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.sort()).toEqual([
      '/dashboard/dashboard.css',
      '/dashboard/main.js',
      '/dashboard/uPlot.iife.min.js',
      '/dashboard/uPlot.min.css',
    ]);
    for (const asset of assets) {
      const file = await call(svc.app, 'GET', asset);
      expect(file.status, asset).toBe(200);
      expect(file.headers.get('content-type'), asset).toMatch(
        asset.endsWith('.css') ? /^text\/css/ : /^text\/javascript/,
      );
    }
    expect(await (await call(svc.app, 'GET', '/dashboard/uPlot.iife.min.js')).text()).toContain('uPlot');
  });

  it('GET /dashboard/:file serves only the dashboard files (404 for anything else)', async () => {
    const main = await (await call(svc.app, 'GET', '/dashboard/main.js')).text();
    for (const module of main.matchAll(/from '\.\/([a-zA-Z]+\.js)'/g)) {
      expect((await call(svc.app, 'GET', `/dashboard/${module[1]}`)).status, module[1]).toBe(200);
    }
    for (const path of [
      '/dashboard/index.ts',
      '/dashboard/..%2F..%2Fpackage.json',
      '/dashboard/nothing.js',
    ]) {
      await expectError(await call(svc.app, 'GET', path), 404, 'not-found');
    }
  });
});
