import { describe, expect, it } from 'vitest';
import type { SnapshotRead } from '../leaderboard/index.js';
import { TopBodyCache } from './topBodyCache.js';

const snapshot = (version: number): SnapshotRead => ({ version, updatedAt: 1000 + version, entries: [] });

describe('TopBodyCache', () => {
  function counting(value: (n: number) => unknown = (n) => ({ built: n })) {
    let builds = 0;
    return {
      build: () => {
        builds++;
        return Promise.resolve(value(builds));
      },
      get builds() {
        return builds;
      },
    };
  }

  it('reuses the serialized body for the same snapshot version, as text and as UTF-8 bytes', async () => {
    const tops = new TopBodyCache({ now: () => 0 });
    const source = counting(() => ({ name: 'Zoë 🏆', n: 1 }));
    const first = await tops.get('b all:0 10', snapshot(3), source.build);
    const again = await tops.get('b all:0 10', snapshot(3), source.build);
    expect(source.builds).toBe(1);
    expect(again).toBe(first);
    expect(first.version).toBe(3);
    expect(first.json).toBe('{"name":"Zoë 🏆","n":1}');
    expect(Buffer.from(first.bytes).toString('utf8')).toBe(first.json);
  });

  it('builds again for a newer snapshot, another key, after the TTL, and after a profile change', async () => {
    let now = 0;
    const tops = new TopBodyCache({ ttlMs: 1000, now: () => now });
    const source = counting();
    await tops.get('b all:0 10', snapshot(3), source.build);
    expect((await tops.get('b all:0 10', snapshot(4), source.build)).json).toBe('{"built":2}');
    expect((await tops.get('b all:0 5', snapshot(4), source.build)).json).toBe('{"built":3}');
    now = 999;
    expect((await tops.get('b all:0 10', snapshot(4), source.build)).json).toBe('{"built":2}');
    now = 1000;
    expect((await tops.get('b all:0 10', snapshot(4), source.build)).json).toBe('{"built":4}');
    tops.profilesChanged();
    expect((await tops.get('b all:0 10', snapshot(4), source.build)).json).toBe('{"built":5}');
    expect((await tops.get('b all:0 10', undefined, source.build)).version).toBe(0);
    expect(source.builds).toBe(6);
  });

  it('shares one build between concurrent requests and does not keep a failed one', async () => {
    const tops = new TopBodyCache({ now: () => 0 });
    let release!: () => void;
    let builds = 0;
    const build = () => {
      builds++;
      return new Promise((resolve) => {
        release = () => resolve({ ok: builds });
      });
    };
    const a = tops.get('k', snapshot(1), build);
    const b = tops.get('k', snapshot(1), build);
    release();
    expect(await a).toBe(await b);
    expect(builds).toBe(1);

    await expect(tops.get('k', snapshot(2), () => Promise.reject(new Error('store down')))).rejects.toThrow(
      'store down',
    );
    expect((await tops.get('k', snapshot(2), () => Promise.resolve({ ok: 'again' }))).json).toBe(
      '{"ok":"again"}',
    );
  });

  it('keeps at most maxEntries bodies, dropping the oldest', async () => {
    const tops = new TopBodyCache({ maxEntries: 2, now: () => 0 });
    const source = counting();
    await tops.get('a', snapshot(1), source.build);
    await tops.get('b', snapshot(1), source.build);
    await tops.get('c', snapshot(1), source.build);
    await tops.get('b', snapshot(1), source.build);
    expect(source.builds).toBe(3);
    await tops.get('a', snapshot(1), source.build);
    expect(source.builds).toBe(4);
  });
});
