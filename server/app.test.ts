import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, expectError, expectNothingEnqueued } from '../test/server/httpSupport.js';
import { startTestService, TEST_KEYS, type TestService } from '../test/support/service.js';

describe('the app: unknown routes, wrong methods and the error shape', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(async () => {
    await svc?.stop();
  });

  for (const path of ['/v1/nothing', '/v2/boards', '/v1/boards/global/bottom', '/v1/boards/global/users']) {
    it(`answers 404 not-found for GET ${path}`, async () => {
      const message = await expectError(await call(svc.app, 'GET', path), 404, 'not-found');
      expect(message).toContain(path);
    });
  }

  it('answers 404 not-found for a POST to an unknown route, and enqueues nothing', async () => {
    const res = await expectNothingEnqueued(svc.services, () =>
      call(svc.app, 'POST', '/v1/event', {
        key: TEST_KEYS.ingest,
        body: { events: [{ board: 'global', userId: 'a', value: 1 }] },
      }),
    );
    await expectError(res, 404, 'not-found');
  });

  const wrongMethods: [string, string, string][] = [
    ['DELETE', '/v1/boards/global', 'PUT'],
    ['PUT', '/v1/events', 'POST'],
    ['POST', '/healthz', 'GET'],
    ['DELETE', '/v1/users/ann/friends', 'PUT'],
    ['PATCH', '/v1/boards/global/users/ann', 'GET'],
  ];
  for (const [method, path, allowed] of wrongMethods) {
    it(`answers 405 method-not-allowed with Allow: ${allowed} for ${method} ${path}`, async () => {
      const res = await call(svc.app, method, path, { key: TEST_KEYS.admin });
      await expectError(res, 405, 'method-not-allowed');
      expect(res.headers.get('allow')?.split(/,\s*/)).toContain(allowed);
    });
  }

  it('answers 405 for a wrong method before checking the key', async () => {
    await expectError(await call(svc.app, 'DELETE', '/v1/events'), 405, 'method-not-allowed');
  });
});
