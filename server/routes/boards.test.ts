import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, expectError } from '../../test/server/httpSupport.js';
import { startTestService, TEST_KEYS, type TestService } from '../../test/support/service.js';

describe('board routes (app.request)', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(async () => {
    await svc?.stop();
  });

  /** `key` null: no Authorization header. */
  const put = (id: string, body: unknown, key: string | null = TEST_KEYS.admin, type?: string) =>
    call(svc.app, 'PUT', `/v1/boards/${id}`, { key: key ?? undefined, body, type });
  const list = async () =>
    ((await (await call(svc.app, 'GET', '/v1/boards')).json()) as { boards: { id: string }[] }).boards;

  it('GET /v1/boards lists the default board global (sum, desc, all/day/week/month) on a fresh start', async () => {
    const res = await call(svc.app, 'GET', '/v1/boards');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      boards: [
        {
          id: 'global',
          policy: 'sum',
          order: 'desc',
          windows: ['all', 'day', 'week', 'month'],
          topK: 100,
          graceSeconds: 300,
          retentionDays: 30,
          tieBreak: 'shared',
          timeZone: 'UTC',
        },
      ],
      next: null,
    });
  });

  it('PUT creates a board with 201 and the defaults filled in, then lists it', async () => {
    const res = await put('speedrun', { policy: 'min', order: 'asc', windows: ['all', 'week'] });
    expect(res.status).toBe(201);
    const board = {
      id: 'speedrun',
      policy: 'min',
      order: 'asc',
      windows: ['all', 'week'],
      topK: 100,
      graceSeconds: 300,
      retentionDays: 30,
      tieBreak: 'shared',
      timeZone: 'UTC',
    };
    expect(await res.json()).toEqual(board);
    expect(await list()).toContainEqual(board);
  });

  it('PUT on an existing board updates it with 200 (windows, topK, grace, retention may change)', async () => {
    expect((await put('levels', { policy: 'last', topK: 10 })).status).toBe(201);
    const res = await put('levels', {
      id: 'levels',
      policy: 'last',
      windows: ['all'],
      topK: 3,
      graceSeconds: 0,
      retentionDays: 7,
      tieBreak: 'shared',
      timeZone: 'UTC',
    });
    expect(res.status).toBe(200);
    const updated = {
      id: 'levels',
      policy: 'last',
      order: 'desc',
      windows: ['all'],
      topK: 3,
      graceSeconds: 0,
      retentionDays: 7,
      tieBreak: 'shared',
      timeZone: 'UTC',
    };
    expect(await res.json()).toEqual(updated);
    expect(await list()).toContainEqual(updated);
    expect(svc.services.boards.get('levels')).toEqual(updated);
  });

  it('accepts the longest board id (64 characters) and a one-character id', async () => {
    expect((await put(`a${'_'.repeat(62)}z`, {})).status).toBe(201);
    expect((await put('9', {})).status).toBe(201);
  });

  it('lists boards sorted by id', async () => {
    const ids = (await list()).map((b) => b.id);
    expect(ids).toEqual([...ids].sort());
    expect(ids).toContain('global');
  });

  it('pages GET /v1/boards with limit and after: every board once, in id order, next null on the last page', async () => {
    for (const id of ['page-a', 'page-b', 'page-c']) expect((await put(id, {})).status).toBe(201);
    const all = await list();
    const seen: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 100; pages++) {
      const query: string = after === null ? '?limit=2' : `?limit=2&after=${after}`;
      const res = await call(svc.app, 'GET', `/v1/boards${query}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as { boards: { id: string }[]; next: string | null };
      expect(page.boards.length).toBeLessThanOrEqual(2);
      seen.push(...page.boards.map((b) => b.id));
      if (page.next === null) break;
      expect(page.next).toBe(page.boards.at(-1)?.id);
      after = page.next;
    }
    expect(seen).toEqual(all.map((b) => b.id));
    // `after` need not be a board: the page starts at the first id after it.
    const res = await call(svc.app, 'GET', '/v1/boards?limit=1&after=page-a0');
    expect(((await res.json()) as { boards: { id: string }[] }).boards.map((b) => b.id)).toEqual(['page-b']);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=1001', 'limit'],
    ['limit=two', 'limit'],
    ['after=Not-An-Id', 'after'],
  ])('answers 400 invalid-query for GET /v1/boards?%s', async (query, field) => {
    const message = await expectError(
      await call(svc.app, 'GET', `/v1/boards?${query}`),
      400,
      'invalid-query',
    );
    expect(message).toContain(field);
  });

  describe('conflicts answer 409 and leave the board as it was', () => {
    it('changing the policy', async () => {
      expect((await put('scores', { policy: 'sum' })).status).toBe(201);
      const message = await expectError(await put('scores', { policy: 'max' }), 409, 'board-conflict');
      expect(message).toContain('policy');
      expect(svc.services.boards.get('scores')?.policy).toBe('sum');
    });

    it('changing the order', async () => {
      expect((await put('ladder', { order: 'desc' })).status).toBe(201);
      const message = await expectError(await put('ladder', { order: 'asc' }), 409, 'board-conflict');
      expect(message).toContain('order');
      expect((await list()).find((b) => b.id === 'ladder')).toMatchObject({ order: 'desc' });
    });

    it('changing the default board global to max', async () => {
      await expectError(await put('global', { policy: 'max' }), 409, 'board-conflict');
    });
  });

  describe('bad board configurations answer 400 invalid-body and create nothing', () => {
    const cases: [string, string, unknown][] = [
      ['an upper-case id in the path', 'Bad', {}],
      ['an id starting with a dash', '-bad', {}],
      ['an id of 65 characters', `a${'b'.repeat(64)}`, {}],
      ['an id with a dot', 'a.b', {}],
      ['topK 0', 'k0', { topK: 0 }],
      ['topK 1001', 'k1001', { topK: 1001 }],
      ['topK as a string', 'kstr', { topK: '10' }],
      ['topK with a fraction', 'kfrac', { topK: 2.5 }],
      ['an unknown policy', 'avg', { policy: 'avg' }],
      ['an unknown order', 'up', { order: 'up' }],
      ['no windows', 'nowin', { windows: [] }],
      ['an unknown window', 'year', { windows: ['all', 'year'] }],
      ['a repeated window', 'twice', { windows: ['day', 'day'] }],
      ['windows as a string', 'wstr', { windows: 'all' }],
      ['negative grace', 'grace', { graceSeconds: -1 }],
      ['retention of 0 days', 'ret0', { retentionDays: 0 }],
      ['an unknown field', 'extra', { policy: 'sum', color: 'red' }],
      ['an id in the body that differs from the path', 'path-id', { id: 'body-id' }],
      ['a JSON array body', 'arr', [{ policy: 'sum' }]],
      ['a JSON string body', 'str', 'sum'],
    ];
    for (const [what, id, body] of cases) {
      it(what, async () => {
        const res = await put(id, typeof body === 'string' ? JSON.stringify(body) : body);
        await expectError(res, 400, 'invalid-body');
        expect((await list()).map((b) => b.id)).not.toContain(id);
      });
    }
  });

  it('names the offending field in the message', async () => {
    const message = await expectError(await put('named', { topK: 0 }), 400, 'invalid-body');
    expect(message).toContain('topK');
  });

  it('answers 413 for a body over 64 KiB and creates nothing', async () => {
    await expectError(
      await put('huge', { policy: 'sum', pad: 'x'.repeat(70 * 1024) }),
      413,
      'payload-too-large',
    );
    expect((await list()).map((b) => b.id)).not.toContain('huge');
  });

  it('answers 400 invalid-json for malformed JSON', async () => {
    await expectError(await put('broken', '{"policy": "sum",'), 400, 'invalid-json');
  });

  it('answers 415 for a body that is not JSON', async () => {
    await expectError(
      await put('formdata', 'policy=sum', TEST_KEYS.admin, 'application/x-www-form-urlencoded'),
      415,
      'unsupported-media-type',
    );
  });

  it('answers 403 when an ingest key creates a board, and creates nothing', async () => {
    const message = await expectError(await put('by-ingest', {}, TEST_KEYS.ingest), 403, 'forbidden');
    expect(message).toContain('admin');
    expect((await list()).map((b) => b.id)).not.toContain('by-ingest');
  });

  it('answers 403 when a read key creates a board', async () => {
    await expectError(await put('by-reader', {}, TEST_KEYS.read), 403, 'forbidden');
  });

  it('answers 401 without a key and for an unknown key', async () => {
    await expectError(await put('anon', {}, null), 401, 'unauthorized');
    await expectError(await put('anon', {}, 'guess'), 401, 'unauthorized');
    expect((await list()).map((b) => b.id)).not.toContain('anon');
  });

  it('answers 405 with Allow for DELETE on a board and POST on the list', async () => {
    const del = await call(svc.app, 'DELETE', '/v1/boards/global', { key: TEST_KEYS.admin });
    await expectError(del, 405, 'method-not-allowed');
    expect(del.headers.get('allow')).toContain('PUT');
    const post = await call(svc.app, 'POST', '/v1/boards', { key: TEST_KEYS.admin, body: { id: 'x' } });
    await expectError(post, 405, 'method-not-allowed');
    expect(post.headers.get('allow')).toContain('GET');
  });
});

describe('the maximum number of boards (MAX_BOARDS)', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ env: { MAX_BOARDS: '2' } });
  });
  afterAll(async () => {
    await svc?.stop();
  });
  const put = (id: string, body: unknown) =>
    call(svc.app, 'PUT', `/v1/boards/${id}`, { key: TEST_KEYS.admin, body });

  it('answers 409 board-limit for a new board past it, and still updates an existing board', async () => {
    expect((await put('second', {})).status).toBe(201);
    const message = await expectError(await put('third', {}), 409, 'board-limit');
    expect(message).toContain('MAX_BOARDS');
    expect((await put('second', { topK: 5 })).status).toBe(200);
    const res = await call(svc.app, 'GET', '/v1/boards');
    expect(((await res.json()) as { boards: { id: string }[] }).boards.map((b) => b.id)).toEqual([
      'global',
      'second',
    ]);
  });
});
