import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  enqueued,
  expectError,
  expectNothingEnqueued,
  streamLengths,
} from '../../test/server/httpSupport.js';
import { startTestService, TEST_KEYS, type TestService } from '../../test/support/service.js';

const HOUR = 3_600_000;

describe('ingest routes (app.request, no workers)', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService();
    const res = await call(svc.app, 'PUT', '/v1/boards/points', {
      key: TEST_KEYS.admin,
      body: { policy: 'sum', order: 'desc', windows: ['all', 'day'], topK: 5 },
    });
    expect(res.status).toBe(201);
  });
  afterAll(async () => {
    await svc?.stop();
  });

  const single = (body: unknown, options: { key?: string; type?: string | null; board?: string } = {}) =>
    call(svc.app, 'POST', `/v1/boards/${options.board ?? 'points'}/events`, {
      key: 'key' in options ? options.key : TEST_KEYS.ingest,
      body,
      type: options.type,
    });
  const batch = (body: unknown, options: { key?: string; type?: string | null } = {}) =>
    call(svc.app, 'POST', '/v1/events', {
      key: 'key' in options ? options.key : TEST_KEYS.ingest,
      body,
      type: options.type,
    });

  /** Sends a request that must be rejected with `status`/`code`, and proves nothing was enqueued. */
  const rejected = async (send: () => Promise<Response>, status: number, code: string) => {
    const res = await expectNothingEnqueued(svc.services, send);
    return expectError(res, status, code);
  };

  describe('POST /v1/boards/:board/events', () => {
    it('answers 202 {accepted: 1} only after the event is in its partition stream', async () => {
      const before = await streamLengths(svc.services);
      const res = await single({ userId: 'ann', value: 5 });
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({ accepted: 1 });
      const after = await streamLengths(svc.services);
      const p = svc.services.writer.partitionOf('ann');
      expect(after[p]).toBe(before[p]! + 1);
      expect(after.reduce((a, b) => a + b, 0)).toBe(before.reduce((a, b) => a + b, 0) + 1);
    });

    it('accepts negative values on a sum board, an explicit ts, and an eventId', async () => {
      const res = await single({ userId: 'bob', value: -3.5, ts: Date.now() - HOUR, eventId: 'e-1' });
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({ accepted: 1 });
    });

    it('accepts a repeated eventId (202) instead of failing the retry', async () => {
      const first = await single({ userId: 'cat', value: 1, eventId: 'retry-me' });
      const again = await single({ userId: 'cat', value: 1, eventId: 'retry-me' });
      expect([first.status, again.status]).toEqual([202, 202]);
    });

    it('accepts a ts up to 24 hours ahead (clock skew)', async () => {
      const res = await single({ userId: 'dan', value: 1, ts: Date.now() + 23 * HOUR });
      expect(res.status).toBe(202);
    });

    it('accepts a userId of 128 emoji (128 code points, 256 UTF-16 units)', async () => {
      const res = await single({ userId: '🏆'.repeat(128), value: 1 });
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({ accepted: 1 });
    });

    it('accepts a userId of exactly 128 ASCII characters', async () => {
      expect((await single({ userId: 'u'.repeat(128), value: 1 })).status).toBe(202);
    });

    it('accepts a JSON content type with parameters (charset)', async () => {
      const res = await single({ userId: 'eve', value: 2 }, { type: 'application/json; charset=utf-8' });
      expect(res.status).toBe(202);
    });

    describe('rejects bad input with 400 and enqueues nothing', () => {
      it('value as a string', async () => {
        const message = await rejected(() => single({ userId: 'ann', value: '5' }), 400, 'invalid-body');
        expect(message).toContain('value');
      });
      it('value missing', async () => {
        const message = await rejected(() => single({ userId: 'ann' }), 400, 'invalid-body');
        expect(message).toContain('value');
      });
      it('value null', async () => {
        await rejected(() => single({ userId: 'ann', value: null }), 400, 'invalid-body');
      });
      it('value that overflows to Infinity (1e999)', async () => {
        const message = await rejected(() => single('{"userId":"ann","value":1e999}'), 400, 'invalid-body');
        expect(message).toContain('value');
      });
      it('userId as a number', async () => {
        const message = await rejected(() => single({ userId: 42, value: 1 }), 400, 'invalid-body');
        expect(message).toContain('userId');
      });
      it('userId missing', async () => {
        await rejected(() => single({ value: 1 }), 400, 'invalid-body');
      });
      it('userId empty', async () => {
        await rejected(() => single({ userId: '', value: 1 }), 400, 'invalid-body');
      });
      it('userId of 129 characters', async () => {
        const message = await rejected(
          () => single({ userId: 'u'.repeat(129), value: 1 }),
          400,
          'invalid-body',
        );
        expect(message).toContain('128');
      });
      it('userId of 129 emoji', async () => {
        await rejected(() => single({ userId: '🏆'.repeat(129), value: 1 }), 400, 'invalid-body');
      });
      it('userId with a BEL control character (\\u0007)', async () => {
        const message = await rejected(() => single({ userId: 'an\u0007n', value: 1 }), 400, 'invalid-body');
        expect(message).toContain('control');
      });
      it('userId with a NUL character (\\u0000)', async () => {
        await rejected(() => single({ userId: 'ann\u0000', value: 1 }), 400, 'invalid-body');
      });
      it('userId with a C1 control character (\\u0085)', async () => {
        await rejected(() => single({ userId: 'ann\u0085', value: 1 }), 400, 'invalid-body');
      });
      it('userId with a lone surrogate (not a character; Redis would store U+FFFD)', async () => {
        const message = await rejected(() => single('{"userId":"x\\ud800","value":1}'), 400, 'invalid-body');
        expect(message).toContain('surrogate');
        await rejected(() => single('{"userId":"x\\udc00","value":1}'), 400, 'invalid-body');
      });
      it('eventId with a lone surrogate', async () => {
        await rejected(() => single('{"userId":"x","value":1,"eventId":"e\\ud83c"}'), 400, 'invalid-body');
      });
      it('ts negative (-1)', async () => {
        await rejected(() => single({ userId: 'ann', value: 1, ts: -1 }), 400, 'invalid-body');
      });
      it('ts more than 24 hours in the future', async () => {
        const message = await rejected(
          () => single({ userId: 'ann', value: 1, ts: Date.now() + 25 * HOUR }),
          400,
          'invalid-body',
        );
        expect(message).toContain('24 hours');
      });
      it('ts with a fraction of a millisecond', async () => {
        await rejected(() => single({ userId: 'ann', value: 1, ts: 1.5 }), 400, 'invalid-body');
      });
      it('ts as an ISO string', async () => {
        await rejected(
          () => single({ userId: 'ann', value: 1, ts: new Date().toISOString() }),
          400,
          'invalid-body',
        );
      });
      it('eventId of 129 characters', async () => {
        await rejected(
          () => single({ userId: 'ann', value: 1, eventId: 'e'.repeat(129) }),
          400,
          'invalid-body',
        );
      });
      it('eventId as a number', async () => {
        await rejected(() => single({ userId: 'ann', value: 1, eventId: 7 }), 400, 'invalid-body');
      });
      it('an unknown field', async () => {
        const message = await rejected(
          () => single({ userId: 'ann', value: 1, score: 1 }),
          400,
          'invalid-body',
        );
        expect(message).toContain('score');
      });
      it('a board field in the single-event body (the board is in the path)', async () => {
        await rejected(() => single({ board: 'points', userId: 'ann', value: 1 }), 400, 'invalid-body');
      });
      it('a JSON array instead of an object', async () => {
        await rejected(() => single([{ userId: 'ann', value: 1 }]), 400, 'invalid-body');
      });
      it('a JSON null body', async () => {
        await rejected(() => single('null'), 400, 'invalid-body');
      });
      it('malformed JSON', async () => {
        await rejected(() => single('{"userId": "ann", "value": 1'), 400, 'invalid-json');
      });
      it('an empty body with a JSON content type', async () => {
        await rejected(() => single(''), 400, 'invalid-json');
      });
    });

    it('rejects a non-JSON content type with 415', async () => {
      await rejected(
        () => single('userId=ann&value=1', { type: 'application/x-www-form-urlencoded' }),
        415,
        'unsupported-media-type',
      );
    });

    it('rejects text/plain carrying valid JSON with 415', async () => {
      await rejected(
        () => single('{"userId":"ann","value":1}', { type: 'text/plain' }),
        415,
        'unsupported-media-type',
      );
    });

    it('rejects a body without a content type with 415', async () => {
      await rejected(
        () => single('{"userId":"ann","value":1}', { type: null }),
        415,
        'unsupported-media-type',
      );
    });

    it('rejects a body over 64 KiB with 413', async () => {
      const body = JSON.stringify({ userId: 'ann', value: 1, pad: 'x'.repeat(70 * 1024) });
      await rejected(() => single(body), 413, 'payload-too-large');
    });

    it('rejects a body over 64 KiB with 413 even when it declares no Content-Length', async () => {
      const big = 'x'.repeat(70 * 1024);
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(`{"userId":"ann","value":1,"pad":"${big}"}`));
          controller.close();
        },
      });
      await rejected(
        async () =>
          svc.app.request('/v1/boards/points/events', {
            method: 'POST',
            headers: { Authorization: `Bearer ${TEST_KEYS.ingest}`, 'Content-Type': 'application/json' },
            body: stream,
            duplex: 'half',
          } as RequestInit),
        413,
        'payload-too-large',
      );
    });

    it('answers 404 for an unknown board', async () => {
      const message = await rejected(
        () => single({ userId: 'ann', value: 1 }, { board: 'no-such-board' }),
        404,
        'unknown-board',
      );
      expect(message).toContain('no-such-board');
    });

    it('answers 401 without a key', async () => {
      await rejected(() => single({ userId: 'ann', value: 1 }, { key: undefined }), 401, 'unauthorized');
    });

    it('answers 401 for an unknown key', async () => {
      await rejected(() => single({ userId: 'ann', value: 1 }, { key: 'not-a-key' }), 401, 'unauthorized');
    });

    it('answers 403 for a read-only key posting an event', async () => {
      const message = await rejected(
        () => single({ userId: 'ann', value: 1 }, { key: TEST_KEYS.read }),
        403,
        'forbidden',
      );
      expect(message).toContain('ingest');
    });

    it('checks the key before the body: no key and a bad body is 401', async () => {
      await rejected(() => single('not json', { key: undefined }), 401, 'unauthorized');
    });
  });

  describe('POST /v1/events', () => {
    it('answers 202 {accepted: N} with every event in the streams, over several boards', async () => {
      const events = Array.from({ length: 50 }, (_, i) => ({
        board: i % 2 === 0 ? 'points' : 'global',
        userId: `user-${i}`,
        value: i,
        ...(i % 3 === 0 ? { ts: Date.now() - i * 1000 } : {}),
        ...(i % 5 === 0 ? { eventId: `batch-${i}` } : {}),
      }));
      const before = await enqueued(svc.services);
      const res = await batch({ events });
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({ accepted: 50 });
      expect(await enqueued(svc.services)).toBe(before + 50);
    });

    it('accepts exactly 10,000 events', async () => {
      const events = Array.from({ length: 10_000 }, (_, i) => ({
        board: 'points',
        userId: `m${i % 97}`,
        value: 1,
      }));
      const before = await enqueued(svc.services);
      const res = await batch({ events });
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({ accepted: 10_000 });
      expect(await enqueued(svc.services)).toBe(before + 10_000);
    });

    it('rejects 10,001 events with 400 and enqueues none of them', async () => {
      const events = Array.from({ length: 10_001 }, (_, i) => ({
        board: 'points',
        userId: `m${i}`,
        value: 1,
      }));
      const message = await rejected(() => batch({ events }), 400, 'invalid-body');
      expect(message).toContain('10000');
    });

    it('rejects an empty batch', async () => {
      await rejected(() => batch({ events: [] }), 400, 'invalid-body');
    });

    it('rejects a batch whose events is not an array', async () => {
      await rejected(
        () => batch({ events: { board: 'points', userId: 'a', value: 1 } }),
        400,
        'invalid-body',
      );
    });

    it('rejects a body without events', async () => {
      const message = await rejected(() => batch({}), 400, 'invalid-body');
      expect(message).toContain('events');
    });

    it('rejects an unknown top-level field', async () => {
      await rejected(
        () => batch({ events: [{ board: 'points', userId: 'a', value: 1 }], dryRun: true }),
        400,
        'invalid-body',
      );
    });

    it('rejects the whole batch when the event at index 3 is bad, naming index 3', async () => {
      const events = [
        { board: 'points', userId: 'a', value: 1 },
        { board: 'points', userId: 'b', value: 2 },
        { board: 'global', userId: 'c', value: 3 },
        { board: 'points', userId: 'd', value: 'four' },
        { board: 'points', userId: 'e', value: 5 },
      ];
      const message = await rejected(() => batch({ events }), 400, 'invalid-event');
      expect(message).toMatch(/\bevent 3\b/);
      expect(message).toContain('events[3].value');
      expect(message).not.toMatch(/\bevent [0124]\b/);
    });

    it('names the index of an event with a userId as a number', async () => {
      const events = [
        { board: 'points', userId: 'a', value: 1 },
        { board: 'points', userId: 2, value: 1 },
      ];
      const message = await rejected(() => batch({ events }), 400, 'invalid-event');
      expect(message).toContain('events[1].userId');
    });

    it('names the index of an event on an unknown board, and enqueues nothing', async () => {
      const events = [
        { board: 'points', userId: 'a', value: 1 },
        { board: 'global', userId: 'b', value: 1 },
        { board: 'nope', userId: 'c', value: 1 },
      ];
      const message = await rejected(() => batch({ events }), 400, 'invalid-event');
      expect(message).toMatch(/\bevent 2\b/);
      expect(message).toContain('nope');
    });

    it('names the index of an event with an invalid board id', async () => {
      const events = [
        { board: 'points', userId: 'a', value: 1 },
        { board: 'Points!', userId: 'b', value: 1 },
      ];
      await rejected(() => batch({ events }), 400, 'invalid-event');
    });

    it('names the index of an event with a control character in its userId', async () => {
      const events = [
        { board: 'points', userId: 'a', value: 1 },
        { board: 'points', userId: 'b', value: 1 },
        { board: 'points', userId: 'tab\there', value: 1 },
      ];
      const message = await rejected(() => batch({ events }), 400, 'invalid-event');
      expect(message).toContain('events[2].userId');
    });

    it('names the index of an event more than 24 hours in the future', async () => {
      const events = [
        { board: 'points', userId: 'a', value: 1 },
        { board: 'points', userId: 'b', value: 1, ts: Date.now() + 48 * HOUR },
      ];
      const message = await rejected(() => batch({ events }), 400, 'invalid-event');
      expect(message).toContain('events[1].ts');
    });

    it('names the index of an event with an unknown field', async () => {
      const events = [{ board: 'points', userId: 'a', value: 1, extra: true }];
      const message = await rejected(() => batch({ events }), 400, 'invalid-event');
      expect(message).toContain('extra');
    });

    it('names the index of an event with a lone surrogate in its userId', async () => {
      const body =
        '{"events":[{"board":"points","userId":"a","value":1},{"board":"points","userId":"\\ud800","value":1}]}';
      const message = await rejected(() => batch(body), 400, 'invalid-event');
      expect(message).toContain('events[1].userId');
    });

    it('rejects an event that is not an object', async () => {
      await rejected(
        () => batch({ events: [{ board: 'points', userId: 'a', value: 1 }, 'x'] }),
        400,
        'invalid-event',
      );
    });

    it('rejects malformed JSON with 400', async () => {
      await rejected(() => batch('{"events": [}'), 400, 'invalid-json');
    });

    it('rejects a non-JSON content type with 415', async () => {
      await rejected(() => batch('{"events": []}', { type: 'text/csv' }), 415, 'unsupported-media-type');
    });

    it('rejects a body over 8 MiB with 413', async () => {
      const events = Array.from({ length: 9000 }, (_, i) => ({
        board: 'points',
        userId: `u${i}`,
        value: 1,
        eventId: 'e'.repeat(120) + String(i).padStart(8, '0'),
      }));
      const body = JSON.stringify({ events, pad: 'x'.repeat(8 * 1024 * 1024) });
      await rejected(() => batch(body), 413, 'payload-too-large');
    });

    it('answers 401 without a key and 403 for a read-only key', async () => {
      const body = { events: [{ board: 'points', userId: 'a', value: 1 }] };
      await rejected(() => batch(body, { key: undefined }), 401, 'unauthorized');
      await rejected(() => batch(body, { key: TEST_KEYS.read }), 403, 'forbidden');
    });
  });

  it('answers 405 for GET on an ingest route', async () => {
    const res = await call(svc.app, 'GET', '/v1/events', { key: TEST_KEYS.ingest });
    await expectError(res, 405, 'method-not-allowed');
    expect(res.headers.get('allow')).toContain('POST');
  });
});
