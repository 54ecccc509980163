/**
 * The clients of the failover drills and the check that ends each drill. Clients keep POSTing
 * single events and batches to the service over HTTP and record what each request was answered:
 * 202, or failed (503, or no answer: its events may or may not have been written). Every event is
 * identifiable in the streams afterwards (each has its own `ts`; about two thirds also carry an
 * eventId, the rest are the events no client could safely retry).
 *
 * The check, once the faults are over: the failed requests' identified events are sent again with
 * the same eventIds until accepted; then, once the group is drained, every event answered 202 must
 * be in the streams (unless the drill measures a loss window), appended once; no failed event
 * without an eventId may be there twice; every board and window must hold exactly what the
 * reference model computes from what was counted; and `verifyBoards` must find no top that differs
 * from a fresh merge.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster, Redis } from 'ioredis';
import { partitionKeys } from 'redis-streams-consumer-groups';
import { expect } from 'vitest';
import { waitUntil } from '../../consumer-groups/test/support.js';
import { type BoardConfig, BoardRegistry, DEFAULTS, verifyBoards } from '../../leaderboard/index.js';
import { random } from './eventRounds.js';
import type { ModelEvent } from './leaderboardModel.js';
import { drained, expectModelState } from './leaderboardState.js';

/** Boards of every policy, with a grace long enough that no drill event is late. */
export const DRILL_BOARDS: BoardConfig[] = [
  {
    id: 'points',
    policy: 'sum',
    order: 'desc',
    windows: ['all', 'day', 'week', 'month'],
    topK: 10,
    graceSeconds: 3600,
    retentionDays: 30,
  },
  {
    id: 'best',
    policy: 'max',
    order: 'desc',
    windows: ['all', 'day'],
    topK: 10,
    graceSeconds: 3600,
    retentionDays: 30,
  },
  {
    id: 'laps',
    policy: 'min',
    order: 'asc',
    windows: ['all', 'week'],
    topK: 10,
    graceSeconds: 3600,
    retentionDays: 30,
  },
  {
    id: 'level',
    policy: 'last',
    order: 'desc',
    windows: ['all'],
    topK: 10,
    graceSeconds: 3600,
    retentionDays: 30,
  },
];

export type Outcome = 'accepted' | 'failed';

export interface SentRequest {
  events: ModelEvent[];
  outcome: Outcome;
  /** The drill's phase when the answer came. */
  phase: string;
  /** The HTTP status, or the name of the error when there was no answer. */
  status: number | string;
  /** The error code of a refusal (`unavailable`, `not-replicated`, ...). */
  code?: string;
}

export interface TrafficOptions {
  /** The service's base URL. */
  base: string;
  /** A key with the ingest and admin scopes. */
  key: string;
  seed: number;
  /** Concurrent clients. Default 4. */
  clients?: number;
  /** Distinct users. Default 40. */
  users?: number;
  boards?: BoardConfig[];
  /** Longest batch. Default 30. */
  maxBatch?: number;
}

/** The identity of one event in the streams: every event has its own ts. */
export const identity = (e: { board: string; userId: string; ts: number }): string =>
  `${e.board}/${e.userId}/${e.ts}`;

/**
 * Clients posting events while a drill runs its faults.
 *
 * @example
 * const traffic = new DrillTraffic({ base, key, seed: 1 });
 * await traffic.putBoards();
 * traffic.start();
 * await traffic.waitFor('before', 'accepted', 50);
 * traffic.phase = 'fault';
 * // ... the fault ...
 * await traffic.stop();
 */
export class DrillTraffic {
  phase = 'before';
  readonly sent: SentRequest[] = [];
  readonly boards: BoardConfig[];
  private sending = false;
  private clients: Promise<void>[] = [];
  private seq = 0;
  private readonly next: () => number;
  private readonly startTs = Date.now();
  private readonly headers: Record<string, string>;

  constructor(private readonly options: TrafficOptions) {
    this.boards = options.boards ?? DRILL_BOARDS;
    this.next = random(options.seed);
    this.headers = { Authorization: `Bearer ${options.key}`, 'Content-Type': 'application/json' };
  }

  /** Creates the drill's boards through the API. */
  async putBoards(): Promise<void> {
    for (const board of this.boards) {
      const res = await fetch(`${this.options.base}/v1/boards/${board.id}`, {
        method: 'PUT',
        headers: this.headers,
        body: JSON.stringify(board),
      });
      expect(res.status, `PUT board ${board.id}`).toBe(201);
    }
  }

