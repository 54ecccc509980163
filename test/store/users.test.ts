import { describe, expect, it } from 'vitest';
import type { Database } from '../../leaderboard/store/database.js';
import { friendCount, getFriends, setFriends } from '../../leaderboard/store/friends.js';
import { ProfileCache } from '../../leaderboard/store/profileCache.js';
import { getProfiles, setProfile } from '../../leaderboard/store/profiles.js';
import { StoreInputError } from '../../leaderboard/store/storeInputError.js';
import { counting, ENGINES, flaky, unique, useStore } from './engines.js';

const fieldOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error: unknown) => (error instanceof StoreInputError ? error.field : error),
  );

describe.each(ENGINES)('users on $name', (engine) => {
  // One database for the file: PGlite takes seconds to start.
  const store = useStore(engine);

  describe('profiles', () => {
    it('stores a profile and replaces it whole, clearing an avatar left out', async () => {
      const id = unique();
      expect(await setProfile(store.db, id, { name: 'Ada', avatarUrl: 'https://example.com/a.png' })).toEqual(
        {
          name: 'Ada',
          avatarUrl: 'https://example.com/a.png',
        },
      );
      expect((await getProfiles(store.db, [id])).get(id)).toEqual({
        name: 'Ada',
        avatarUrl: 'https://example.com/a.png',
      });
      await setProfile(store.db, id, { name: 'Ada L.' });
      expect((await getProfiles(store.db, [id])).get(id)).toEqual({ name: 'Ada L.', avatarUrl: null });
    });

    it('looks up N users in one query, returning only those with a profile', async () => {
      const prefix = unique();
      const ids = Array.from({ length: 50 }, (_, i) => `${prefix}-${i}`);
      for (const id of ids.filter((_, i) => i % 2 === 0))
        await setProfile(store.db, id, { name: `name of ${id}` });
      const { db, statements } = counting(store.db);

      const found = await getProfiles(db, [...ids, ...ids, `${prefix}-unknown`]);

      expect(statements).toHaveLength(1);
      expect(statements[0]!.sql).toContain('= ANY($1');
      expect(found.size).toBe(25);
      expect(found.get(`${prefix}-4`)).toEqual({ name: `name of ${prefix}-4`, avatarUrl: null });
      expect(found.has(`${prefix}-5`)).toBe(false);
    });

    it('asks nothing of the database for an empty list', async () => {
      const { db, statements } = counting(store.db);
      expect((await getProfiles(db, [])).size).toBe(0);
      expect(statements).toHaveLength(0);
    });

    it('rejects an empty userId with a clear error and writes nothing', async () => {
      const error = await setProfile(store.db, '', { name: 'Nobody' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreInputError);
      expect((error as Error).message).toBe(
        'userId must be a string of 1 to 128 characters without control characters, got ""',
      );
      expect((await store.db.query("SELECT 1 FROM profiles WHERE user_id = ''")).length).toBe(0);
    });

    it.each([
      ['an empty name', { name: '' }, 'name'],
      ['a name with a control character', { name: 'a\u0000b' }, 'name'],
      ['a javascript: avatar', { name: 'x', avatarUrl: 'javascript:alert(1)' }, 'avatarUrl'],
      ['an avatar that is not a URL', { name: 'x', avatarUrl: 'not a url' }, 'avatarUrl'],
    ])('rejects %s', async (_, profile, field) => {
      const id = unique();
      expect(await fieldOf(setProfile(store.db, id, profile))).toBe(field);
      expect((await getProfiles(store.db, [id])).size).toBe(0);
    });

    it('rejects an invalid id in a lookup, naming its index', async () => {
      expect(await fieldOf(getProfiles(store.db, ['ok', '']))).toBe('userIds[1]');
    });
  });

  describe('ProfileCache', () => {
    const clock = () => {
      let now = 1_000_000;
      return {
        now: () => now,
        advance: (ms: number) => {
          now += ms;
        },
      };
    };
    const seed = async (db: Database, count: number) => {
      const prefix = unique();
      const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
      for (const id of ids) await setProfile(db, id, { name: `name of ${id}` });
      return ids;
    };

    it('serves repeats from memory and looks up only the misses, in one query per call', async () => {
      const ids = await seed(store.db, 6);
      const { db, statements } = counting(store.db);
      const cache = new ProfileCache(db);

      expect((await cache.get(ids.slice(0, 4))).size).toBe(4);
      expect(statements).toHaveLength(1);
      expect((await cache.get(ids.slice(0, 4))).get(ids[2]!)).toEqual({
        name: `name of ${ids[2]}`,
        avatarUrl: null,
      });
      expect(statements).toHaveLength(1);

      const found = await cache.get(ids);
      expect(found.size).toBe(6);
      expect(statements).toHaveLength(2);
      expect(statements[1]!.params).toEqual([ids.slice(4)]);
    });

    it('remembers users without a profile too', async () => {
      const { db, statements } = counting(store.db);
      const cache = new ProfileCache(db);
      const nobody = unique();
      expect((await cache.get([nobody])).size).toBe(0);
      expect((await cache.get([nobody])).size).toBe(0);
      expect(statements).toHaveLength(1);
    });

    it('asks again once the TTL has passed, and then sees changes', async () => {
      const [id] = await seed(store.db, 1);
      const { db, statements } = counting(store.db);
      const time = clock();
      const cache = new ProfileCache(db, { ttlMs: 1000, now: time.now });

      await cache.get([id!]);
      await setProfile(store.db, id!, { name: 'renamed' });
      time.advance(999);
      expect((await cache.get([id!])).get(id!)?.name).toBe(`name of ${id}`);
      expect(statements).toHaveLength(1);

      time.advance(1);
      expect((await cache.get([id!])).get(id!)?.name).toBe('renamed');
      expect(statements).toHaveLength(2);
    });

    it('invalidate makes the next get read the changed profile', async () => {
      const [id, other] = await seed(store.db, 2);
      const { db, statements } = counting(store.db);
      const cache = new ProfileCache(db);
      await cache.get([id!, other!]);

      await setProfile(store.db, id!, { name: 'renamed', avatarUrl: 'https://example.com/r.png' });
      cache.invalidate(id!);
      const found = await cache.get([id!, other!]);

      expect(found.get(id!)).toEqual({ name: 'renamed', avatarUrl: 'https://example.com/r.png' });
      expect(statements).toHaveLength(2);
      expect(statements[1]!.params).toEqual([[id]]);
    });

    it('does not keep the answer of a lookup that was in flight when the user was invalidated', async () => {
      const [id] = await seed(store.db, 1);
      const { db, statements } = counting(store.db);
      // The lookup has read the old profile but has not answered yet when the change lands.
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const held: Database = {
        ...db,
        query: async (sql, params) => {
          const rows = await db.query(sql, params);
          await gate;
          return rows as never;
        },
      };
      const cache = new ProfileCache(held);

      const inFlight = cache.get([id!]);
      await expect.poll(() => statements.length).toBe(1);
      await setProfile(store.db, id!, { name: 'renamed' });
      cache.invalidate(id!);
      release();
      expect((await inFlight).get(id!)?.name).toBe(`name of ${id}`);

      expect((await cache.get([id!])).get(id!)?.name).toBe('renamed');
      expect(statements).toHaveLength(2);
    });

    it('concurrent gets of the same users share one lookup', async () => {
      const ids = await seed(store.db, 3);
      const { db, statements } = counting(store.db);
      const cache = new ProfileCache(db);
      const [a, b] = await Promise.all([cache.get(ids), cache.get(ids.slice(1))]);
      expect(a.size).toBe(3);
      expect(b.size).toBe(2);
      expect(statements).toHaveLength(1);
    });

    it('keeps at most maxEntries users, dropping the least recently used', async () => {
      const [a, b, c, d] = await seed(store.db, 4);
      const { db, statements } = counting(store.db);
      const cache = new ProfileCache(db, { maxEntries: 3 });

      await cache.get([a!, b!, c!]);
      await cache.get([a!]); // a is now the most recently used: b goes first
      await cache.get([d!]);
      expect(cache.size).toBe(3);
      expect(statements).toHaveLength(2);

      await cache.get([a!, c!, d!]);
      expect(statements).toHaveLength(2);
      expect((await cache.get([b!])).size).toBe(1);
      expect(statements).toHaveLength(3);
    });

    it('a failed lookup rejects, is not cached, and the next get asks again', async () => {
      const [id] = await seed(store.db, 1);
      const db = flaky(store.db);
      const cache = new ProfileCache(db.db);
      db.fail(1);
      await expect(cache.get([id!])).rejects.toThrow('Connection terminated unexpectedly');
      expect(cache.size).toBe(0);
      expect((await cache.get([id!])).get(id!)?.name).toBe(`name of ${id}`);
    });

    it('rejects a size below one', () => {
      expect(() => new ProfileCache(store.db, { maxEntries: 0 })).toThrow(StoreInputError);
    });
  });

  describe('friends', () => {
    it('replaces the whole list each time', async () => {
      const id = unique();
      expect(await setFriends(store.db, id, ['c', 'a', 'b'])).toEqual(['c', 'a', 'b']);
      expect(await getFriends(store.db, id)).toEqual(['a', 'b', 'c']);

      expect(await setFriends(store.db, id, ['d', 'c'])).toEqual(['d', 'c']);
      expect(await getFriends(store.db, id)).toEqual(['c', 'd']);
      expect(await friendCount(store.db, id)).toBe(2);

      await setFriends(store.db, id, []);
      expect(await getFriends(store.db, id)).toEqual([]);
      expect(await friendCount(store.db, id)).toBe(0);
    });

    it('drops duplicates and the user themself', async () => {
      const id = unique();
      expect(await setFriends(store.db, id, ['x', id, 'x', 'y'])).toEqual(['x', 'y']);
      expect(await getFriends(store.db, id)).toEqual(['x', 'y']);
    });

    it("keeps each user's list apart (a list is one direction)", async () => {
      const [ada, bob] = [unique(), unique()];
      await setFriends(store.db, ada, [bob, 'carol']);
      await setFriends(store.db, bob, ['dave']);
      expect(await getFriends(store.db, ada)).toEqual([bob, 'carol'].sort());
      expect(await getFriends(store.db, bob)).toEqual(['dave']);
    });

    it('replaces a list in one transaction: a failure halfway keeps the old list', async () => {
      const id = unique();
      await setFriends(store.db, id, ['old1', 'old2']);
      const failingInsert: Database = {
        ...store.db,
        transaction: (fn) =>
          store.db.transaction((tx) =>
            fn({
              query: (sql, params) =>
                sql.startsWith('INSERT')
                  ? Promise.reject(new Error('disk full (simulated)'))
                  : tx.query(sql, params),
            }),
          ),
      };
      await expect(setFriends(failingInsert, id, ['new'])).rejects.toThrow('disk full');
      expect(await getFriends(store.db, id)).toEqual(['old1', 'old2']);
    });

    it('concurrent replacements of one list both succeed and the result is exactly one of them', async () => {
      const id = unique();
      const lists = [
        ['a', 'b', 'c'],
        ['b', 'c', 'd'],
        ['c', 'e'],
      ];
      await Promise.all(lists.map((list) => setFriends(store.db, id, list)));
      expect(lists.map((l) => l.slice().sort())).toContainEqual(await getFriends(store.db, id));
    });

    it('stores a large list in one statement', async () => {
      const id = unique();
      const friends = Array.from({ length: 5000 }, (_, i) => `f${i}`);
      const { db, statements } = counting(store.db);
      await setFriends(db, id, friends);
      expect(statements.filter((s) => s.sql.startsWith('INSERT'))).toHaveLength(1);
      expect(await friendCount(store.db, id)).toBe(5000);
    });

    it('rejects an empty userId or friend id with a clear error and keeps the old list', async () => {
      const id = unique();
      await setFriends(store.db, id, ['keep']);
      expect(await fieldOf(setFriends(store.db, '', ['a']))).toBe('userId');
      expect(await fieldOf(setFriends(store.db, id, ['a', '']))).toBe('friendIds[1]');
      expect(await fieldOf(setFriends(store.db, id, 'a' as never))).toBe('friendIds');
      expect(await fieldOf(getFriends(store.db, ''))).toBe('userId');
      expect(await getFriends(store.db, id)).toEqual(['keep']);
    });
  });
});
