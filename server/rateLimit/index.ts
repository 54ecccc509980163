/**
 * Per-key rate limits: a token bucket per API key (or per client address for open reads),
 * refilled continuously; an empty bucket answers 429 with Retry-After.
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import type { AuthVariables } from '../auth/index.js';
import { HttpError } from '../httpError.js';

export interface RateLimitOptions {
  /** Requests per second per key; 0 turns the limit off. */
  perSecond: number;
  /** Bucket size. Default 2 seconds' worth. */
  burst?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** The client's address, for requests without a key (open reads); unknown without a socket. */
function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * The buckets, one per key (or client address). Shared by the rate-limit middleware and the
 * single-event ingest's fast path (`server/singleEventListener.ts`), so a key has one budget.
 *
 * @example
 * const limiter = new RateLimiter({ perSecond: 1000 });
 * if (!limiter.tryTake('key1')) throw limiter.refusal('key1');
 */
export class RateLimiter {
  readonly #perSecond: number;
  readonly #burst: number;
  readonly #buckets = new Map<string, Bucket>();

  /** False when the limit is off (0 requests per second): every take succeeds. */
  readonly enabled: boolean;

  constructor(options: RateLimitOptions) {
    this.#perSecond = options.perSecond;
    this.enabled = options.perSecond > 0;
    this.#burst = options.burst ?? Math.max(1, options.perSecond * 2);
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
    const wait = Math.ceil((1 - this.#refill(who).tokens) / this.#perSecond);
    return new HttpError(429, 'rate-limited', `too many requests for this key; retry in ${wait} s`, {
      'Retry-After': String(Math.max(1, wait)),
    });
  }

  #refill(who: string): Bucket {
    const now = Date.now();
    let bucket = this.#buckets.get(who);
    if (!bucket) {
      bucket = { tokens: this.#burst, at: now };
      this.#buckets.set(who, bucket);
    }
    bucket.tokens = Math.min(this.#burst, bucket.tokens + ((now - bucket.at) / 1000) * this.#perSecond);
    bucket.at = now;
    return bucket;
  }
}

/**
 * @example
 * app.use('/v1/*', rateLimit({ perSecond: 1000 }));
 */
export function rateLimit(
  limits: RateLimitOptions | RateLimiter,
): MiddlewareHandler<{ Variables: AuthVariables }> {
  const limiter = limits instanceof RateLimiter ? limits : new RateLimiter(limits);
  // Not async, as requireScope: it throws or hands on next()'s promise.
  return function rateLimit(c, next) {
    if (!limiter.enabled) return next();
    const who = c.get('apiKey')?.id ?? `address ${clientAddress(c)}`;
    if (!limiter.tryTake(who)) throw limiter.refusal(who);
    return next();
  };
}
