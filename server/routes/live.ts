/**
 * Live updates: Server-Sent Events with the new top-K whenever the snapshot's version changes.
 * Every client of a process shares the one Redis subscription of the snapshot cache.
 */
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { Services } from '../services.js';
import { intParam } from '../validation.js';
import { routeGuards } from './guards.js';
import { freshBoardFrom, windowFrom } from './http.js';
import { cachedTop } from './reads.js';

export interface LiveOptions {
  /** Interval of heartbeat comments, ms. Default 15,000. */
  heartbeatMs?: number;
}

export function liveRoutes(services: Services, options: LiveOptions = {}): Hono {
  const app = new Hono();
  const { read: readers, limit } = routeGuards(services);
  const heartbeatMs = options.heartbeatMs ?? 15_000;

  app.get('/v1/boards/:board/live', readers, limit, async (c) => {
    const board = await freshBoardFrom(services, c.req.param('board'));
    const window = windowFrom(services, c, board);
    const k = intParam(c.req.query('k'), 'k', 1, 1000, board.topK);
    return streamSSE(c, async (stream) => {
      let lastVersion = -1;
      let sending = Promise.resolve();
      const send = () => {
        sending = sending.then(async () => {
          const top = await cachedTop(services, board, window, k);
          if (top.version === lastVersion) return;
          lastVersion = top.version;
          await stream.writeSSE({ event: 'top', id: String(top.version), data: top.json });
        });
        return sending;
      };
      const stop = services.snapshots.listen(board.id, window.key, () => void send().catch(() => {}));
      const heartbeat = setInterval(() => void stream.write(': heartbeat\n\n').catch(() => {}), heartbeatMs);
      await send();
      await new Promise<void>((resolve) => stream.onAbort(resolve));
      clearInterval(heartbeat);
      stop();
    });
  });
  return app;
}
