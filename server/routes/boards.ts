/** Board listing and creation (admin scope). */
import { Hono } from 'hono';
import { BoardConflictError, boardConfigSchema, saveBoard } from '../../leaderboard/index.js';
import { HttpError } from '../httpError.js';
import type { Services } from '../services.js';
import { parseBody } from '../validation.js';
import { routeGuards } from './guards.js';
import { freshBoardFrom, readJson, SMALL_BODY, userFrom } from './http.js';

export function boardRoutes(services: Services): Hono {
  const app = new Hono();
  const { admin, read: readers, limit } = routeGuards(services);

  app.get('/v1/boards', readers, limit, async (c) => {
    await services.boards.load();
    return c.json({ boards: services.boards.list() });
  });

  app.put('/v1/boards/:board', admin, limit, async (c) => {
    const id = c.req.param('board');
    const body = await readJson(c, SMALL_BODY);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new HttpError(400, 'invalid-body', 'the body must be a JSON object (a BoardConfig)');
    }
    const input = body as Record<string, unknown>;
    if (input.id !== undefined && input.id !== id) {
      throw new HttpError(
        400,
        'invalid-body',
        `id in the body ('${String(input.id)}') differs from the path ('${id}')`,
      );
    }
    const config = parseBody(boardConfigSchema, { ...input, id });
    try {
      const { created, board } = await services.boards.put(config);
      await saveBoard(services.db, board);
      return c.json(board, created ? 201 : 200);
    } catch (error) {
      if (error instanceof BoardConflictError) throw new HttpError(409, 'board-conflict', error.message);
      throw error;
    }
  });
  app.get('/v1/boards/:board/hidden', admin, limit, async (c) => {
    const board = await freshBoardFrom(services, c.req.param('board'));
    return c.json({ board: board.id, users: await services.hidden.list(board.id) });
  });

  for (const [method, hidden] of [
    ['put', true],
    ['delete', false],
  ] as const) {
    app[method]('/v1/boards/:board/hidden/:userId', admin, limit, async (c) => {
      const board = await freshBoardFrom(services, c.req.param('board'));
      const userId = userFrom(c.req.param('userId'));
      await services.hidden.set(board.id, userId, hidden);
      return c.json({ userId, hidden });
    });
  }
  return app;
}
