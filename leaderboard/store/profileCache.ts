/**
 * Profiles in front of the store for the read path: every read response attaches the profiles of
 * its entries, so a top-100 must not cost 100 queries, nor even one query per request when the
 * same users are asked for again and again.
 */
import type { Queryable } from './database.js';
import { checkInteger } from './inputChecks.js';
import { getProfiles, type Profile } from './profiles.js';

export interface ProfileCacheOptions {
  /** Most users kept (with or without a profile); the least recently used go first. Default 10,000. */
  maxEntries?: number;
  /** How long a looked-up profile, or the absence of one, is served before asking again. Default 60 s. */
  ttlMs?: number;
  /** The clock, for tests. Default `Date.now`. */
  now?: () => number;
}

interface Cached {
  /** null: the user has no profile, which is worth remembering too. */
  profile: Profile | null;
  expiresAt: number;
}

/**
 * A bounded, expiring cache of profiles that looks up all of a call's misses in one query.
 *
 * Users without a profile are cached as such, or every read would ask for them again. Misses
 * that another call is already looking up are awaited instead of asked for twice, so a burst of
 * reads of the same top after an expiry costs one query. {@link ProfileCache.invalidate} only
 * reaches this process; other processes see a change within `ttlMs`.
 *
 * ## Example
 * ```ts
 * import { ProfileCache } from './leaderboard/store/profileCache.js';
 * import { setProfile } from './leaderboard/store/profiles.js';
 *
 * const profiles = new ProfileCache(db, { ttlMs: 30_000 });
 * const found = await profiles.get(entries.map((e) => e.userId)); // one query at most
 * const body = entries.map((e) => ({ ...e, profile: found.get(e.userId) }));
 *
 * await setProfile(db, 'ada', { name: 'Ada' });
 * profiles.invalidate('ada');
 * ```
 *
 * @see {@link getProfiles}
 */
export class ProfileCache {
  readonly #db: Queryable;
  readonly #maxEntries: number;
  readonly #ttlMs: number;
  readonly #now: () => number;
  /** In least-recently-used-first order: a hit moves its key to the end. */
  readonly #cached = new Map<string, Cached>();
  /** The lookup in flight for each user; `invalidate` removes it so its stale answer is not kept. */
  readonly #pending = new Map<string, Promise<Map<string, Profile>>>();

  constructor(db: Queryable, options: ProfileCacheOptions = {}) {
    this.#db = db;
    this.#maxEntries = checkInteger(options.maxEntries ?? 10_000, 'maxEntries', 1);
    this.#ttlMs = checkInteger(options.ttlMs ?? 60_000, 'ttlMs', 0);
    this.#now = options.now ?? Date.now;
  }

  /** How many users are cached (expired ones included until they are asked for or evicted). */
  get size(): number {
    return this.#cached.size;
  }

  /**
   * The profiles of the given users, from the cache or from one batched lookup of the misses.
   *
   * @param userIds Users to look up; repeats are fine.
   * @return The profiles found, by user id; users without a profile are absent.
   */
  async get(userIds: readonly string[]): Promise<Map<string, Profile>> {
    const found = new Map<string, Profile>();
    const now = this.#now();
    const misses: string[] = [];
    const waits: Promise<void>[] = [];
    const take = (id: string, profiles: Map<string, Profile>) => {
      const profile = profiles.get(id);
      if (profile !== undefined) found.set(id, profile);
    };

    for (const id of new Set(userIds)) {
      const cached = this.#cached.get(id);
      if (cached !== undefined) {
        this.#cached.delete(id);
        if (cached.expiresAt > now) {
          this.#cached.set(id, cached);
          if (cached.profile !== null) found.set(id, cached.profile);
          continue;
        }
      }
      const pending = this.#pending.get(id);
      if (pending !== undefined) waits.push(pending.then((profiles) => take(id, profiles)));
      else misses.push(id);
    }

    if (misses.length > 0) {
      const lookup = this.#lookup(misses);
      waits.push(
        lookup.then((profiles) => {
          for (const id of misses) take(id, profiles);
        }),
      );
    }
    await Promise.all(waits);
    return found;
  }

  /** Forgets a user's profile, e.g. after it changed; a lookup in flight for it is not cached. */
  invalidate(userId: string): void {
    this.#cached.delete(userId);
    this.#pending.delete(userId);
  }

  /** Forgets everything. */
  clear(): void {
    this.#cached.clear();
    this.#pending.clear();
  }

  #lookup(ids: string[]): Promise<Map<string, Profile>> {
    const lookup: Promise<Map<string, Profile>> = getProfiles(this.#db, ids).then(
      (profiles) => {
        const expiresAt = this.#now() + this.#ttlMs;
        for (const id of ids) {
          if (this.#pending.get(id) !== lookup) continue; // invalidated meanwhile
          this.#pending.delete(id);
          this.#cached.set(id, { profile: profiles.get(id) ?? null, expiresAt });
        }
        this.#evict();
        return profiles;
      },
      (error: unknown) => {
        for (const id of ids) if (this.#pending.get(id) === lookup) this.#pending.delete(id);
        throw error;
      },
    );
    for (const id of ids) this.#pending.set(id, lookup);
    return lookup;
  }

  #evict(): void {
    for (const id of this.#cached.keys()) {
      if (this.#cached.size <= this.#maxEntries) return;
      this.#cached.delete(id);
    }
  }
}
