/**
 * Ingest: single and batch events. All or nothing: the whole request is validated before anything
 * is written, and 202 is answered only once Redis has accepted every event.
 */
import { Hono } from 'hono';
import type { EncodedEvent } from '../../operators/eventCodec.js';
import { type EventInput, parseBatch, parseEvent } from '../eventValidation.js';
import { HttpError, unavailable } from '../httpError.js';
import type { Services } from '../services.js';
import { routeGuards } from './guards.js';
import { freshBoardFrom, LARGE_BODY, readJson, SMALL_BODY } from './http.js';

export function ingestRoutes(services: Services): Hono {
  const app = new Hono();
  const { ingest, limit } = routeGuards(services);

  app.post('/v1/boards/:board/events', ingest, limit, async (c) => {
    const board = await freshBoardFrom(services, c.req.param('board'));
    const body = parseEvent(await readJson(c, SMALL_BODY));
    await accept(services, [encodable(board.id, body, Date.now())]);
    return c.json({ accepted: 1 }, 202);
  });

  app.post('/v1/events', ingest, limit, async (c) => {
    const raw = parseBatch(await readJson(c, LARGE_BODY));
    const now = Date.now();
    const events: EncodedEvent[] = new Array(raw.length);
    for (let i = 0; i < raw.length; i++) events[i] = encodable(raw[i]!.board, raw[i]!, now);
    const boards = new Set(events.map((e) => e.board));
    if (!(await services.boards.knowsAll(boards))) {
      const index = events.findIndex((e) => !services.boards.get(e.board));
      throw new HttpError(
        400,
        'invalid-event',
        `event ${index} is invalid: events[${index}].board: there is no board '${events[index]!.board}'`,
      );
    }
    await accept(services, events);
    return c.json({ accepted: events.length }, 202);
  });
  return app;
}

/** The event as the writer takes it: `ts` defaults to arrival time, no `eventId` key when absent. */
function encodable(board: string, e: EventInput, now: number): EncodedEvent {
  const ts = e.ts ?? now;
  return e.eventId === undefined
    ? { board, userId: e.userId, value: e.value, ts }
    : { board, userId: e.userId, value: e.value, ts, eventId: e.eventId };
}

async function accept(services: Services, events: EncodedEvent[]): Promise<void> {
  const over = services.writer.overloaded(events.map((e) => e.userId));
  if (over.length > 0) {
    throw new HttpError(
      503,
      'backlog-full',
      `partition(s) ${over.join(', ')} are over their backlog high-water mark; retry later`,
      {
        'Retry-After': '1',
      },
    );
  }
  try {
    await services.writer.append(events);
  } catch (error) {
    throw Object.assign(unavailable('Redis'), { cause: error });
  }
  services.metrics.eventsAccepted.inc(events.length);
}