  start(): void {
    this.sending = true;
    this.clients = Array.from({ length: this.options.clients ?? 4 }, () => this.client());
  }

  async stop(): Promise<void> {
    this.sending = false;
    await Promise.all(this.clients);
  }

  count(phase: string, outcome: Outcome): number {
    return this.sent.filter((s) => s.phase === phase && s.outcome === outcome).length;
  }

  /** Waits until `n` requests answered in `phase` had this outcome. */
  waitFor(phase: string, outcome: Outcome, n: number, timeoutMs = 30_000): Promise<true> {
    return waitUntil(
      () => this.count(phase, outcome) >= n,
      timeoutMs,
      `${n} requests ${outcome} in phase '${phase}' (so far ${this.count(phase, 'accepted')} accepted, ${this.count(phase, 'failed')} failed)`,
    );
  }

  /** Events answered 202. */
  accepted(): ModelEvent[] {
    return this.sent.filter((s) => s.outcome === 'accepted').flatMap((s) => s.events);
  }

  /** Sends one request: a single event, or a batch. */
  async post(
    events: ModelEvent[],
    single: boolean,
  ): Promise<{ ok: boolean; status: number | string; code?: string }> {
    const [first] = events;
    const url = single
      ? `${this.options.base}/v1/boards/${first!.board}/events`
      : `${this.options.base}/v1/events`;
    const body = single
      ? { userId: first!.userId, value: first!.value, ts: first!.ts, eventId: first!.eventId }
      : { events };
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: this.headers,
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(20_000),
      });
      const text = await res.text();
      let code: string | undefined;
      if (res.status !== 202) code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
      return { ok: res.status === 202, status: res.status, code };
    } catch (error) {
      return { ok: false, status: (error as Error).name };
    }
  }

  /**
   * The failed requests' events that carry an eventId, sent again (50 to a batch) until each batch
   * is accepted; resolves with them.
   */
  async retryFailed(timeoutMs = 30_000): Promise<ModelEvent[]> {
    const retried = this.sent
      .filter((s) => s.outcome === 'failed')
      .flatMap((s) => s.events.filter((e) => e.eventId !== undefined));
    for (let i = 0; i < retried.length; i += 50) {
      const chunk = retried.slice(i, i + 50);
      await waitUntil(async () => (await this.post(chunk, false)).ok, timeoutMs, 'a retry accepted');
    }
    return retried;
  }

  private makeEvent(): ModelEvent {
    const pick = (n: number) => Math.floor(this.next() * n);
    const board = this.boards[pick(this.boards.length)]!;
    const n = this.seq++;
    const event: ModelEvent = {
      board: board.id,
      userId: `user-${pick(this.options.users ?? 40)}`,
      value: board.policy === 'sum' ? pick(50) - 10 : pick(1000),
      ts: this.startTs + n,
    };
    if (this.next() < 0.65) event.eventId = `ev-${n}`;
    return event;
  }

  private async client(): Promise<void> {
    const maxBatch = this.options.maxBatch ?? 30;
    while (this.sending) {
      const single = this.next() < 0.5;
      const length = single ? 1 : 2 + Math.floor(this.next() * (maxBatch - 1));
      const events = Array.from({ length }, () => this.makeEvent());
      const { ok, status, code } = await this.post(events, single);
      this.sent.push({ events, outcome: ok ? 'accepted' : 'failed', phase: this.phase, status, code });
      await sleep(ok ? 2 : 50);
    }
  }
}

/** How many times each event (by `identity`) is in the partitions' streams. */
export async function streamCensus(
  redis: Redis | Cluster,
  name: string,
  partitions: number,
): Promise<Map<string, number>> {
  const census = new Map<string, number>();
  for (let p = 0; p < partitions; p++) {
    for (const [, fields] of await redis.xrange(partitionKeys(name, p).stream, '-', '+')) {
      const packed = fields[fields.indexOf('s') + 1]!;
      const [board, userId, , ts] = packed.split('\u001f');
      const key = identity({ board: board!, userId: userId!, ts: Number(ts) });
      census.set(key, (census.get(key) ?? 0) + 1);
    }
  }
  return census;
}

