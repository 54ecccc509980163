/**
 * One user however their id is spelled: events sent with the NFD spelling of an id (through the
 * single-event fast path, through the Hono route, in a batch) and with its NFC spelling count for
 * one user, whose rank reads the same under either spelling; ids with zero-width or bidi control
 * characters are refused and enqueue nothing.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, TEST_KEYS, type TestService } from '../support/service.js';
import { call, expectError, expectNothingEnqueued } from './httpSupport.js';
import { eventually } from './socketClients.js';

const NFC = 'Ren\u00e9e';
const NFD = 'Rene\u0301e';

function post(base: string, path: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body);
    const req = request(
      `${base}${path}`,
      {
        method: 'POST',
        agent: false,
        headers: {
          authorization: `Bearer ${TEST_KEYS.ingest}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

describe('ids are one user in NFC and NFD', () => {
  let svc: TestService;
  let fast: string;
  let hono: string;
  beforeAll(async () => {
    svc = await startTestService({ workers: true });
    fast = await svc.listen();
    hono = await svc.listen({ honoOnly: true });
  });
  afterAll(async () => {
    await svc?.stop();
  });

  it('counts NFD and NFC events, by every ingest path, for one user, read under either spelling', async () => {
    expect(NFC).not.toBe(NFD);
    expect(await post(fast, '/v1/boards/global/events', { userId: NFD, value: 1 })).toBe(202);
    expect(await post(hono, '/v1/boards/global/events', { userId: NFD, value: 2 })).toBe(202);
    expect(await post(fast, '/v1/boards/global/events', { userId: NFC, value: 4 })).toBe(202);
    const batch = { events: [{ board: 'global', userId: NFD, value: 8 }] };
    expect(await post(fast, '/v1/events', batch)).toBe(202);
    const standing = async (spelling: string) => {
      const res = await call(svc.app, 'GET', `/v1/boards/global/users/${encodeURIComponent(spelling)}`);
      return res.status === 200 ? ((await res.json()) as { userId: string; score: number }) : undefined;
    };
    await eventually(async () => (await standing(NFC))?.score === 15, 10_000, 'all four events applied');
    expect(await standing(NFD)).toEqual(await standing(NFC));
    expect((await standing(NFD))?.userId).toBe(NFC);
    const top = (await (await call(svc.app, 'GET', '/v1/boards/global/top')).json()) as {
      entries: { userId: string }[];
    };
    expect(top.entries.filter((e) => e.userId.normalize('NFC') === NFC).map((e) => e.userId)).toEqual([NFC]);
  });

  it('dedupes an eventId resent in the other spelling', async () => {
    const event = (eventId: string) => ({ userId: 'dedupe-user', value: 5, eventId });
    expect(await post(fast, '/v1/boards/global/events', event(`e-${NFC}`))).toBe(202);
    expect(await post(hono, '/v1/boards/global/events', event(`e-${NFD}`))).toBe(202);
    // Sent last, to the same partition: once it counts, the two before it have been applied.
    expect(await post(fast, '/v1/boards/global/events', { userId: 'dedupe-user', value: 100 })).toBe(202);
    const score = async () => {
      const res = await call(svc.app, 'GET', '/v1/boards/global/users/dedupe-user');
      return res.status === 200 ? ((await res.json()) as { score: number }).score : 0;
    };
    await eventually(async () => (await score()) >= 100, 10_000, 'the events applied');
    expect(await score()).toBe(105);
  });

  it('refuses ids with zero-width or bidi control characters in the path, the body and friend lists', async () => {
    await expectError(
      await call(svc.app, 'GET', `/v1/boards/global/users/${encodeURIComponent('ann\u200b')}`),
      400,
      'invalid-user-id',
    );
    const res = await expectNothingEnqueued(svc.services, () =>
      call(svc.app, 'POST', '/v1/boards/global/events', {
        key: TEST_KEYS.ingest,
        body: { userId: '\u202eann', value: 1 },
      }),
    );
    expect(await expectError(res, 400, 'invalid-body')).toBe(
      'userId: must not contain zero-width or bidirectional control characters',
    );
    const friends = await call(svc.app, 'PUT', '/v1/users/ann/friends', {
      key: TEST_KEYS.ingest,
      body: { friends: ['bob', 'b\u2066ob'] },
    });
    expect(await expectError(friends, 400, 'invalid-body')).toContain('friends.1');
  });
});
