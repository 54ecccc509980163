/**
 * Caps on the live (SSE) streams a process holds: in total (`MAX_LIVE_STREAMS`) and per client
 * address (`MAX_LIVE_STREAMS_PER_CLIENT`). Every snapshot change is written to every stream of
 * its board, so streams cost CPU as long as they live, not only when they open: issue 15 measured
 * other clients' reads at a p99 of 215-298 ms with 2,000 streams held by one address, against
 * 6-8 ms with 100.
 *
 * A client over its cap gets 429 `too-many-streams`; a process at its total gets 503
 * `server-busy`; both with `Retry-After`.
 */
import { clientKey } from './clientAddress.js';
import { HttpError } from './httpError.js';

export interface LiveStreamLimitOptions {
  /** Streams held at once, from every client (0: no cap). */
  maxStreams: number;
  /** Streams held at once by one client address (0: no cap). */
  maxPerClient: number;
}

/** Seconds a refused client is told to wait before it opens a stream again. */
const RETRY_AFTER_SECONDS = '5';

/**
 * @example
 * const limits = new LiveStreamLimits({ maxStreams: 1000, maxPerClient: 32 });
 * const release = limits.open('203.0.113.9'); // throws 429 or 503 when over a cap
 * stream.closed.then(release);
 */
export class LiveStreamLimits {
  readonly #options: LiveStreamLimitOptions;
  readonly #perClient = new Map<string, number>();
  #open = 0;

  constructor(options: LiveStreamLimitOptions) {
    this.#options = options;
  }

  /** Streams held now. */
  get held(): number {
    return this.#open;
  }

  /**
   * Counts a new stream of `client` (its address), or throws the refusal when a cap is reached.
   * Returns the function that releases it; calling that more than once releases it once.
   */
  open(client: string): () => void {
    const { maxStreams, maxPerClient } = this.#options;
    const key = clientKey(client);
    const held = this.#perClient.get(key) ?? 0;
    if (maxPerClient > 0 && held >= maxPerClient) {
      throw new HttpError(
        429,
        'too-many-streams',
        `this client address holds ${held} live streams, the most one client may hold; close one first`,
        { 'Retry-After': RETRY_AFTER_SECONDS },
      );
    }
    if (maxStreams > 0 && this.#open >= maxStreams) {
      throw new HttpError(
        503,
        'server-busy',
        `the server holds ${maxStreams} live streams, the most it serves; retry later`,
        { 'Retry-After': RETRY_AFTER_SECONDS },
      );
    }
    this.#perClient.set(key, held + 1);
    this.#open++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#open--;
      const left = (this.#perClient.get(key) ?? 1) - 1;
      if (left > 0) this.#perClient.set(key, left);
      else this.#perClient.delete(key);
    };
  }
}
