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
 * @example
 * app.use('/v1/*', rateLimit({ perSecond: 1000 }));
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler<{ Variables: AuthVariables }> {
  const burst = options.burst ?? Math.max(1, options.perSecond * 2);
  const buckets = new Map<string, Bucket>();
  // Not async, as requireScope: it throws or hands on next()'s promise.
  return function rateLimit(c, next) {
    if (options.perSecond <= 0) return next();
    const who = c.get('apiKey')?.id ?? `address ${clientAddress(c)}`;
    const now = Date.now();
    const bucket = buckets.get(who) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * options.perSecond);
    bucket.at = now;
    buckets.set(who, bucket);
    if (bucket.tokens < 1) {
      const wait = Math.ceil((1 - bucket.tokens) / options.perSecond);
      throw new HttpError(429, 'rate-limited', `too many requests for this key; retry in ${wait} s`, {
        'Retry-After': String(Math.max(1, wait)),
      });
    }
    bucket.tokens -= 1;
    return next();
  };
}
