import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { HttpError } from './httpError.js';
import { readDeadline } from './readDeadline.js';

/** An app with the deadline in front of two reads, answering errors as the service's app does. */
function app(deadlineMs: number) {
  const hono = new Hono();
  hono.onError((error, c) =>
    error instanceof HttpError
      ? c.json(error.toJSON(), error.status as 503, error.headers)
      : c.json({ error: { code: 'internal', message: String(error) } }, 500),
  );
  hono.get('/stuck', readDeadline(deadlineMs), () => new Promise<Response>(() => {}));
  hono.get('/answers', readDeadline(deadlineMs), (c) => c.json({ ok: true }));
  hono.get('/fails', readDeadline(deadlineMs), () => {
    throw new HttpError(404, 'unknown-user', 'no such user');
  });
  return hono;
}

describe('readDeadline', () => {
  it('answers 503 unavailable with Retry-After when the read does not answer in time', async () => {
    const res = await app(30).request('/stuck');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toEqual({
      error: {
        code: 'unavailable',
        message: 'Redis (or the shard this read needs) is unavailable; retry shortly',
      },
    });
  });

  it('leaves a read that answers in time, or fails on its own, as it is', async () => {
    const hono = app(5000);
    const ok = await hono.request('/answers');
    expect({ status: ok.status, body: await ok.json() }).toEqual({ status: 200, body: { ok: true } });
    const failed = await hono.request('/fails');
    expect(failed.status).toBe(404);
    expect(((await failed.json()) as { error: { code: string } }).error.code).toBe('unknown-user');
  });
});
