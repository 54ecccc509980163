/** Users' display profiles, attached to every entry the reads return (through {@link ProfileCache}). */
import type { Queryable } from './database.js';
import { checkArray, checkText, checkUserId } from './inputChecks.js';
import { StoreInputError } from './storeInputError.js';

/** A profile as stored and returned. */
export interface Profile {
  name: string;
  avatarUrl: string | null;
}

/** A profile as given: `avatarUrl` may be left out. */
export interface ProfileInput {
  name: string;
  avatarUrl?: string | null;
}

/**
 * Creates or replaces a user's profile (a missing `avatarUrl` clears the stored one).
 *
 * ## Example
 * ```ts
 * import { setProfile } from './leaderboard/store/profiles.js';
 *
 * await setProfile(db, 'ada', { name: 'Ada', avatarUrl: 'https://example.com/ada.png' });
 * ```
 *
 * @param userId 1 to 128 characters, no control characters.
 * @param profile `name` 1 to 128 characters; `avatarUrl` an http(s) URL of at most 2048 characters.
 * @return The profile as stored.
 * @throws StoreInputError for an invalid field; nothing is written then.
 */
export async function setProfile(db: Queryable, userId: string, profile: ProfileInput): Promise<Profile> {
  checkUserId(userId);
  const name = checkText(profile?.name, 'name', 128);
  const avatarUrl = checkAvatarUrl(profile.avatarUrl);
  await db.query(
    `INSERT INTO profiles (user_id, name, avatar_url) VALUES ($1, $2, $3)
     ON CONFLICT (user_id) DO UPDATE
       SET name = EXCLUDED.name, avatar_url = EXCLUDED.avatar_url, updated_at = now()`,
    [userId, name, avatarUrl],
  );
  return { name, avatarUrl };
}

/**
 * Looks up the profiles of many users in one query.
 *
 * ## Example
 * ```ts
 * import { getProfiles } from './leaderboard/store/profiles.js';
 *
 * const profiles = await getProfiles(db, ['ada', 'grace']);
 * profiles.get('ada'); // { name: 'Ada', avatarUrl: null }; users without a profile are absent
 * ```
 *
 * @see {@link ProfileCache} for the cached lookup the reads use.
 * @return The found profiles by user id; no query at all for an empty list.
 */
export async function getProfiles(db: Queryable, userIds: readonly string[]): Promise<Map<string, Profile>> {
  const given = checkArray(userIds, 'userIds');
  for (const [i, id] of given.entries()) checkUserId(id, `userIds[${i}]`);
  const ids = [...new Set(given as string[])];
  const profiles = new Map<string, Profile>();
  if (ids.length === 0) return profiles;
  const rows = await db.query<{ user_id: string; name: string; avatar_url: string | null }>(
    'SELECT user_id, name, avatar_url FROM profiles WHERE user_id = ANY($1::text[])',
    [ids],
  );
  for (const row of rows) profiles.set(row.user_id, { name: row.name, avatarUrl: row.avatar_url });
  return profiles;
}

function checkAvatarUrl(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  const expected = 'an http(s) URL of at most 2048 characters';
  if (typeof value !== 'string' || value.length > 2048)
    throw new StoreInputError('avatarUrl', expected, value);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new StoreInputError('avatarUrl', expected, value);
  }
  // Other schemes (javascript:, data:) would be rendered as-is by the dashboard.
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new StoreInputError('avatarUrl', expected, value);
  }
  return value;
}
