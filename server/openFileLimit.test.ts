import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../test/support/service.js';
import { listenEdge } from './edgeServer.js';
import { connectionCapacity, openFileLimit, REFUSAL_SLACK, resolveMaxConnections } from './openFileLimit.js';

describe('the open-file limit', () => {
  it('is the limit the shell reports for this process (ulimit -n)', () => {
    const shell = Number(execFileSync('/bin/sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
    expect(openFileLimit()).toBe(shell);
  });

  it('leaves a reserve of at least 256 files or an eighth, and the refusal slack, for everything else', () => {
    expect(connectionCapacity(1024)).toBe(1024 - 256 - REFUSAL_SLACK);
    expect(connectionCapacity(20_000)).toBe(20_000 - 2500 - REFUSAL_SLACK);
    expect(connectionCapacity(100)).toBe(1);
    for (const limit of [256, 1024, 4096, 20_000, 1_048_576]) {
      expect(connectionCapacity(limit) + REFUSAL_SLACK).toBeLessThan(limit);
    }
  });

  it('takes MAX_CONNECTIONS up to that capacity, and refuses one above it, naming both numbers', () => {
    expect(resolveMaxConnections(undefined, 20_000)).toBe(17_436);
    expect(resolveMaxConnections(500, 1024)).toBe(500);
    expect(() => resolveMaxConnections(20_000, 20_000)).toThrow(
      /MAX_CONNECTIONS=20000 does not fit under the open-file limit \(ulimit -n = 20000\): at most 17436/,
    );
  });
});

describe('an edge configured above the limit', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ env: { MAX_CONNECTIONS: String(openFileLimit()) } });
  });
  afterAll(async () => {
    await svc?.stop();
  });

  it('does not start listening', async () => {
    await expect(listenEdge(svc.app, svc.services, { port: 0, hostname: '127.0.0.1' })).rejects.toThrow(
      /does not fit under the open-file limit/,
    );
  });
});
