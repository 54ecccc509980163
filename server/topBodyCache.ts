/**
 * Serialized `/top` bodies, reused between requests: a top of 100 entries with profiles costs a
 * JSON.stringify, a profile lookup per entry and a UTF-8 encoding of a few kilobytes, the same for
 * every request until the snapshot changes.
 *
 * A body is reused while all of these hold, and built again otherwise:
 * - the snapshot's version is the one it was built from (a newer snapshot is a new body at once);
 * - no profile was changed through this process since (`profilesChanged`, called by
 *   `PUT /v1/users/:userId/profile`, invalidates every body);
 * - it is younger than `ttlMs` (1 s by default). Profiles changed through another process reach
 *   this one's profile cache within that cache's own expiry, and the bodies built from it at most
 *   `ttlMs` later; a closed window's archived top (no snapshot) is re-read at most that often.
 */
import type { SnapshotRead } from '../leaderboard/index.js';

/** A `/top` body, serialized once, as text (SSE) and as UTF-8 bytes (HTTP). */
export interface SerializedTop {
  version: number;
  json: string;
  bytes: Uint8Array<ArrayBuffer>;
}

export interface TopBodyCacheOptions {
  /** Longest a body is reused, ms. Default 1000. */
  ttlMs?: number;
  /** Most bodies kept; the oldest go first. Default 1000. */
  maxEntries?: number;
  /** The clock, for tests. Default `Date.now`. */
  now?: () => number;
}

interface Entry {
  version: number;
  generation: number;
  expiresAt: number;
  body: Promise<SerializedTop>;
}

/**
 * @example
 * const tops = new TopBodyCache();
 * const top = await tops.get('global all:0 100', snapshot, () => topBody(services, board, window, 100, snapshot));
 * return c.body(top.bytes, 200, { 'Content-Type': 'application/json' });
 */
export class TopBodyCache {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  #generation = 0;

  constructor(options: TopBodyCacheOptions = {}) {
    this.#ttlMs = options.ttlMs ?? 1000;
    this.#maxEntries = options.maxEntries ?? 1000;
    this.#now = options.now ?? Date.now;
  }

  /** Forgets every body: a profile changed (profiles are part of the bodies). */
  profilesChanged(): void {
    this.#generation++;
    this.#entries.clear();
  }

  /**
   * The body under `key` (board, window instance and k) for this snapshot, reused or built with
   * `build`. Concurrent requests for a body being built share that build; a failed build is not
   * kept.
   */
  get(
    key: string,
    snapshot: SnapshotRead | undefined,
    build: () => Promise<unknown>,
  ): Promise<SerializedTop> {
    const version = snapshot?.version ?? 0;
    const now = this.#now();
    const cached = this.#entries.get(key);
    if (
      cached &&
      cached.version === version &&
      cached.generation === this.#generation &&
      cached.expiresAt > now
    ) {
      return cached.body;
    }
    const generation = this.#generation;
    const body = build().then((value) => {
      const json = JSON.stringify(value);
      return { version, json, bytes: Buffer.from(json, 'utf8') };
    });
    const entry: Entry = { version, generation, expiresAt: now + this.#ttlMs, body };
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    body.catch(() => {
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
    });
    return body;
  }
}
