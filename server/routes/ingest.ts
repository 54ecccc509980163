/**
 * Ingest: single and batch events. All or nothing: the whole request is validated before anything
 * is written, and 202 is answered only once Redis has accepted every event.
 */
import { Hono } from 'hono';
import {
  type BoardConfig,
  outOfBounds,
  ReplicationTimeoutError,
  type ScoreEvent,
} from '../../leaderboard/index.js';
import { type EventInput, parseBatch, parseEvent } from '../eventValidation.js';
import { HttpError, unavailable } from '../httpError.js';
import type { Services } from '../services.js';
import { routeGuards } from './guards.js';
import { freshBoardFrom, LARGE_BODY, readJson, SMALL_BODY } from './http.js';

export function ingestRoutes(services: Services): Hono {
  const app = new Hono();
  const { ingest, limit } = routeGuards(services);

  app.post(SINGLE_EVENT_ROUTE, ingest, limit, async (c) => {
    const id = c.req.param('board');
    const board = services.boards.get(id) ?? (await freshBoardFrom(services, id));
    await acceptSingle(services, board, await readJson(c, SMALL_BODY));
    return c.json(ACCEPTED_ONE, 202);
  });

  app.post('/v1/events', ingest, limit, async (c) => {
    const raw = parseBatch(await readJson(c, LARGE_BODY));
    const now = Date.now();
    const events: ScoreEvent[] = new Array(raw.length);
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
    for (let i = 0; i < events.length; i++) {
      const outside = outOfBounds(services.boards.get(events[i]!.board)!, events[i]!.value);
      if (outside !== undefined) {
        throw new HttpError(
          400,
          'value-out-of-range',
          `event ${i} is invalid: events[${i}].value: ${outside}`,
        );
      }
    }
    await accept(services, events);
    return c.json({ accepted: events.length }, 202);
  });
  return app;
}

/** The single-event route, as Hono names it (and the request metrics label it). */
export const SINGLE_EVENT_ROUTE = '/v1/boards/:board/events';

/** The answer to an accepted single event. */
export const ACCEPTED_ONE = { accepted: 1 } as const;

/**
 * Validates a single event's parsed body for `board` and appends it: 400 for a bad event, 503
 * when its partition's backlog is over the mark or Redis does not accept it. Shared by the Hono
 * route and the Node-level fast path in front of it (`server/singleEventListener.ts`); the
 * hottest path of the service: no await on what is at hand, one promise for the append
 * (ioredis's own), no arrays of one.
 */
export async function acceptSingle(services: Services, board: BoardConfig, body: unknown): Promise<void> {
  const event = encodable(board.id, parseEvent(body), Date.now());
  const outside = outOfBounds(board, event.value);
  if (outside !== undefined) throw new HttpError(400, 'value-out-of-range', outside);
  const over = services.writer.overloadedPartition(event.userId);
  if (over !== undefined) throw backlogFull([over]);
  try {
    await services.writer.appendOne(event);
  } catch (error) {
    throw redisUnavailable(error);
  }
  services.metrics.eventsAccepted.inc();
}

/** The event as the writer takes it: `ts` defaults to arrival time, no `eventId` key when absent. */
function encodable(board: string, e: EventInput, now: number): ScoreEvent {
  const ts = e.ts ?? now;
  return e.eventId === undefined
    ? { board, userId: e.userId, value: e.value, ts }
    : { board, userId: e.userId, value: e.value, ts, eventId: e.eventId };
}

async function accept(services: Services, events: ScoreEvent[]): Promise<void> {
  const over = services.writer.overloaded(events.map((e) => e.userId));
  if (over.length > 0) throw backlogFull(over);
  try {
    await services.writer.append(events);
  } catch (error) {
    throw redisUnavailable(error);
  }
  services.metrics.eventsAccepted.inc(events.length);
}

function backlogFull(partitions: number[]): HttpError {
  return new HttpError(
    503,
    'backlog-full',
    `partition(s) ${partitions.join(', ')} are over their backlog high-water mark; retry later`,
    { 'Retry-After': '1' },
  );
}

/** 503: Redis did not accept the append (the events may or may not be in the stream). */
function redisUnavailable(error: unknown): HttpError {
  if (error instanceof ReplicationTimeoutError) {
    // DURABILITY=replicated: the events may be on the primary, not yet on a replica.
    return Object.assign(
      new HttpError(
        503,
        'not-replicated',
        `${error.message}; the events may or may not count: retry with the same eventIds`,
        {
          'Retry-After': '1',
        },
      ),
      { cause: error },
    );
  }
  return Object.assign(unavailable('Redis'), { cause: error });
}
