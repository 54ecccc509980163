/**
 * The key of a start without API_KEYS: generated once with every scope, kept in
 * `<DATA_DIR>/api-key` (mode 0600) so restarts keep it, and printed at start.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function generatedApiKey(dataDir: string): { key: string; created: boolean } {
  const file = join(dataDir, 'api-key');
  if (existsSync(file)) return { key: readFileSync(file, 'utf8').trim(), created: false };
  mkdirSync(dataDir, { recursive: true });
  const key = `lb_${randomBytes(24).toString('base64url')}`;
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return { key, created: true };
}
