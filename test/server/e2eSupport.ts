/**
 * What the end-to-end tests share: a seeded random generator, requests against a listening
 * service, boards created over HTTP, events sent over both ingest endpoints, waiting for the
 * workers to drain the streams, and the comparison of every read with the reference model.
 */
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, expect } from 'vitest';
import { waitUntil } from '../../consumer-groups/test/support.js';
import type { BoardConfig } from '../../leaderboard/index.js';
import {
  type LeaderboardModel,
  type ModelEntry,
  type ModelEvent,
  modelWindow,
} from '../support/leaderboardModel.js';
import { drained } from '../support/leaderboardState.js';
import { uniqueName } from '../support/redis.js';
import {
  startTestService,
  TEST_KEYS,
  type TestService,
  type TestServiceOptions,
} from '../support/service.js';

export interface Entry {
  rank: number;
  userId: string;
  score: number;
  profile?: { name: string; avatarUrl: string | null };
}

/** A page of `GET /v1/boards/:board/entries`. */
export interface EntriesPage {
  board: string;
  window: string;
  windowStart: number;
  windowEnd: number | null;
  entries: Entry[];
  next: string | null;
}

/** A small seeded generator, so a failure can be replayed from the seed in its message. */
export function seededRandom(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)) };
}

export type Random = ReturnType<typeof seededRandom>;

/** Entries without their profiles. */
export const plain = (entries: readonly Entry[]): ModelEntry[] =>
  entries.map(({ rank, userId, score }) => ({ rank, userId, score }));

export const encode = encodeURIComponent;

/**
 * `count` user ids under a label, and three that are hard on encodings: an accented one, a CJK
 * one, and one of 128 code points (the longest the contract allows).
 */
export const userIds = (label: string, count: number): string[] => [
  ...Array.from({ length: count }, (_, i) => `${label}-${String.fromCharCode(97 + (i % 26))}${i}`),
  `${label}-émile`,
  `${label}-用户`,
  `${label}-${'🏆'.repeat(128 - label.length - 1)}`,
];

/**
 * The window instances of a board the model holds more than K visible users in, as (window, at)
 * pairs for `expectWindowsMatchModel` (`at` is the instance's start): the reads worth comparing,
 * wherever the clock put the events' instance boundaries.
 */
export function populatedWindows(model: LeaderboardModel, board: BoardConfig): [string, number][] {
  const out: [string, number][] = [];
  for (const key of model.scores.get(board.id)?.keys() ?? []) {
    const colon = key.lastIndexOf(':');
    if (model.ranked(board.id, key).length > board.topK)
      out.push([key.slice(0, colon), Number(key.slice(colon + 1))]);
  }
  expect(new Set(out.map(([window]) => window)), `windows of ${board.id} with more than K users`).toEqual(
    new Set(board.windows),
  );
  return out;
}

/**
 * The HTTP client of one listening test service, and the checks the end-to-end tests share.
 *
 * @example
 * const svc = await startTestService({ workers: true });
 * const e2e = e2eClient(svc, await svc.listen());
 * const board = await e2e.createBoard({ policy: 'sum', order: 'desc', windows: ['all'], topK: 5, graceSeconds: 300, retentionDays: 30 });
 */
