/** Profiles and friend lists (ingest scope); both live in the relational store. */
import { Hono } from 'hono';
import { setFriends, setProfile } from '../../leaderboard/index.js';
import type { Services } from '../services.js';
import { friendsSchema, parseBody, profileSchema } from '../validation.js';
import { routeGuards } from './guards.js';
import { LARGE_BODY, readJson, SMALL_BODY, userFrom } from './http.js';

export function userRoutes(services: Services): Hono {
  const app = new Hono();
  const { ingest, limit } = routeGuards(services);

  app.put('/v1/users/:userId/profile', ingest, limit, async (c) => {
    const userId = userFrom(c.req.param('userId'));
    const body = parseBody(profileSchema, await readJson(c, SMALL_BODY));
    const profile = await setProfile(services.db, userId, {
      name: body.name,
      avatarUrl: body.avatarUrl ?? null,
    });
    services.profiles.invalidate(userId);
    services.tops.profilesChanged();
    return c.json({ userId, ...profile });
  });

  app.put('/v1/users/:userId/friends', ingest, limit, async (c) => {
    const userId = userFrom(c.req.param('userId'));
    const body = parseBody(friendsSchema, await readJson(c, LARGE_BODY));
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
