/**
 * API keys and their scopes: `API_KEYS="key1=ingest+admin,key2=ingest"`. Keys are compared in
 * constant time (over their SHA-256 digests, so lengths leak nothing either). A presented string
 * that matched a key is remembered, so a client's key is not hashed again on every request
 * (hashing was about 7% of a single-event ingest's CPU): only an exact valid key can be
 * remembered, so there is at most one entry per key, and the faster answer for it tells nothing
 * the response does not. Any other string is hashed and compared with every key, as before.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export type Scope = 'ingest' | 'admin' | 'read';
export const SCOPES: readonly Scope[] = ['ingest', 'admin', 'read'];

export interface ApiKey {
  /** A short, non-secret label for logs and rate limits. */
  id: string;
  digest: Buffer;
  scopes: Set<Scope>;
}

const digest = (key: string) => createHash('sha256').update(key).digest();

/**
 * @example
 * parseApiKeys('k1=ingest+admin,k2=ingest');
 */
export function parseApiKeys(spec: string): ApiKey[] {
  return spec
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part, i) => {
      const eq = part.lastIndexOf('=');
      if (eq <= 0) throw new Error(`API_KEYS entry ${i + 1} must look like key=scope+scope`);
      const scopes = part
        .slice(eq + 1)
        .split('+')
        .map((s) => s.trim());
      for (const scope of scopes) {
        if (!SCOPES.includes(scope as Scope)) {
          throw new Error(`API_KEYS entry ${i + 1}: unknown scope '${scope}' (use ${SCOPES.join(', ')})`);
        }
      }
      return { id: `key${i + 1}`, digest: digest(part.slice(0, eq)), scopes: new Set(scopes as Scope[]) };
    });
}

/** Per key list, the presented strings that matched one of its keys. */
const matched = new WeakMap<readonly ApiKey[], Map<string, ApiKey>>();

/** The key matching a presented secret, comparing every key in constant time. */
export function findKey(keys: readonly ApiKey[], presented: string): ApiKey | undefined {
  const known = matched.get(keys)?.get(presented);
  if (known) return known;
  const candidate = digest(presented);
  let found: ApiKey | undefined;
  for (const key of keys) if (timingSafeEqual(key.digest, candidate)) found = key;
  if (found) {
    let remembered = matched.get(keys);
    if (!remembered) {
      remembered = new Map();
      matched.set(keys, remembered);
    }
    remembered.set(presented, found);
  }
  return found;
}
