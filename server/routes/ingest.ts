/**
 * Ingest: single and batch events. All or nothing: the whole request is validated before anything
 * is written, and 202 is answered only once Redis has accepted every event.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { EncodedEvent } from '../../operators/eventCodec.js';
import { HttpError, unavailable } from '../httpError.js';
import type { Services } from '../services.js';
import {
  batchEventSchema,
  batchSchema,
  describeIssues,
  parseBody,
  singleEventSchema,
} from '../validation.js';
import { routeGuards } from './guards.js';
import { freshBoardFrom, readJson } from './http.js';

const tooLarge = (limit: string) => () => {
  throw new HttpError(413, 'payload-too-large', `the body is larger than ${limit}`);
};

export function ingestRoutes(services: Services): Hono {
  const app = new Hono();
  const { ingest, limit } = routeGuards(services);

  app.post(
    '/v1/boards/:board/events',
    ingest,
    limit,
    bodyLimit({ maxSize: 64 * 1024, onError: tooLarge('64 KiB') }),
    async (c) => {
      const board = await freshBoardFrom(services, c.req.param('board'));
      const body = parseBody(singleEventSchema, await readJson(c));
      const now = Date.now();
      await accept(services, [
        {
          board: board.id,
          userId: body.userId,
          value: body.value,
          ts: body.ts ?? now,
          eventId: body.eventId,
        },
      ]);
      return c.json({ accepted: 1 }, 202);
    },
  );

  app.post(
    '/v1/events',
    ingest,
    limit,
    bodyLimit({ maxSize: 8 * 1024 * 1024, onError: tooLarge('8 MiB') }),
    async (c) => {
      const { events: raw } = parseBody(batchSchema, await readJson(c));
      const now = Date.now();
      const events: EncodedEvent[] = new Array(raw.length);
      for (let i = 0; i < raw.length; i++) {
        const result = batchEventSchema.safeParse(raw[i], { reportInput: true });
        if (!result.success)
          throw new HttpError(
            400,
            'invalid-event',
            `event ${i} is invalid: ${describeIssues(result.error, `events[${i}]`)}`,
          );
        const e = result.data;
        events[i] = { board: e.board, userId: e.userId, value: e.value, ts: e.ts ?? now, eventId: e.eventId };
      }
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
    },
  );
  return app;
}

async function accept(services: Services, events: EncodedEvent[]): Promise<void> {
  for (const e of events) if (e.eventId === undefined) delete e.eventId;
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
