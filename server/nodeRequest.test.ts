import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueued, expectNothingEnqueued, streamLengths } from '../test/server/httpSupport.js';
import { startTestService, TEST_KEYS, type TestService } from '../test/support/service.js';

interface RawAnswer {
  status: number;
  body: string;
}

/**
 * One request over a real socket, its body written in `chunks` (chunked transfer encoding unless
 * the headers declare a Content-Length). Resolves with the answer even when the server answers
 * before the body is written to its end.
 */
function rawRequest(
  base: string,
  path: string,
  headers: Record<string, string>,
  chunks: (string | Buffer)[],
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(`${base}${path}`, { method: 'POST', headers, agent: false }, (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (piece: string) => {
        body += piece;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    // The server may answer (and stop reading) before the whole body is sent.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    const write = (i: number) => {
      if (i >= chunks.length) {
        req.end();
        return;
      }
      req.write(chunks[i]!, () => setImmediate(() => write(i + 1)));
    };
    req.flushHeaders();
    write(0);
  });
}

describe('request bodies over a real socket (@hono/node-server)', () => {
  let svc: TestService;
  let base: string;
  beforeAll(async () => {
    svc = await startTestService();
    base = await svc.listen();
  });
  afterAll(async () => {
    await svc?.stop();
  });

  const ingestHeaders = {
    authorization: `Bearer ${TEST_KEYS.ingest}`,
    'content-type': 'application/json',
  };

  it('reads a chunked body without Content-Length, sent in several pieces', async () => {
    const before = await enqueued(svc.services);
    const res = await rawRequest(base, '/v1/boards/global/events', ingestHeaders, [
      '{"userId":',
      '"chunky",',
      '"value":3}',
    ]);
    expect(res).toEqual({ status: 202, body: '{"accepted":1}' });
    expect(await enqueued(svc.services)).toBe(before + 1);
  });

  it('answers 413 to a chunked single event past 64 KiB and enqueues nothing', async () => {
    const pad = 'x'.repeat(8 * 1024);
    const chunks = ['{"userId":"ann","value":1,"pad":"', ...Array.from({ length: 9 }, () => pad), '"}'];
    const res = await expectNothingEnqueued(svc.services, async () => {
      const answer = await rawRequest(base, '/v1/boards/global/events', ingestHeaders, chunks);
      return new Response(answer.body, { status: answer.status });
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({
      error: { code: 'payload-too-large', message: 'the body is larger than 64 KiB' },
    });
  });

  it('answers 413 to a chunked batch past 8 MiB and enqueues none of its events', async () => {
    const event = JSON.stringify({ board: 'global', userId: 'bulk', value: 1, eventId: 'e'.repeat(100) });
    const piece = `${Array.from({ length: 1000 }, () => event).join(',')},`;
    const chunks = ['{"events":[', ...Array.from({ length: 70 }, () => piece), `${event}]}`];
    expect(chunks.reduce((n, c) => n + c.length, 0)).toBeGreaterThan(8 * 1024 * 1024);
    const before = await streamLengths(svc.services);
    const res = await rawRequest(base, '/v1/events', ingestHeaders, chunks);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error.code).toBe('payload-too-large');
    expect(await streamLengths(svc.services)).toEqual(before);
  });

  it('answers 413 to a chunked single event past 64 KiB written at once, and enqueues nothing', async () => {
    const before = await enqueued(svc.services);
    const body = `{"userId":"ann","value":1,"pad":"${'y'.repeat(70 * 1024)}"}`;
    const res = await rawRequest(
      base,
      '/v1/boards/global/events',
      { ...ingestHeaders, 'transfer-encoding': 'chunked' },
      [body],
    );
    expect(res.status).toBe(413);
    expect(await enqueued(svc.services)).toBe(before);
  });

  it('reads bodies sent at once, one after another on a keep-alive connection', async () => {
    const before = await enqueued(svc.services);
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${base}/v1/boards/global/events`, {
        method: 'POST',
        headers: ingestHeaders,
        body: JSON.stringify({ userId: `keep-${i}`, value: i }),
      });
      expect(await res.json()).toEqual({ accepted: 1 });
    }
    expect(await enqueued(svc.services)).toBe(before + 20);
  });

  it('answers 413 at once when Content-Length declares more than the limit', async () => {
    const before = await enqueued(svc.services);
    const res = await rawRequest(
      base,
      '/v1/boards/global/events',
      { ...ingestHeaders, 'content-length': String(64 * 1024 + 1) },
      ['{"userId":"ann"'],
    );
    expect(res.status).toBe(413);
    expect(await enqueued(svc.services)).toBe(before);
  });

  it('drops a leading byte order mark as Request.text() does', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const res = await rawRequest(base, '/v1/boards/global/events', ingestHeaders, [
      Buffer.concat([bom, Buffer.from('{"userId":"bom","value":1}')]),
    ]);
    expect(res.status).toBe(202);
  });

  it('reads the key and the content type from the socket request: 401, 415', async () => {
    const noKey = await rawRequest(base, '/v1/boards/global/events', { 'content-type': 'application/json' }, [
      '{"userId":"ann","value":1}',
    ]);
    expect(noKey.status).toBe(401);
    const text = await rawRequest(
      base,
      '/v1/boards/global/events',
      { ...ingestHeaders, 'content-type': 'text/plain' },
      ['{"userId":"ann","value":1}'],
    );
    expect(text.status).toBe(415);
  });
});
