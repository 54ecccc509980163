import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getFriends } from '../../leaderboard/store/friends.js';
import { call, expectError } from '../../test/server/httpSupport.js';
import { startTestService, TEST_KEYS, type TestService } from '../../test/support/service.js';

describe('user routes: profiles and friends (app.request)', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(async () => {
    await svc?.stop();
  });

  const profile = (userId: string, body: unknown, key: string | null = TEST_KEYS.ingest, type?: string) =>
    call(svc.app, 'PUT', `/v1/users/${encodeURIComponent(userId)}/profile`, {
      key: key ?? undefined,
      body,
      type,
    });
  const friends = (userId: string, body: unknown, key: string | null = TEST_KEYS.ingest) =>
    call(svc.app, 'PUT', `/v1/users/${encodeURIComponent(userId)}/friends`, { key: key ?? undefined, body });
  const storedProfile = async (userId: string) => (await svc.services.profiles.get([userId])).get(userId);

  describe('PUT /v1/users/:userId/profile', () => {
    it('stores a profile with a name and an avatar URL (200)', async () => {
      const res = await profile('ann', { name: 'Ann', avatarUrl: 'https://example.com/a.png' });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        userId: 'ann',
        name: 'Ann',
        avatarUrl: 'https://example.com/a.png',
      });
      expect(await storedProfile('ann')).toMatchObject({
        name: 'Ann',
        avatarUrl: 'https://example.com/a.png',
      });
    });

    it('replaces a profile; a missing avatarUrl becomes null', async () => {
      expect((await profile('bob', { name: 'Bob', avatarUrl: 'https://example.com/b.png' })).status).toBe(
        200,
      );
      await svc.services.profiles.get(['bob']); // warm the cache: the PUT must invalidate it
      const res = await profile('bob', { name: 'Robert' });
      expect(res.status).toBe(200);
      expect(await storedProfile('bob')).toMatchObject({ name: 'Robert', avatarUrl: null });
    });

    it('accepts an emoji userId of 128 code points and a unicode name', async () => {
      const userId = '🎮'.repeat(128);
      const res = await profile(userId, { name: 'Zoë 🎮' });
      expect(res.status).toBe(200);
      expect(await storedProfile(userId)).toMatchObject({ name: 'Zoë 🎮' });
    });

    const bad: [string, unknown][] = [
      ['no name', { avatarUrl: 'https://example.com/a.png' }],
      ['an empty name', { name: '' }],
      ['a blank name', { name: '   ' }],
      ['a name as a number', { name: 7 }],
      ['a name of 101 characters', { name: 'n'.repeat(101) }],
      ['a name with a control character', { name: 'Ann\u0007' }],
      ['an avatarUrl that is not a URL', { name: 'Ann', avatarUrl: 'not a url' }],
      ['a javascript: avatarUrl', { name: 'Ann', avatarUrl: 'javascript:alert(1)' }],
      ['an unknown field', { name: 'Ann', email: 'ann@example.com' }],
      ['a JSON array', [{ name: 'Ann' }]],
    ];
    for (const [what, body] of bad) {
      it(`answers 400 invalid-body for ${what} and keeps the stored profile`, async () => {
        await expectError(await profile('ann', body), 400, 'invalid-body');
        expect(await storedProfile('ann')).toMatchObject({ name: 'Ann' });
      });
    }

    it('answers 400 invalid-user-id for a path userId of 129 characters or with a control character', async () => {
      await expectError(await profile('u'.repeat(129), { name: 'X' }), 400, 'invalid-user-id');
      await expectError(await profile('a\u0000b', { name: 'X' }), 400, 'invalid-user-id');
    });

    it('answers 413 for a profile body over 64 KiB and keeps the stored profile', async () => {
      await expectError(
        await profile('ann', { name: 'Ann', pad: 'x'.repeat(70 * 1024) }),
        413,
        'payload-too-large',
      );
      expect(await storedProfile('ann')).toMatchObject({ name: 'Ann' });
    });

    it('answers 400 invalid-json for malformed JSON and 415 for a non-JSON body', async () => {
      await expectError(await profile('ann', '{"name": '), 400, 'invalid-json');
      await expectError(
        await profile('ann', 'name=Ann', TEST_KEYS.ingest, 'text/plain'),
        415,
        'unsupported-media-type',
      );
    });

    it('answers 401 without a key and 403 for a read-only key', async () => {
      await expectError(await profile('mallory', { name: 'M' }, null), 401, 'unauthorized');
      await expectError(await profile('mallory', { name: 'M' }, TEST_KEYS.read), 403, 'forbidden');
      expect(await storedProfile('mallory')).toBeUndefined();
    });

    it('answers 405 for GET on a profile', async () => {
      await expectError(await call(svc.app, 'GET', '/v1/users/ann/profile'), 405, 'method-not-allowed');
    });
  });

  describe('PUT /v1/users/:userId/friends', () => {
    it('stores the friend list (200), leaving out the user themself', async () => {
      const res = await friends('ann', { friends: ['bob', 'cat', 'ann'] });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { userId: string; friends: string[] };
      expect(body.userId).toBe('ann');
      expect([...body.friends].sort()).toEqual(['bob', 'cat']);
      expect([...(await getFriends(svc.services.db, 'ann'))].sort()).toEqual(['bob', 'cat']);
    });

    it('replaces the list; an empty list clears it', async () => {
      expect((await friends('dan', { friends: ['x', 'y'] })).status).toBe(200);
      expect((await friends('dan', { friends: ['z'] })).status).toBe(200);
      expect(await getFriends(svc.services.db, 'dan')).toEqual(['z']);
      expect((await friends('dan', { friends: [] })).status).toBe(200);
      expect(await getFriends(svc.services.db, 'dan')).toEqual([]);
    });

    const bad: [string, unknown][] = [
      ['friends not an array', { friends: 'bob' }],
      ['a friend id as a number', { friends: ['bob', 42] }],
      ['a friend id of 129 characters', { friends: ['u'.repeat(129)] }],
      ['a friend id with a control character', { friends: ['b\u0007ob'] }],
      ['an empty friend id', { friends: [''] }],
      ['a friend id with a lone surrogate', '{"friends":["\\udfff"]}'],
      ['no friends field', {}],
      ['an unknown field', { friends: [], blocked: [] }],
      ['10,001 friends', { friends: Array.from({ length: 10_001 }, (_, i) => `f${i}`) }],
    ];
    for (const [what, body] of bad) {
      it(`answers 400 invalid-body for ${what} and keeps the stored list`, async () => {
        await expectError(await friends('ann', body), 400, 'invalid-body');
        expect([...(await getFriends(svc.services.db, 'ann'))].sort()).toEqual(['bob', 'cat']);
      });
    }

    it('answers 413 for a friends body over 8 MiB and keeps the stored list', async () => {
      const body = { friends: Array.from({ length: 9000 }, (_, i) => `${'f'.repeat(1000)}${i}`) };
      await expectError(await friends('ann', body), 413, 'payload-too-large');
      expect([...(await getFriends(svc.services.db, 'ann'))].sort()).toEqual(['bob', 'cat']);
    });

    it('names the index of a bad friend id', async () => {
      const message = await expectError(
        await friends('ann', { friends: ['ok', 'fine', 3] }),
        400,
        'invalid-body',
      );
      expect(message).toContain('friends.2');
    });

    it('answers 403 for a read-only key and 401 for an unknown key', async () => {
      await expectError(await friends('ann', { friends: [] }, TEST_KEYS.read), 403, 'forbidden');
      await expectError(await friends('ann', { friends: [] }, 'who-knows'), 401, 'unauthorized');
      expect((await getFriends(svc.services.db, 'ann')).length).toBe(2);
    });
  });
});
