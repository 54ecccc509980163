/**
 * `leaderboard verify`: silent and exit 0 on a consistent service; names the top, the position and
 * both entries, and exits 1, when a snapshot differs from a fresh merge of the partitions.
 */
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../consumer-groups/test/support.js';
import { snapshotKey } from '../../operators/stateKeys.js';
import { verifyCommand } from '../../server/commands/verify.js';
import { drained } from '../support/leaderboardState.js';
import { startTestService, type TestService } from '../support/service.js';

describe('leaderboard verify', () => {
  let service: TestService;
  beforeEach(async () => {
    service = await startTestService({ workers: true });
  });
  afterEach(async () => {
    await service.stop();
  });

  const verify = async (...args: string[]) => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (chunk) => {
      text += String(chunk);
    });
    const code = await verifyCommand(args, service.config, out);
    return { code, text };
  };

  it('reports every top equal to a fresh merge, then the one a wrong snapshot breaks', async () => {
    const { services, config } = service;
    await services.writer.append(
      Array.from({ length: 50 }, (_, i) => ({ board: 'global', userId: `u${i}`, value: i, ts: Date.now() })),
    );
    const name = config.KEY_PREFIX;
    await waitUntil(() => drained(service.redis, name, 'workers', config.PARTITIONS), 20_000, 'drained');
    await waitUntil(
      async () => (await services.queries.snapshot('global', 'all:0'))?.entries[0]?.userId === 'u49',
    );

    const clean = await verify('--board', 'global', '--settle-ms', '100');
    expect(clean.text).toMatch(/^4 tops compared, 0 differ\n$/);
    expect(clean.code).toBe(0);

    // A snapshot that lost its leader, as a stale one would show.
    const key = snapshotKey(name, 'global', 'all:0');
    const entries = JSON.parse((await service.redis.hget(key, 'entries'))!) as unknown[];
    await service.redis.hset(key, 'entries', JSON.stringify(entries.slice(1)));
    const broken = await verify('--window', 'all', '--settle-ms', '0');
    expect(broken.text).toContain(
      'DIFFERS global all: position 1: the snapshot has #2 u48 48, a fresh merge #1 u49 49',
    );
    expect(broken.text).toContain('1 top compared, 1 differs');
    expect(broken.code).toBe(1);
  });
});
