/**
 * Failure drill 3 (issue 5): redis-server SIGKILLed mid-stream and restarted on the same port and
 * data directory, with AOF and `appendfsync always`. The real service (server/main.ts: the edge
 * over HTTP and the workers, on the production connection options) runs against it while clients
 * keep POSTing single events and batches. Each request's outcome is recorded: 202, or failed (503
 * or a connection error: its events may or may not have been written).
 *
 * Two kills: one with an outage longer than the service's Redis retries (requests fail with 503
 * meanwhile), then one restarted at once, so the connections come back while commands whose
 * replies were lost are still queued (ioredis would send them again).
 *
 * After the restarts the failed requests' identified events (those with an eventId) are sent
 * again, with the same eventIds, until accepted. Once the group is drained, every board and
 * window must hold exactly what the reference model computes from: every event answered 202, the
 * retried identified events once each, and the failed events without an eventId that the
 * restarted Redis holds (no client could retry those safely; the stream says whether they were
 * written). Every event answered 202 must be in the restarted Redis, and none may count twice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { partitionKeys } from 'redis-streams-consumer-groups';
import { afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../consumer-groups/test/support.js';
import { DEFAULTS, scoreEventCodec } from '../../leaderboard/index.js';
import { loadConfig } from '../../server/config.js';
import { type RunningService, startService } from '../../server/main.js';
import { DRILL_BOARDS, type Outcome } from '../support/drillTraffic.js';
import type { ModelEvent } from '../support/leaderboardModel.js';
import { drained, expectModelState } from '../support/leaderboardState.js';
import { freePort, type RedisServerHandle, startRedisServer } from '../support/redisServer.js';

const PARTITIONS = 4;
const CLIENTS = 4;
const KEY = 'drill-key';
const PREFIX = 'drill';
const AOF = ['--appendonly', 'yes', '--appendfsync', 'always', '--appenddirname', 'appendonly'];

interface Sent {
  events: ModelEvent[];
  outcome: Outcome;
  /** Which phase of the drill the request was answered in. */
  phase: Phase;
  status: number | string;
}

/** before the first kill; the outage; after the first restart; the second kill; after it. */
type Phase = 'before' | 'outage' | 'after' | 'blip' | 'final';

/** A small deterministic generator (an LCG), so a failing run's traffic can be told apart. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/** The identity of one event in the stream: every event has its own ts. */
const identity = (e: { board: string; userId: string; ts: number }) => `${e.board}/${e.userId}/${e.ts}`;

