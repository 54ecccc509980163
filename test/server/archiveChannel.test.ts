/**
 * The archive of `work --processes N`'s workers through their supervisor: a worker process's
 * closed top lands in the supervisor's store (PGlite) once, and a top the store refuses comes back
 * as a failure not worth retrying, while a store that is down is worth retrying.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ArchiveStore,
  archivedTop,
  archiveStore,
  type ClosedTop,
  type Database,
  openDatabase,
} from '../../leaderboard/index.js';
import { serveArchive } from '../../server/archiveChannel.js';

const CHILD = fileURLToPath(new URL('../fixtures/archiveChild.ts', import.meta.url));
const DAY = Date.UTC(2026, 0, 5);

interface Result {
  archived?: boolean;
  error?: string;
  retryable?: boolean;
}

async function startChild(store: ArchiveStore): Promise<ChildProcess> {
  const child = fork(CHILD, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  serveArchive(child, store);
  await new Promise<void>((resolve) =>
    child.on('message', (m: { type: string }) => m.type === 'test-ready' && resolve()),
  );
  return child;
}

async function archiveInChild(child: ChildProcess, closed: ClosedTop): Promise<Result> {
  const result = new Promise<Result>((resolve) => {
    const onMessage = (m: Result & { type: string }) => {
      if (m.type !== 'test-result') return;
      child.off('message', onMessage);
      resolve(m);
    };
    child.on('message', onMessage);
  });
  child.send({ type: 'test-archive', closed });
  return result;
}

const closedDay = (group: string, members: string[]): ClosedTop => ({
  group,
  window: 'day',
  windowStart: DAY,
  windowEnd: DAY + 86_400_000,
  entries: members.map((member, i) => ({ rank: i + 1, member, score: 100 - i })),
});

describe('archive through the supervisor', () => {
  let db: Database;
  let child: ChildProcess;
  beforeAll(async () => {
    db = await openDatabase({});
    child = await startChild(archiveStore(db));
  }, 60_000);
  afterAll(async () => {
    child?.kill();
    await db?.close();
  });

  it("writes a worker process's closed top into the supervisor's store, once", async () => {
    const top = closedDay('ipc-board', ['ann', 'bob']);
    expect(await archiveInChild(child, top)).toEqual({ type: 'test-result', archived: true });
    expect(await archiveInChild(child, top)).toEqual({ type: 'test-result', archived: false });
    expect(await archivedTop(db, 'ipc-board', 'day', DAY, 10)).toEqual([
      { rank: 1, userId: 'ann', score: 100 },
      { rank: 2, userId: 'bob', score: 99 },
    ]);
  });

  it('passes on the store refusing a top as not worth retrying', async () => {
    const result = await archiveInChild(child, closedDay('ipc-bad', ['ann', 'ann']));
    expect(result.error).toContain('unique within the window');
    expect(result.retryable).toBe(false);
    expect(await archivedTop(db, 'ipc-bad', 'day', DAY, 10)).toEqual([]);
  });

  it('passes on a store that fails as worth retrying', async () => {
    const down = await startChild({
      archive: () => Promise.reject(new Error('connection refused')),
    });
    try {
      const result = await archiveInChild(down, closedDay('ipc-down', ['ann']));
      expect(result).toMatchObject({ retryable: true });
      expect(result.error).toContain('connection refused');
    } finally {
      down.kill();
      await once(down, 'exit');
    }
  });
});
