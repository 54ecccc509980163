/**
 * Every user's own friend list (one direction: what the user uploaded), for the friends ranking.
 */
import type { Database, Queryable } from './database.js';
import { checkArray, checkUserId } from './inputChecks.js';

/**
 * Replaces a user's whole friend list, atomically: a reader sees the old list or the new one.
 * Duplicates and the user's own id are dropped. Concurrent replacements of one user's list are
 * serialized (the last to commit wins), so they never fail on each other's rows.
 *
 * ## Example
 * ```ts
 * import { setFriends } from './leaderboard/store/friends.js';
 *
 * await setFriends(db, 'ada', ['grace', 'linus', 'grace']); // ['grace', 'linus']
 * await setFriends(db, 'ada', []); // clears the list
 * ```
 *
 * @param userId The list's owner.
 * @param friendIds The new list; each 1 to 128 characters without control characters.
 * @return The list as stored, in the given order.
 * @throws StoreInputError for an invalid id; nothing is changed then.
 */
export async function setFriends(
  db: Database,
  userId: string,
  friendIds: readonly string[],
): Promise<string[]> {
  checkUserId(userId);
  const given = checkArray(friendIds, 'friendIds');
  for (const [i, id] of given.entries()) checkUserId(id, `friendIds[${i}]`);
  const friends = [...new Set(given as string[])].filter((id) => id !== userId);
  await db.transaction(async (tx) => {
    // Two replacements of one list would otherwise both delete the old rows and then collide on
    // each other's new ones.
    await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('friends:' || $1, 0))`, [userId]);
    await tx.query('DELETE FROM friends WHERE user_id = $1', [userId]);
    if (friends.length > 0) {
      await tx.query('INSERT INTO friends (user_id, friend_id) SELECT $1, unnest($2::text[])', [
        userId,
        friends,
      ]);
    }
  });
  return friends;
}

/** A user's friends, sorted by id; empty when the user has none (or is unknown). */
export async function getFriends(db: Queryable, userId: string): Promise<string[]> {
  checkUserId(userId);
  const rows = await db.query<{ friend_id: string }>(
    'SELECT friend_id FROM friends WHERE user_id = $1 ORDER BY friend_id',
    [userId],
  );
  return rows.map((row) => row.friend_id);
}

/** How many friends a user has, e.g. to choose the precomputed ranking for huge lists. */
export async function friendCount(db: Queryable, userId: string): Promise<number> {
  checkUserId(userId);
  const [row] = await db.query<{ n: number }>('SELECT count(*) AS n FROM friends WHERE user_id = $1', [
    userId,
  ]);
  return row?.n ?? 0;
}