describe('redis-server SIGKILLed and restarted (AOF, appendfsync always)', () => {
  let redisServer: RedisServerHandle | undefined;
  let service: RunningService | undefined;
  let inspect: Redis | undefined;
  const dirs: string[] = [];

  afterEach(async () => {
    await service?.stop();
    inspect?.disconnect();
    await redisServer?.stop();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('counts every event answered 202, once, after the restarts', async () => {
    const redisDir = mkdtempSync(join(tmpdir(), 'lb-drill-redis-'));
    const dataDir = mkdtempSync(join(tmpdir(), 'lb-drill-data-'));
    dirs.push(redisDir, dataDir);
    const port = await freePort();
    redisServer = await startRedisServer({ port, dir: redisDir, args: AOF });
    const config = loadConfig({
      REDIS_URL: redisServer.url,
      PORT: '0',
      PARTITIONS: String(PARTITIONS),
      KEY_PREFIX: PREFIX,
      API_KEYS: `${KEY}=ingest+admin+read`,
      DATA_DIR: dataDir,
      REFRESH_MS: '20',
      RATE_LIMIT_RPS: '0',
      LOG_LEVEL: 'silent',
    });
    service = await startService(config, { workers: 1, http: true });
    const base = service.url!;
    const headers = { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' };
    for (const board of DRILL_BOARDS) {
      const res = await fetch(`${base}/v1/boards/${board.id}`, {
        method: 'PUT',
        headers,
        body: JSON.stringify(board),
      });
      expect(res.status, `PUT board ${board.id}`).toBe(201);
    }

    // Traffic: every event has its own ts (so `last` has no ties and each event is identifiable
    // in the stream); about two thirds carry an eventId.
    const next = random(20_251_205);
    const pick = (n: number) => Math.floor(next() * n);
    const startTs = Date.now();
    let seq = 0;
    const makeEvent = (): ModelEvent => {
      const board = DRILL_BOARDS[pick(DRILL_BOARDS.length)]!;
      const n = seq++;
      const event: ModelEvent = {
        board: board.id,
        userId: `user-${pick(25)}`,
        value: board.policy === 'sum' ? pick(50) - 10 : pick(1000),
        ts: startTs + n,
      };
      if (next() < 0.65) event.eventId = `ev-${n}`;
      return event;
    };

    let phase: Phase = 'before';
    let sending = true;
    const sent: Sent[] = [];
    const post = async (
      events: ModelEvent[],
      single: boolean,
    ): Promise<{ ok: boolean; status: number | string }> => {
      const [first] = events;
      const url = single ? `${base}/v1/boards/${first!.board}/events` : `${base}/v1/events`;
      const body = single
        ? { userId: first!.userId, value: first!.value, ts: first!.ts, eventId: first!.eventId }
        : { events };
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers,
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(15_000),
        });
        await res.arrayBuffer();
        return { ok: res.status === 202, status: res.status };
      } catch (error) {
        return { ok: false, status: (error as Error).name };
      }
    };
    const client = async () => {
      while (sending) {
        const single = next() < 0.5;
        const events = Array.from({ length: single ? 1 : 2 + pick(30) }, makeEvent);
        const { ok, status } = await post(events, single);
        sent.push({ events, outcome: ok ? 'accepted' : 'failed', phase, status });
        await sleep(ok ? 2 : 50);
      }
    };
    const clients = Array.from({ length: CLIENTS }, client);
    const count = (p: Phase, outcome: Outcome) =>
      sent.filter((s) => s.phase === p && s.outcome === outcome).length;
    const kill = async () => {
      redisServer!.process.kill('SIGKILL');
      await redisServer!.stop();
      expect(redisServer!.process.signalCode).toBe('SIGKILL');
    };

    await waitUntil(() => count('before', 'accepted') >= 80, 20_000, 'requests accepted before the kill');
    // 1. An outage longer than the edge's retries: appends fail with 503 until Redis is back.
    phase = 'outage';
    await kill();
    await waitUntil(() => count('outage', 'failed') >= 5, 20_000, 'requests failing during the outage');
    redisServer = await startRedisServer({ port, dir: redisDir, args: AOF });
    phase = 'after';
    await waitUntil(() => count('after', 'accepted') >= 60, 30_000, 'requests accepted after the restart');
    // 2. Killed and restarted at once: the connections come back before their commands give up,
    // so commands whose replies were lost would be sent again (see appendConnection).
    phase = 'blip';
    await kill();
    redisServer = await startRedisServer({ port, dir: redisDir, args: AOF });
    phase = 'final';
    await waitUntil(
      () => count('final', 'accepted') >= 20,
      30_000,
      'requests accepted after the second restart',
    );
    sending = false;
    await Promise.all(clients);

    // The failed requests' identified events, again with the same eventIds, until accepted.
    const failed = sent.filter((s) => s.outcome === 'failed');
    const retried = failed.flatMap((s) => s.events.filter((e) => e.eventId !== undefined));
    for (let i = 0; i < retried.length; i += 50) {
      const chunk = retried.slice(i, i + 50);
      await waitUntil(async () => (await post(chunk, false)).ok, 20_000, 'a retry accepted');
    }

    inspect = new Redis(redisServer.url);
    await waitUntil(
      () => drained(inspect!, PREFIX, DEFAULTS.group, PARTITIONS),
      30_000,
      'the group drained after the restarts',
    ).catch(async (error: Error) => {
      // Which partition is stuck, and how: pending entries nobody claims, or entries not read.
      const info = await service!.services.admin.groupInfo();
      throw new Error(`${error.message}: ${JSON.stringify(info)}`);
    });

    // What the restarted Redis holds: how many times each event was appended.
    const inStream = new Map<string, number>();
    for (let p = 0; p < PARTITIONS; p++) {
      for (const [, fields] of await inspect.xrange(partitionKeys(PREFIX, p).stream, '-', '+')) {
        const f: Record<string, string> = {};
        for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
        const decoded = scoreEventCodec.decode(f);
        if (!decoded.ok) throw new Error(`an entry the edge wrote does not decode: ${decoded.reason}`);
        const key = identity(decoded.value);
        inStream.set(key, (inStream.get(key) ?? 0) + 1);
      }
    }
    // A dependency down is 503 (API.md), or no answer at all; any other status is a bug of its own.
    expect(
      sent.filter((s) => s.outcome === 'failed' && typeof s.status === 'number' && s.status !== 503),
      'failed requests answered other than 503',
    ).toEqual([]);
    const accepted = sent.filter((s) => s.outcome === 'accepted').flatMap((s) => s.events);
    expect(
      accepted.filter((e) => !inStream.has(identity(e))),
      'every event answered 202 is in the restarted Redis (AOF, appendfsync always)',
    ).toEqual([]);
    expect(
      accepted.filter((e) => e.eventId === undefined && inStream.get(identity(e)) !== 1),
      'events without an eventId answered 202: appended once, not again by a reconnect',
    ).toEqual([]);
    const unidentifiedFailed = failed.flatMap((s) => s.events.filter((e) => e.eventId === undefined));
    expect(
      unidentifiedFailed.filter((e) => (inStream.get(identity(e)) ?? 0) > 1),
      'failed events without an eventId: appended at most once',
    ).toEqual([]);
    const writtenAnyway = unidentifiedFailed.filter((e) => inStream.has(identity(e)));

    const events = [...accepted, ...retried, ...writtenAnyway];
    const { model } = await expectModelState(inspect, PREFIX, PARTITIONS, DRILL_BOARDS, events);
    expect(model.late, 'no event is late in this drill').toEqual([]);
    let deadLetters = 0;
    for (let p = 0; p < PARTITIONS; p++) deadLetters += await inspect.xlen(partitionKeys(PREFIX, p).dlq);
    expect(deadLetters, 'no healthy event dead-lettered by the outage').toBe(0);

    // The edge and the workers are back for good.
    await waitUntil(async () => (await fetch(`${base}/readyz`)).status === 200, 10_000, 'ready again');

    // The drill exercised the failure.
    expect(count('before', 'accepted'), 'accepted before the kill').toBeGreaterThan(0);
    expect(count('outage', 'failed'), 'failed during the outage').toBeGreaterThan(0);
    expect(count('after', 'accepted'), 'accepted after the restart').toBeGreaterThan(0);
    expect(count('final', 'accepted'), 'accepted after the second restart').toBeGreaterThan(0);
  }, 90_000);
});
