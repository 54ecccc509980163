import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, expectError } from '../../test/server/httpSupport.js';
import { startTestService, TEST_KEYS, type TestService } from '../../test/support/service.js';

describe('live route (app.request, no workers)', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService();
    const board = { windows: ['all', 'day'], topK: 5 };
    expect(
      (await call(svc.app, 'PUT', '/v1/boards/stream', { key: TEST_KEYS.admin, body: board })).status,
    ).toBe(201);
  });
  afterAll(async () => {
    await svc?.stop();
  });

  /** Reads the stream until the first complete SSE event, then cancels it. */
  const firstEvent = async (res: Response) => {
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      while (!buffer.includes('\n\n')) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
      }
    } finally {
      await reader.cancel();
    }
    return buffer.slice(0, buffer.indexOf('\n\n')).split('\n');
  };

  it('opens an event stream whose first event is the current top (same body as /top)', async () => {
    const res = await call(svc.app, 'GET', '/v1/boards/stream/live?window=day');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const lines = await firstEvent(res);
    expect(lines).toContain('event: top');
    const data = JSON.parse(lines.find((l) => l.startsWith('data: '))!.slice(6));
    const top = await (await call(svc.app, 'GET', '/v1/boards/stream/top?window=day')).json();
    expect(data).toEqual(top);
    expect(data).toMatchObject({ board: 'stream', window: 'day', version: 0, entries: [] });
  });

  it('answers 404 unknown-board for a board that does not exist', async () => {
    await expectError(await call(svc.app, 'GET', '/v1/boards/missing/live'), 404, 'unknown-board');
  });

  it('answers 400 invalid-query for window=year, a window the board does not keep, and k=0', async () => {
    await expectError(await call(svc.app, 'GET', '/v1/boards/stream/live?window=year'), 400, 'invalid-query');
    await expectError(
      await call(svc.app, 'GET', '/v1/boards/stream/live?window=month'),
      400,
      'invalid-query',
    );
    await expectError(await call(svc.app, 'GET', '/v1/boards/stream/live?k=0'), 400, 'invalid-query');
  });

  it('answers 401 for an unknown key', async () => {
    await expectError(
      await call(svc.app, 'GET', '/v1/boards/stream/live', { key: 'nope' }),
      401,
      'unauthorized',
    );
  });
});
