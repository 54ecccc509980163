/**
 * Live updates: Server-Sent Events with the new top-K whenever the snapshot's version changes.
 * Every client of a process shares the one Redis subscription of the snapshot cache, and the
 * encoded frames of each top.
 *
 * A stream counts against the live-stream caps (`liveStreamLimits.ts`: 429 or 503 past them)
 * until it ends; it holds at most the newest update its client has not read, and a client that
 * leaves an update unread for `LIVE_STALL_MS` is disconnected (`sseStream.ts`).
 */
import { Hono } from 'hono';
import { requestClient } from '../clientAddress.js';
import { incomingOf } from '../nodeRequest.js';
import type { Services } from '../services.js';
import { SseStream, topFrame } from '../sseStream.js';
import { queryInt } from '../validation.js';
import { routeGuards } from './guards.js';
import { freshBoardFrom, windowFrom } from './http.js';
import { cachedTop } from './reads.js';

export interface LiveOptions {
  /** Interval of heartbeat comments, ms. Default 15,000. */
  heartbeatMs?: number;
}

const SSE_HEADERS = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache',
  Connection: 'keep-alive',
  // Proxies that buffer responses (nginx) would hold the updates back.
  'X-Accel-Buffering': 'no',
};

export function liveRoutes(services: Services, options: LiveOptions = {}): Hono {
  const app = new Hono();
  const { read: readers, limit } = routeGuards(services);
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const { metrics } = services;

  app.get('/v1/boards/:board/live', readers, limit, async (c) => {
    const board = await freshBoardFrom(services, c.req.param('board'));
    const window = windowFrom(services, c, board);
    const k = queryInt(c.req.query('k'), 'k', board.topK);
    const incoming = incomingOf(c);
    const release = services.liveStreams.open(requestClient(incoming, services.proxies));
    let first: Awaited<ReturnType<typeof cachedTop>>;
    try {
      first = await cachedTop(services, board, window, k);
    } catch (error) {
      release();
      throw error;
    }
    let lastVersion = first.version;
    let stopListening = () => {};
    let heartbeat: NodeJS.Timeout | undefined;
    const stream = new SseStream({
      stallMs: services.config.LIVE_STALL_MS,
      onClose: (reason) => {
        clearInterval(heartbeat);
        stopListening();
        release();
        metrics.liveStreams.dec();
        if (reason === 'stalled') {
          metrics.liveStreamsDropped.inc();
          // The response waits for the socket to drain, which it will not: reset it here, which
          // also frees what the kernel still holds for it (up to a few MB of send buffer).
          incoming?.socket.resetAndDestroy();
        }
      },
    });
    metrics.liveStreams.inc();
    stream.send(topFrame(first));

    // One read of the top at a time per stream; changes meanwhile make one more read after it.
    let reading = false;
    let again = false;
    const refresh = () => {
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      cachedTop(services, board, window, k)
        .then(
          (top) => {
            if (top.version === lastVersion) return;
            lastVersion = top.version;
            stream.send(topFrame(top));
          },
          () => {}, // the next change or the cache's own refresh tries again
        )
        .finally(() => {
          reading = false;
          if (again && !stream.closed) {
            again = false;
            refresh();
          }
        });
    };
    stopListening = services.snapshots.listen(board.id, window.key, refresh);
    heartbeat = setInterval(() => stream.heartbeat(), heartbeatMs);
    // A change between the first read and the listening above is picked up here.
    refresh();
    return c.body(stream.body, 200, SSE_HEADERS);
  });
  return app;
}
