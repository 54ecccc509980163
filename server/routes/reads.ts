/** Reads: top-K from the snapshot, a user's standing, the users around a user, friends. */
import { Hono } from 'hono';
import { archivedTop, type BoardConfig, type SnapshotRead } from '../../leaderboard/index.js';
import { HttpError } from '../httpError.js';
import type { Services } from '../services.js';
import type { SerializedTop } from '../topBodyCache.js';
import { queryInt } from '../validation.js';
import { routeGuards } from './guards.js';
import { freshBoardFrom, userFrom, type WindowInstance, windowFrom, withProfiles } from './http.js';

export function readRoutes(services: Services): Hono {
  const app = new Hono();
  const { read: readers, limit } = routeGuards(services);

  app.get('/v1/boards/:board/top', readers, limit, async (c) => {
    const board = await freshBoardFrom(services, c.req.param('board'));
    const window = windowFrom(services, c, board);
    const k = queryInt(c.req.query('k'), 'k', board.topK);
    const top = await cachedTop(services, board, window, k);
    return c.body(top.bytes, 200, { 'Content-Type': 'application/json' });
  });

  app.get('/v1/boards/:board/entries', readers, limit, async (c) => {
    const board = await freshBoardFrom(services, c.req.param('board'));
    const window = windowFrom(services, c, board);
    const pageSize = queryInt(c.req.query('limit'), 'limit', 100);
    const after = c.req.query('after') || undefined;
    let page: Awaited<ReturnType<typeof services.queries.entries>>;
    try {
      page = await services.queries.entries(board.id, window, { after, limit: pageSize });
    } catch (error) {
      if (error instanceof RangeError) throw new HttpError(400, 'invalid-cursor', `after: ${error.message}`);
      throw error;
    }
    return c.json({
      board: board.id,
      window: window.window,
      windowStart: window.windowStart,
      windowEnd: window.windowEnd,
      entries: await withProfiles(services, page.entries),
      next: page.next,
    });
  });

  app.get('/v1/boards/:board/users/:userId', readers, limit, async (c) => {
    const board = await freshBoardFrom(services, c.req.param('board'));
    const userId = userFrom(c.req.param('userId'));
    const window = windowFrom(services, c, board);
    const standing = await services.queries.standing(board.id, window, userId);
    if (!standing) throw noScore(userId, board, window);
    return c.json(standing);
  });

  app.get('/v1/boards/:board/users/:userId/around', readers, limit, async (c) => {
    const board = await freshBoardFrom(services, c.req.param('board'));
    const userId = userFrom(c.req.param('userId'));
    const window = windowFrom(services, c, board);
    const n = queryInt(c.req.query('n'), 'n', 5);
    const entries = await services.queries.around(board.id, window, userId, n);
    if (!entries) throw noScore(userId, board, window);
    return c.json({
      board: board.id,
      window: window.window,
      windowStart: window.windowStart,
      windowEnd: window.windowEnd,
      entries: await withProfiles(services, entries),
    });
  });

  app.get('/v1/boards/:board/users/:userId/friends', readers, limit, async (c) => {
    const board = await freshBoardFrom(services, c.req.param('board'));
    const userId = userFrom(c.req.param('userId'));
    const window = windowFrom(services, c, board);
    const k = queryInt(c.req.query('k'), 'k', 100);
    const entries = await services.friends.rank(board.id, window, userId, k);
    return c.json({
      board: board.id,
      window: window.window,
      windowStart: window.windowStart,
      windowEnd: window.windowEnd,
      entries: await withProfiles(services, entries),
    });
  });
  return app;
}

/**
 * The body of `/top` (and of each live `top` event), serialized, from the snapshot cache's newest
 * snapshot: reused from `services.tops` while that snapshot and the profiles are unchanged.
 */
export async function cachedTop(
  services: Services,
  board: BoardConfig,
  window: WindowInstance,
  k: number,
): Promise<SerializedTop> {
  const snapshot = await services.snapshots.get(board.id, window.key);
  return services.tops.get(`${board.id} ${window.key} ${k}`, snapshot, () =>
    topBody(services, board, window, k, snapshot),
  );
}

/** The body of `/top` built from a snapshot (none: the archived top of a closed window, or empty). */
async function topBody(
  services: Services,
  board: BoardConfig,
  window: WindowInstance,
  k: number,
  snapshot: SnapshotRead | undefined,
) {
  let entries = snapshot?.entries ?? [];
  const closed = window.windowEnd !== null && window.windowEnd + board.graceSeconds * 1000 <= Date.now();
  if (!snapshot && closed)
    entries = await archivedTop(services.db, board.id, window.window, window.windowStart, 1000);
  return {
    board: board.id,
    window: window.window,
    windowStart: window.windowStart,
    windowEnd: window.windowEnd,
    version: snapshot?.version ?? 0,
    updatedAt: snapshot?.updatedAt ?? null,
    entries: await withProfiles(services, entries.slice(0, k)),
  };
}

function noScore(userId: string, board: BoardConfig, window: WindowInstance): HttpError {
  return new HttpError(
    404,
    'unknown-user',
    `user '${userId}' has no score on board '${board.id}' in the ${window.window} window starting ${new Date(window.windowStart).toISOString()}`,
  );
}
