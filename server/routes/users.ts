/** Profiles and friend lists (ingest scope); both live in the relational store. */
import { Hono } from 'hono';
import { setFriends } from '../../operators/store/friends.js';
import { setProfile } from '../../operators/store/profiles.js';
import { HttpError } from '../httpError.js';
import type { Services } from '../services.js';
import { friendsSchema, parseBody, profileSchema, userIdSchema } from '../validation.js';
import { routeGuards } from './guards.js';
import { jsonBodyLimit, readJson } from './http.js';

export function userRoutes(services: Services): Hono {
  const app = new Hono();
  const { ingest, limit } = routeGuards(services);

  app.put('/v1/users/:userId/profile', ingest, limit, jsonBodyLimit(64 * 1024, '64 KiB'), async (c) => {
    const userId = pathUser(c.req.param('userId'));
    const body = parseBody(profileSchema, await readJson(c));
    const profile = await setProfile(services.db, userId, {
      name: body.name,
      avatarUrl: body.avatarUrl ?? null,
    });
    services.profiles.invalidate(userId);
    return c.json({ userId, ...profile });
  });

  app.put('/v1/users/:userId/friends', ingest, limit, jsonBodyLimit(8 * 1024 * 1024, '8 MiB'), async (c) => {
    const userId = pathUser(c.req.param('userId'));
    const body = parseBody(friendsSchema, await readJson(c));
    const friends = await setFriends(
      services.db,
      userId,
      body.friends.filter((f) => f !== userId),
    );
    services.friends.invalidate(userId);
    return c.json({ userId, friends });
  });
  return app;
}

function pathUser(raw: string): string {
  const result = userIdSchema.safeParse(raw);
  if (!result.success)
    throw new HttpError(400, 'invalid-user-id', `userId ${result.error.issues[0]?.message ?? 'is invalid'}`);
  return raw;
}
