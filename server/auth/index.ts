/**
 * Bearer-key authentication with scopes: 401 for a missing or unknown key, 403 for a key that
 * lacks the scope the route needs.
 */
import type { MiddlewareHandler } from 'hono';
import { HttpError } from '../httpError.js';
import { requestHeader } from '../nodeRequest.js';
import { type ApiKey, findKey, type Scope } from './apiKeys.js';

export interface AuthOptions {
  keys: readonly ApiKey[];
  scope: Scope;
  /** When false, requests without a key pass (used for reads when they are open). Default true. */
  required?: boolean;
}

export type AuthVariables = { apiKey?: ApiKey };

/**
 * @example
 * app.post('/v1/events', requireScope({ keys, scope: 'ingest' }), handler);
 */
export function requireScope(options: AuthOptions): MiddlewareHandler<{ Variables: AuthVariables }> {
  const required = options.required ?? true;
  // Not async: a rejected key throws at once, and an accepted one hands on next()'s promise
  // without wrapping it in another (this runs on every request).
  return function requireScope(c, next) {
    const header = requestHeader(c, 'authorization');
    if (!header) {
      if (!required) return next();
      throw new HttpError(401, 'unauthorized', 'missing API key: send "Authorization: Bearer <key>"');
    }
    const secret = bearerSecret(header);
    if (secret === undefined)
      throw new HttpError(401, 'unauthorized', 'malformed Authorization header: use "Bearer <key>"');
    const key = findKey(options.keys, secret);
    if (!key) throw new HttpError(401, 'unauthorized', 'unknown API key');
    if (!key.scopes.has(options.scope)) {
      throw new HttpError(403, 'forbidden', `this API key lacks the '${options.scope}' scope`);
    }
    c.set('apiKey', key);
    return next();
  };
}

/** The secret of an `Authorization: Bearer <key>` header; undefined when it is not of that form. */
export function bearerSecret(header: string): string | undefined {
  return BEARER.exec(header)?.[1];
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;