export interface DrillFigures {
  /** The events answered 202 that are not in the streams (see `lost`); not printed. */
  lostEvents?: ModelEvent[];
  /** Requests answered 202, and failed. */
  accepted: number;
  failed: number;
  /** Events answered 202. */
  acceptedEvents: number;
  /** Events answered 202 that are not in the streams after the drill. */
  lost: number;
  /** Failed events sent again with their eventIds. */
  retried: number;
  /** Failed events without an eventId that are in the streams anyway. */
  writtenAnyway: number;
  /** The refusals' statuses and codes, e.g. `{"503 unavailable": 12}`. */
  refusals: Record<string, number>;
}

export interface ExactlyOnceCheck {
  redis: Redis | Cluster;
  traffic: DrillTraffic;
  name: string;
  partitions: number;
  /**
   * Events answered 202 may be missing from the streams (a loss window being measured, e.g.
   * `DURABILITY=local` through a master's SIGKILL): they are counted, and everything else is
   * checked on what the streams kept. Default false: every event answered 202 must be there.
   */
  measureLoss?: boolean;
  /** Resolves with a description of the group when it does not drain (for the error message). */
  describeBacklog?: () => Promise<unknown>;
}

/**
 * Ends a drill: retries the failed identified events, waits until the group is drained, then
 * asserts exactly-once against the reference model and `verifyBoards`. Resolves with the figures.
 */
export async function expectExactlyOnce(check: ExactlyOnceCheck): Promise<DrillFigures> {
  const { redis, traffic, name, partitions } = check;
  await traffic.stop();
  const retried = await traffic.retryFailed();
  await waitUntil(() => drained(redis, name, DEFAULTS.group, partitions), 60_000, 'the group drained').catch(
    async (error: Error) => {
      const backlog = await check.describeBacklog?.().catch((e: unknown) => String(e));
      throw new Error(`${error.message}: ${JSON.stringify(backlog)}`);
    },
  );

  const census = await streamCensus(redis, name, partitions);
  const failed = traffic.sent.filter((s) => s.outcome === 'failed');
  const refusals: Record<string, number> = {};
  for (const s of failed) {
    const label = `${s.status}${s.code ? ` ${s.code}` : ''}`;
    refusals[label] = (refusals[label] ?? 0) + 1;
  }
  // A dependency down is 503 (API.md), or no answer at all; any other status is a bug of its own.
  expect(
    failed.filter((s) => typeof s.status === 'number' && s.status !== 503),
    'failed requests answered other than 503',
  ).toEqual([]);

  const accepted = traffic.accepted();
  const lost = accepted.filter((e) => !census.has(identity(e)));
  if (!check.measureLoss) {
    expect(lost, 'every event answered 202 is in the streams').toEqual([]);
  }
  expect(
    accepted.filter((e) => e.eventId === undefined && (census.get(identity(e)) ?? 0) > 1),
    'events without an eventId answered 202: appended once, not again by a resend',
  ).toEqual([]);
  const unidentifiedFailed = failed.flatMap((s) => s.events.filter((e) => e.eventId === undefined));
  expect(
    unidentifiedFailed.filter((e) => (census.get(identity(e)) ?? 0) > 1),
    'failed events without an eventId: appended at most once',
  ).toEqual([]);
  const writtenAnyway = unidentifiedFailed.filter((e) => census.has(identity(e)));

  const deadLetters: string[] = [];
  for (let p = 0; p < partitions; p++) {
    for (const [, fields] of await redis.xrange(partitionKeys(name, p).dlq, '-', '+')) {
      deadLetters.push(`partition ${p}: ${fields[fields.indexOf('dlq.reason') + 1]}`);
    }
  }
  expect(deadLetters, 'no healthy event dead-lettered by the faults').toEqual([]);
  const kept = accepted.filter((e) => census.has(identity(e)));
  const events = [...kept, ...retried, ...writtenAnyway];
  const { model } = await expectModelState(redis, name, partitions, traffic.boards, events);
  expect(model.late, 'no drill event is late').toEqual([]);

  const boards = new BoardRegistry(redis, name);
  await boards.load();
  const report = await verifyBoards({ redis, boards, name, partitions, settleMs: 500 });
  expect(report.differences, 'verifyBoards: every top equals a fresh merge').toEqual([]);
  expect(report.compared, 'tops verified').toBeGreaterThan(0);

  return {
    lostEvents: lost,
    accepted: traffic.sent.filter((s) => s.outcome === 'accepted').length,
    failed: failed.length,
    acceptedEvents: accepted.length,
    lost: lost.length,
    retried: retried.length,
    writtenAnyway: writtenAnyway.length,
    refusals,
  };
}
