import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { staleReason } from '../../scripts/ensure-deps.mjs';

const LOCKED = {
  '': { name: 'app', version: '1.0.0' },
  'node_modules/a': { version: '1.0.0', resolved: 'https://r/a-1.0.0.tgz', integrity: 'sha512-a' },
  'node_modules/b': { version: '2.0.0', resolved: 'https://r/b-2.0.0.tgz', integrity: 'sha512-b', dev: true },
  'node_modules/other-os': { version: '1.0.0', optional: true },
  'node_modules/ws': { resolved: 'packages/ws', link: true },
};

describe('ensure-deps: whether node_modules holds what package-lock.json locks', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ensure-deps-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const lock = (packages: Record<string, object>) =>
    writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ lockfileVersion: 3, packages }));
  /** Writes npm's record of the installed tree and a folder per package in it. */
  const install = (packages: Record<string, object>) => {
    mkdirSync(join(dir, 'node_modules'), { recursive: true });
    writeFileSync(join(dir, 'node_modules', '.package-lock.json'), JSON.stringify({ packages }));
    for (const path of Object.keys(packages)) mkdirSync(join(dir, path), { recursive: true });
  };
  const { '': _root, 'node_modules/other-os': _optional, ...installedAsLocked } = LOCKED;

  it('is stale on a fresh clone (no node_modules) and when npm left no record', () => {
    lock(LOCKED);
    expect(staleReason(dir)).toBe('node_modules is missing');
    mkdirSync(join(dir, 'node_modules'));
    expect(staleReason(dir)).toBe('node_modules has no record of what npm installed');
  });

  it('is fresh when every locked package is installed as locked (optional ones of other platforms may be absent)', () => {
    lock(LOCKED);
    install(installedAsLocked);
    expect(staleReason(dir)).toBeUndefined();
  });

  it('is stale when the lockfile moved on: another version, a new package, or one removed', () => {
    install(installedAsLocked);
    lock({ ...LOCKED, 'node_modules/a': { ...LOCKED['node_modules/a'], version: '1.1.0' } });
    expect(staleReason(dir)).toBe('node_modules/a: version 1.0.0 installed, 1.1.0 locked');
    lock({ ...LOCKED, 'node_modules/c': { version: '3.0.0' } });
    expect(staleReason(dir)).toBe('node_modules/c is not installed');
    const { 'node_modules/b': _b, ...withoutB } = LOCKED;
    lock(withoutB);
    expect(staleReason(dir)).toBe('node_modules/b is installed but not in package-lock.json');
  });

  it('is stale when a package folder was deleted behind npm’s back', () => {
    lock(LOCKED);
    install(installedAsLocked);
    rmSync(join(dir, 'node_modules', 'a'), { recursive: true });
    expect(staleReason(dir)).toBe('node_modules/a is missing from node_modules');
  });

  it('finds this checkout’s node_modules as package-lock.json locks it (npm ci ran)', () => {
    expect(staleReason(join(import.meta.dirname, '..', '..'))).toBeUndefined();
  });
});
