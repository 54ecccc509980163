/**
 * Many boards and unknown ones (issue 15), over real sockets from several loopback addresses: with
 * 2,000 boards, a client on 127.0.0.2 sending events to boards that do not exist gets 404 for each
 * and never has one enqueued, while reads from 127.0.0.3 are answered within the deadline; a board
 * created meanwhile through another process's registry is found by the next request naming it.
 */
import { Agent, request } from 'node:http';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BoardConfig, BoardRegistry } from '../../leaderboard/index.js';
import { stateKeys } from '../../operators/stateKeys.js';
import { TEST_KEYS } from '../support/service.js';
import { type Edge, edgeWith, getFrom } from './socketClients.js';

const ATTACKER = '127.0.0.2';
const OTHER = '127.0.0.3';
const BOARDS = 2000;

const board = (id: string): BoardConfig => ({
  id,
  policy: 'sum',
  order: 'desc',
  windows: ['all'],
  topK: 10,
  graceSeconds: 0,
  retentionDays: 1,
});

/** POSTs one event to `path` from `from`; resolves with the status. */
function post(base: string, path: string, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}${path}`,
      {
        method: 'POST',
        agent,
        headers: { authorization: `Bearer ${TEST_KEYS.ingest}`, 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error('no answer within 5000 ms')));
    req.on('error', reject);
    req.end('{"userId":"u1","value":1}');
  });
}

describe(`${BOARDS} boards and a client naming boards that do not exist`, () => {
  let e: Edge;
  let elsewhere: BoardRegistry;
  let connection: Redis;
  beforeAll(async () => {
    e = await edgeWith({ RATE_LIMIT_RPS: '1000000' });
    // Another process's registry on the same Redis (the service's own caches its boards).
    connection = e.svc.redis.duplicate();
    elsewhere = new BoardRegistry(connection, e.svc.config.KEY_PREFIX);
    await elsewhere.load();
    for (let i = 0; i < BOARDS; i++) await elsewhere.put(board(`b${i}`));
  });
  afterAll(async () => {
    connection?.disconnect();
    await e?.stop();
  });

  it('answers each 404 without enqueueing it while others read, and finds a board created meanwhile', async () => {
    const streams = Array.from(
      { length: e.svc.config.PARTITIONS },
      (_, p) => stateKeys(e.svc.config.KEY_PREFIX, p).stream,
    );
    const lengthBefore = await Promise.all(streams.map((s) => e.svc.redis.xlen(s)));
    const agent = new Agent({ keepAlive: true, maxSockets: 16, localAddress: ATTACKER });
    let flooding = true;
    const statuses: number[] = [];
    const flood = (async () => {
      for (let round = 0; flooding && round < 1000; round++) {
        statuses.push(
          ...(await Promise.all(
            Array.from({ length: 16 }, (_, i) => post(e.base, `/v1/boards/nope-${round}-${i}/events`, agent)),
          )),
        );
      }
    })();
    try {
      for (let i = 0; i < 20; i++) {
        const top = await getFrom(e.base, `/v1/boards/b${i * 97}/top`, { from: OTHER });
        expect(top.status).toBe(200);
      }
      await elsewhere.put(board('late'));
      const late = await getFrom(e.base, '/v1/boards/late/top', { from: OTHER });
      expect(late.status).toBe(200);
    } finally {
      flooding = false;
      await flood;
      agent.destroy();
    }
    expect(statuses.length).toBeGreaterThan(0);
    expect(new Set(statuses)).toEqual(new Set([404]));
    expect(await Promise.all(streams.map((s) => e.svc.redis.xlen(s)))).toEqual(lengthBefore);
    // The list pages over every board, and the service knows them all.
    const first = await getFrom(e.base, '/v1/boards?limit=1000', { from: OTHER });
    const page = JSON.parse(first.body) as { boards: { id: string }[]; next: string };
    expect(page.boards).toHaveLength(1000);
    expect(e.svc.services.boards.size).toBe(BOARDS + 2); // b0..b1999, late, global
  });
});
