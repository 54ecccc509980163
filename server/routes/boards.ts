/** Board listing and creation (admin scope). */
import { Hono } from 'hono';
import {
  BOARD_ID,
  BoardConflictError,
  BoardLimitError,
  boardConfigSchema,
  saveBoard,
} from '../../leaderboard/index.js';
import { HttpError } from '../httpError.js';
import type { Services } from '../services.js';
import { intParam, MAX_BOARDS_PAGE, parseBody } from '../validation.js';
import { routeGuards } from './guards.js';
import { freshBoardFrom, readJson, SMALL_BODY, userFrom } from './http.js';

export function boardRoutes(services: Services): Hono {
  const app = new Hono();
  const { admin, read: readers, limit } = routeGuards(services);

  app.get('/v1/boards', readers, limit, async (c) => {
    const limit = intParam(c.req.query('limit'), 'limit', 1, MAX_BOARDS_PAGE, MAX_BOARDS_PAGE);
    const after = c.req.query('after');
    if (after !== undefined && !BOARD_ID.test(after)) {
      throw new HttpError(400, 'invalid-query', 'after must be a board id (the next of the previous page)');
    }
    await services.boards.sync();
    return c.json(services.boards.page(limit, after));
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
      if (error instanceof BoardLimitError) throw new HttpError(409, 'board-limit', error.message);
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