export function e2eClient(svc: TestService, base: string) {
  /** One request with a key (default: the admin key) and a JSON body; the status and the parsed answer. */
  const request = async (method: string, path: string, body?: unknown, key: string = TEST_KEYS.admin) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  /** A read without a key that must answer 200. */
  const getJson = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${base}${path}`);
    expect(res.status, `GET ${path}: ${res.status}`).toBe(200);
    return (await res.json()) as T;
  };

  /** A read without a key: the status and the parsed answer. */
  const get = async (path: string) => {
    const res = await fetch(`${base}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  const createBoard = async (config: Omit<BoardConfig, 'id'>): Promise<BoardConfig> => {
    const id = uniqueName('b');
    const res = await request('PUT', `/v1/boards/${id}`, config);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as unknown as BoardConfig;
  };

  /** Sends events in order, over both ingest endpoints, awaiting each request (partition order kept). */
  const ingest = async (events: readonly ModelEvent[], rnd: Random) => {
    let i = 0;
    while (i < events.length) {
      if (rnd.next() < 0.4) {
        const { board, ...event } = events[i]!;
        const res = await request('POST', `/v1/boards/${board}/events`, event, TEST_KEYS.ingest);
        expect(res).toEqual({ status: 202, body: { accepted: 1 } });
        i += 1;
      } else {
        const chunk = events.slice(i, i + rnd.int(2, 40));
        const res = await request('POST', '/v1/events', { events: chunk }, TEST_KEYS.ingest);
        expect(res).toEqual({ status: 202, body: { accepted: chunk.length } });
        i += chunk.length;
      }
    }
  };

  const waitDrained = () =>
    waitUntil(
      () => drained(svc.redis, svc.config.KEY_PREFIX, 'workers', svc.config.PARTITIONS),
      20_000,
      'the partitions to drain',
    );

  /** Polls `read` until it deep-equals `expected` (the snapshot catches up), then asserts it. */
  const eventually = async <T>(read: () => Promise<T>, expected: T, what: string) => {
    let last: T | undefined;
    try {
      await waitUntil(
        async () => {
          last = await read();
          return isDeepStrictEqual(last, expected);
        },
        15_000,
        what,
      );
    } catch {
      // fall through to the assertion, which shows the difference
    }
    expect(last, what).toEqual(expected);
  };

  /** Every page of a window instance's entries, `limit` at a time; asserts each page's window. */
  const allEntries = async (board: BoardConfig, query: string, limit: number) => {
    const pages: EntriesPage[] = [];
    let after: string | null = null;
    do {
      const cursor: string = after === null ? '' : `&after=${encode(after)}`;
      const page: EntriesPage = await getJson<EntriesPage>(
        `/v1/boards/${board.id}/entries?${query}&limit=${limit}${cursor}`,
      );
      pages.push(page);
      after = page.next;
      expect(pages.length, 'more pages than entries').toBeLessThan(10_000);
    } while (after !== null);
    return pages;
  };

  /**
   * Compares every read of one window instance with the model: /top (once the snapshot caught
   * up) and its window, each user's standing (rank, score, total, percentile), around (n=2) at the
   * ends and the middle, the whole ranking paged through /entries, and a 404 for each hidden user.
   */
  const expectReadsMatchModel = async (
    model: LeaderboardModel,
    board: BoardConfig,
    window: string,
    at: number,
    seed: number,
  ) => {
    const instance = modelWindow(board, window, at);
    const key = instance.key;
    const ranked = model.ranked(board.id, key);
    expect(ranked.length, `seed ${seed}: the model has more users than K in ${key}`).toBeGreaterThan(
      board.topK,
    );
    const query = `window=${window}&at=${at}`;
    const windowOf = {
      windowStart: instance.start,
      windowEnd: Number.isFinite(instance.end) ? instance.end : null,
    };
    await eventually(
      async () => plain((await getJson<{ entries: Entry[] }>(`/v1/boards/${board.id}/top?${query}`)).entries),
      ranked.slice(0, board.topK),
      `seed ${seed}: top of ${board.id} ${key}`,
    );
    const top = await getJson<Record<string, unknown>>(`/v1/boards/${board.id}/top?${query}`);
    expect(top).toMatchObject({ board: board.id, window, ...windowOf });
    expect(top.version).toBeGreaterThan(0);
    expect(typeof top.updatedAt).toBe('number');

    for (const entry of ranked) {
      const standing = await getJson<Record<string, number | string>>(
        `/v1/boards/${board.id}/users/${encode(entry.userId)}?${query}`,
      );
      expect(standing, `seed ${seed}: standing of ${entry.userId} in ${key}`).toEqual(
        model.standing(board.id, key, entry.userId),
      );
    }

    for (const i of new Set([0, 1, Math.floor(ranked.length / 2), ranked.length - 2, ranked.length - 1])) {
      const userId = ranked[i]!.userId;
      const around = await getJson<{ entries: Entry[] }>(
        `/v1/boards/${board.id}/users/${encode(userId)}/around?${query}&n=2`,
      );
      expect(around).toMatchObject(windowOf);
      expect(plain(around.entries), `seed ${seed}: around ${userId} (index ${i}) in ${key}`).toEqual(
        model.around(board.id, key, userId, 2),
      );
    }

    const pages = await allEntries(board, query, 4);
    for (const page of pages) expect(page).toMatchObject({ board: board.id, window, ...windowOf });
    expect(
      pages.flatMap((p) => plain(p.entries)),
      `seed ${seed}: the entries of ${board.id} ${key}`,
    ).toEqual(ranked);

    for (const userId of model.hidden.get(board.id) ?? []) {
      if (!model.users(board.id, key).has(userId)) continue;
      const res = await get(`/v1/boards/${board.id}/users/${encode(userId)}?${query}`);
      expect(res.status, `seed ${seed}: hidden ${userId} in ${key}`).toBe(404);
      expect((res.body.error as { code: string }).code).toBe('unknown-user');
    }
  };

  /** Compares a user's friends ranking (after PUT friends) with the model's ranking among them. */
  const expectFriendsMatchModel = async (
    model: LeaderboardModel,
    board: BoardConfig,
    window: string,
    at: number,
    me: string,
    friends: readonly string[],
  ) => {
    const key = modelWindow(board, window, at).key;
    const expected = model.rankAmong(board.id, key, [me, ...friends]);
    const res = await getJson<{ entries: Entry[] }>(
      `/v1/boards/${board.id}/users/${encode(me)}/friends?window=${window}&at=${at}`,
    );
    expect(plain(res.entries), `friends of ${me} in ${key}`).toEqual(expected);
    return expected;
  };

  /**
   * Opens a live (SSE) stream; `nextTop()` resolves with its next `top` event (heartbeats, which
   * are comments, skipped). Call `close()` when done.
   */
  const openLive = async (path: string) => {
    const abort = new AbortController();
    const res = await fetch(`${base}${path}`, { signal: abort.signal });
    expect(res.status, `GET ${path}`).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    const nextTop = async (): Promise<{ id: string; data: Record<string, unknown> }> => {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = block.split('\n');
          if (!lines.includes('event: top')) continue;
          const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6));
          const id = lines.find((l) => l.startsWith('id: '))?.slice(4) ?? '';
          return { id, data: JSON.parse(data.join('\n')) };
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('the live stream ended');
        buffer += value;
      }
    };
    return { nextTop, close: () => abort.abort() };
  };

  /** `expectReadsMatchModel` for each of several (window, at) pairs. */
  const expectWindowsMatchModel = async (
    model: LeaderboardModel,
    board: BoardConfig,
    windows: readonly (readonly [string, number])[],
    seed: number,
  ) => {
    for (const [window, at] of windows) await expectReadsMatchModel(model, board, window, at, seed);
  };

  return {
    request,
    get,
    getJson,
    createBoard,
    ingest,
    waitDrained,
    eventually,
    allEntries,
    openLive,
    expectReadsMatchModel,
    expectWindowsMatchModel,
    expectFriendsMatchModel,
  };
}

export type E2eClient = ReturnType<typeof e2eClient>;

/**
 * Starts a listening test service with in-process workers before a suite's tests, and stops it
 * after them. Reads carry no key, so the per-address limit on them is lifted.
 *
 * @example
 * let e2e: E2eClient;
 * withE2eService((_svc, client) => {
 *   e2e = client;
 * });
 */
export function withE2eService(
  ready: (svc: TestService, e2e: E2eClient, base: string) => void,
  options: TestServiceOptions = {},
): void {
  let svc: TestService | undefined;
  beforeAll(async () => {
    svc = await startTestService({
      workers: true,
      ...options,
      env: { ANONYMOUS_RATE_LIMIT_RPS: '0', ...options.env },
    });
    const base = await svc.listen();
    ready(svc, e2eClient(svc, base), base);
  });
  afterAll(async () => {
    await svc?.stop();
  });
}
