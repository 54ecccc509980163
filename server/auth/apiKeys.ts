/**
 * API keys and their scopes: `API_KEYS="key1=ingest+admin,key2=ingest"`. Keys are compared in
 * constant time (over their SHA-256 digests, so lengths leak nothing either).
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

/** The key matching a presented secret, comparing every key in constant time. */
export function findKey(keys: readonly ApiKey[], presented: string): ApiKey | undefined {
  const candidate = digest(presented);
  let found: ApiKey | undefined;
  for (const key of keys) if (timingSafeEqual(key.digest, candidate)) found = key;
  return found;
}
