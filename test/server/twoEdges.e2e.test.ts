/**
 * Two edge processes over one Redis (the stateless edge behind a load balancer): a board created
 * through one edge is known to the other at once, for ingest and for every read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../consumer-groups/test/support.js';
import { drained } from '../support/leaderboardState.js';
import { startTestService, TEST_KEYS, type TestService } from '../support/service.js';
import { call } from './httpSupport.js';

describe('two edges sharing one Redis', () => {
  let a: TestService;
  let b: TestService;
  beforeAll(async () => {
    a = await startTestService({ workers: true });
    b = await startTestService({ env: { KEY_PREFIX: a.config.KEY_PREFIX } });
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  it('a board created through edge A is readable through edge B (not 404) before B ingests anything', async () => {
    const board = { policy: 'max', order: 'asc', windows: ['all'], topK: 5 };
    expect((await call(a.app, 'PUT', '/v1/boards/laps', { key: TEST_KEYS.admin, body: board })).status).toBe(
      201,
    );
    const events = [
      { board: 'laps', userId: 'ann', value: 31 },
      { board: 'laps', userId: 'bob', value: 29 },
    ];
    expect(
      (await call(a.app, 'POST', '/v1/events', { key: TEST_KEYS.ingest, body: { events } })).status,
    ).toBe(202);
    await waitUntil(() => drained(a.redis, a.config.KEY_PREFIX, 'workers', a.config.PARTITIONS));

    const top = await waitUntil(async () => {
      const res = await call(b.app, 'GET', '/v1/boards/laps/top');
      expect(res.status).toBe(200);
      const body = (await res.json()) as { entries: unknown[] };
      return body.entries.length === 2 && body;
    });
    expect(top.entries).toEqual([
      { rank: 1, userId: 'bob', score: 29 },
      { rank: 2, userId: 'ann', score: 31 },
    ]);
    const standing = await call(b.app, 'GET', '/v1/boards/laps/users/ann');
    expect(await standing.json()).toMatchObject({ userId: 'ann', rank: 2, score: 31, total: 2 });
    expect((await call(b.app, 'GET', '/v1/boards/laps/users/ann/around?n=1')).status).toBe(200);
    expect((await call(b.app, 'GET', '/v1/boards/laps/users/ann/friends')).status).toBe(200);
  });

  it('the live stream of edge B opens for a board just created through edge A', async () => {
    expect(
      (await call(a.app, 'PUT', '/v1/boards/fresh-live', { key: TEST_KEYS.admin, body: {} })).status,
    ).toBe(201);
    const res = await call(b.app, 'GET', '/v1/boards/fresh-live/live');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await res.body?.cancel();
  });

  it('edge B accepts events for a board just created through edge A', async () => {
    expect(
      (await call(a.app, 'PUT', '/v1/boards/fresh-ingest', { key: TEST_KEYS.admin, body: {} })).status,
    ).toBe(201);
    const res = await call(b.app, 'POST', '/v1/boards/fresh-ingest/events', {
      key: TEST_KEYS.ingest,
      body: { userId: 'cat', value: 1 },
    });
    expect(res.status).toBe(202);
  });
});
