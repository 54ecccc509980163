/**
 * Set-up before the load, as `prepare` in the k6 scripts: the load-test board (created, or found
 * when the key lacks the admin scope), a score for every user of the population, friend lists when
 * the test reads friend rankings, then a wait until the workers applied it all.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoadedDefinition, TestDefinition } from './definition.js';
import { requestHeaders, type Target } from './target.js';

/** Set-up requests sent at once. */
const PARALLEL = 8;

export async function prepare(loaded: LoadedDefinition, target: Target, test: TestDefinition): Promise<void> {
  const { plan, definition } = loaded;
  await ensureBoard(loaded, target);
  await inParallel(plan.seedBatches(definition, Math.random), async (body) => {
    await expectStatus(target, 'POST', '/v1/events', body, 202, 'seeding');
  });
  if (plan.needsFriendLists(test)) {
    await inParallel(plan.friendListRequests(definition), async (request) => {
      await expectStatus(target, request.method, request.path, request.body, 200, 'friend lists');
    });
  }
  await waitUntilApplied(loaded, target);
}

async function send(target: Target, method: string, path: string, body: string | null): Promise<Response> {
  const key = method === 'GET' ? 'read' : 'ingest';
  return fetch(target.url + path, { method, headers: requestHeaders(target, key, body !== null), body });
}

async function expectStatus(
  target: Target,
  method: string,
  path: string,
  body: string | null,
  status: number,
  what: string,
): Promise<void> {
  const response = await send(target, method, path, body);
  const text = await response.text();
  if (response.status !== status) {
    throw new Error(`${what}: ${method} ${path} answered ${response.status} (${text.slice(0, 300)})`);
  }
}

async function ensureBoard({ definition }: LoadedDefinition, target: Target): Promise<void> {
  const board = definition.board;
  const put = await send(target, 'PUT', `/v1/boards/${board.id}`, JSON.stringify(board));
  const text = await put.text();
  if (put.status === 200 || put.status === 201) return;
  const list = await send(target, 'GET', '/v1/boards', null);
  const boards = ((await list.json()) as { boards?: { id: string }[] }).boards ?? [];
  if (!boards.some((b) => b.id === board.id)) {
    throw new Error(
      `PUT /v1/boards/${board.id} answered ${put.status} (${text.slice(0, 300)}); ` +
        'the API key needs the admin scope to create the board',
    );
  }
}

/** Until every user is ranked and a top-K snapshot is published. */
async function waitUntilApplied({ plan, definition }: LoadedDefinition, target: Target): Promise<void> {
  const { users, readyTimeout } = definition.data;
  const { window } = definition.requests;
  const board = definition.board.id;
  const deadline = Date.now() + plan.parseDuration(readyTimeout);
  while (Date.now() < deadline) {
    const last = await send(
      target,
      'GET',
      `/v1/boards/${board}/users/${plan.userId(users - 1)}?window=${window}`,
      null,
    );
    const top = await send(target, 'GET', `/v1/boards/${board}/top?window=${window}&k=1`, null);
    const standing = await jsonIfOk<{ total?: number }>(last);
    const snapshot = await jsonIfOk<{ entries?: unknown[] }>(top);
    if ((standing.total ?? 0) >= users && (snapshot.entries ?? []).length > 0) return;
    await sleep(100);
  }
  throw new Error(`the seeded scores were not all applied within ${readyTimeout}`);
}

/** The JSON body of a 200, else an empty object (the body is read either way). */
async function jsonIfOk<T extends object>(response: Response): Promise<Partial<T>> {
  const text = await response.text();
  return response.status === 200 ? (JSON.parse(text) as T) : {};
}

async function inParallel<T>(items: readonly T[], task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
}
