/**
 * Rate limits: a token bucket per API key, and one per client address for requests without a
 * key (open reads), refilled continuously; an empty bucket answers 429 with Retry-After.
 *
 * Keys and addresses have separate budgets (`RATE_LIMIT_RPS` per key, `ANONYMOUS_RATE_LIMIT_RPS`
 * per address): a key's budget is sized for a trusted client's traffic, far above what one
 * anonymous reader needs (issue 15: 20,000 `GET /top` from one address at ~7,600/s met no 429).
 */
import type { MiddlewareHandler } from 'hono';
import type { AuthVariables } from '../auth/index.js';
import { clientKey, requestClient, TrustedProxies } from '../clientAddress.js';
import { HttpError } from '../httpError.js';
import { incomingOf } from '../nodeRequest.js';

export interface RateLimitOptions {
  /** Requests per second per key; 0 turns the limit off. */
  perSecond: number;
  /** Bucket size. Default 2 seconds' worth. */
  burst?: number;
  /** Who a bucket belongs to, in the 429 message. Default `this key`. */
  subject?: string;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets kept before full ones (as good as absent) are swept out. */
const SWEEP_AT_LEAST = 10_000;

/**
 * The buckets, one per key (or client address). Shared by the rate-limit middleware and the
 * single-event ingest's fast path (`server/singleEventListener.ts`), so a key has one budget.
 * A bucket that has refilled to its burst is the same as no bucket: such buckets are dropped
 * whenever the map has doubled since the last sweep, so clients that come and go (addresses)
 * leave nothing behind.
 *
 * @example
 * const limiter = new RateLimiter({ perSecond: 1000 });
 * if (!limiter.tryTake('key1')) throw limiter.refusal('key1');
 */
export class RateLimiter {
  readonly #perSecond: number;
  readonly #burst: number;
  readonly #subject: string;
  readonly #buckets = new Map<string, Bucket>();
  readonly #bodies = new Map<number, string>();
  #sweepAt = SWEEP_AT_LEAST;

  /** False when the limit is off (0 requests per second): every take succeeds. */
  readonly enabled: boolean;

  constructor(options: RateLimitOptions) {
    this.#perSecond = options.perSecond;
    this.enabled = options.perSecond > 0;
    this.#burst = options.burst ?? Math.max(1, options.perSecond * 2);
    this.#subject = options.subject ?? 'this key';
  }

  /** Buckets held now. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes a token from `who`'s bucket; false, taking nothing, when it has less than one. */
  tryTake(who: string): boolean {
    if (!this.enabled) return true;
    const bucket = this.#refill(who);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** The 429 for `who`, whose bucket is empty, with the seconds until it holds a token. */
  refusal(who: string): HttpError {
    const wait = this.#wait(who);
    return new HttpError(429, 'rate-limited', `too many requests for ${this.#subject}; retry in ${wait} s`, {
      'Retry-After': String(wait),
    });
  }

  /**
   * The same refusal as `refusal`, as the seconds to wait and the serialized body, made once per
   * wait: a client over its limit keeps sending, and each refusal must cost less than serving it
   * would (an error thrown through the middleware cost about twice a cached `/top`).
   */
  refusalBody(who: string): { wait: number; body: string } {
    const wait = this.#wait(who);
    let body = this.#bodies.get(wait);
    if (body === undefined) {
      body = JSON.stringify(this.refusal(who).toJSON());
      if (this.#bodies.size < 64) this.#bodies.set(wait, body);
    }
    return { wait, body };
  }

  #wait(who: string): number {
    return Math.max(1, Math.ceil((1 - this.#refill(who).tokens) / this.#perSecond));
  }

  #refill(who: string): Bucket {
    const now = Date.now();
    let bucket = this.#buckets.get(who);
    if (!bucket) {
      if (this.#buckets.size >= this.#sweepAt) this.#sweep(now);
      bucket = { tokens: this.#burst, at: now };
      this.#buckets.set(who, bucket);
    }
    bucket.tokens = Math.min(this.#burst, bucket.tokens + ((now - bucket.at) / 1000) * this.#perSecond);
    bucket.at = now;
    return bucket;
  }

  #sweep(now: number): void {
    for (const [who, bucket] of this.#buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * this.#perSecond >= this.#burst)
        this.#buckets.delete(who);
    }
    this.#sweepAt = Math.max(SWEEP_AT_LEAST, this.#buckets.size * 2);
  }
}

/**
 * The limit as middleware: a request with a key (set by `requireScope`) spends from its key's
 * bucket in `keys`; one without spends from its client address's bucket in `anonymous` (in
 * `keys` when no `anonymous` limiter is given). Client addresses follow `X-Forwarded-For` only
 * from `proxies`.
 *
 * @example
 * app.use('/v1/*', rateLimit({ perSecond: 1000 }, { perSecond: 100, subject: 'this client address' }));
 */
export function rateLimit(
  keys: RateLimitOptions | RateLimiter,
  anonymous?: RateLimitOptions | RateLimiter,
  proxies: TrustedProxies = TrustedProxies.parse(''),
): MiddlewareHandler<{ Variables: AuthVariables }> {
  const byKey = keys instanceof RateLimiter ? keys : new RateLimiter(keys);
  const byAddress =
    anonymous === undefined
      ? byKey
      : anonymous instanceof RateLimiter
        ? anonymous
        : new RateLimiter(anonymous);
  // Not async, as requireScope: it throws or hands on next()'s promise.
  return function rateLimit(c, next) {
    const key = c.get('apiKey');
    if (key) {
      if (byKey.enabled && !byKey.tryTake(key.id)) throw byKey.refusal(key.id);
      return next();
    }
    if (!byAddress.enabled) return next();
    const who = `address ${clientKey(requestClient(incomingOf(c), proxies))}`;
    if (byAddress.tryTake(who)) return next();
    // Answered here, not thrown: the cheapest answer this app can give (see `refusalBody`).
    const { wait, body } = byAddress.refusalBody(who);
    return Promise.resolve(
      c.body(body, 429, { 'Content-Type': 'application/json', 'Retry-After': String(wait) }),
    );
  };
}
