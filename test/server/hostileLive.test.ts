/**
 * Live (SSE) streams under hostile clients (issue 15), over real sockets from several loopback
 * addresses: streams past the per-client and total caps are refused with the contract's JSON
 * errors, a stream whose client never reads is dropped instead of buffered, and the other
 * clients' reads and streams carry on meanwhile.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_KEYS } from '../support/service.js';
import { call } from './httpSupport.js';
import {
  type Edge,
  edgeWith,
  eventually,
  getFrom,
  type RawSocket,
  rawSocket,
  within,
} from './socketClients.js';

const ATTACKER = '127.0.0.2';
const OTHER = '127.0.0.3';
const SECOND_ATTACKER = '127.0.0.4';

/** A live stream as a reading client holds it. */
interface Stream {
  status: number;
  retryAfter: string | undefined;
  /** What arrived so far (events, or the error body). */
  text(): string;
  topEvents(): number;
  ended: Promise<void>;
  close(): void;
}

/** Opens `path` from `from`; resolves with the answer's head once it arrives (and, for a 200, its first event). */
function openStream(base: string, path: string, from: string): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { localAddress: from, agent: false }, (res) => {
      let text = '';
      let settled = false;
      const ended = new Promise<void>((done) => {
        res.on('end', done);
        res.on('close', done);
      });
      const stream: Stream = {
        status: res.statusCode ?? 0,
        retryAfter: res.headers['retry-after'] as string | undefined,
        text: () => text,
        topEvents: () => text.split('event: top\n').length - 1,
        ended,
        close: () => req.destroy(),
      };
      res.setEncoding('utf8');
      res.on('data', (piece: string) => {
        text += piece;
        if (!settled && (stream.status !== 200 || text.includes('\n\n'))) {
          settled = true;
          if (stream.status === 200) resolve(stream);
        }
      });
      res.on('end', () => {
        clearTimeout(timer);
        if (stream.status !== 200) resolve(stream);
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`GET ${path} from ${from}: no answer within 5000 ms`));
    }, 5000);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end();
  });
}

describe('live streams over the caps', () => {
  let e: Edge;
  const streams: Stream[] = [];
  beforeAll(async () => {
    e = await edgeWith({ MAX_LIVE_STREAMS_PER_CLIENT: '5', MAX_LIVE_STREAMS: '8' });
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await e?.stop();
  });

  const live = '/v1/boards/global/live';
  const gauge = async () => (await e.svc.services.metrics.liveStreams.get()).values[0]?.value;

  it('takes 5 streams from one client and answers its 6th 429 too-many-streams with Retry-After', async () => {
    for (let i = 0; i < 5; i++) streams.push(await openStream(e.base, live, ATTACKER));
    expect(streams.map((s) => s.status)).toEqual([200, 200, 200, 200, 200]);
    const sixth = await openStream(e.base, live, ATTACKER);
    expect(sixth.status).toBe(429);
    expect(sixth.retryAfter).toBe('5');
    expect(JSON.parse(sixth.text())).toMatchObject({ error: { code: 'too-many-streams' } });
    const top = await getFrom(e.base, '/v1/boards/global/top', { from: OTHER });
    expect(top.status).toBe(200);
  });

  it('answers 503 server-busy past the total, to any client', async () => {
    for (let i = 0; i < 3; i++) streams.push(await openStream(e.base, live, SECOND_ATTACKER));
    expect(streams.map((s) => s.status).filter((s) => s === 200)).toHaveLength(8);
    const over = await openStream(e.base, live, OTHER);
    expect(over.status).toBe(503);
    expect(over.retryAfter).toBe('5');
    expect(JSON.parse(over.text())).toMatchObject({ error: { code: 'server-busy' } });
    expect(e.svc.services.liveStreams.held).toBe(8);
    expect(await gauge()).toBe(8);
  });

  it('counts a stream as gone once its client closes it: the place is free again', async () => {
    streams.shift()!.close();
    await eventually(() => e.svc.services.liveStreams.held === 7, 3000, 'the closed stream released');
    const next = await openStream(e.base, live, OTHER);
    streams.push(next);
    expect(next.status).toBe(200);
    expect(next.topEvents()).toBe(1);
    expect(await gauge()).toBe(8);
  });
});

describe('a live client that never reads', () => {
  let e: Edge;
  let attacker: RawSocket | undefined;
  let reader: Stream | undefined;
  let moving = true;
  let mover: Promise<void> | undefined;
  const users = Array.from({ length: 1000 }, (_, i) => `${'player-with-a-long-name-'.repeat(4)}${i}`);
  beforeAll(async () => {
    e = await edgeWith({ LIVE_STALL_MS: '500' }, { workers: true });
    const board = { windows: ['all'], topK: 1000 };
    expect(
      (await call(e.svc.app, 'PUT', '/v1/boards/wide', { key: TEST_KEYS.admin, body: board })).status,
    ).toBe(201);
    const events = users.map((userId, i) => ({ board: 'wide', userId, value: i }));
    expect(
      (await call(e.svc.app, 'POST', '/v1/events', { key: TEST_KEYS.ingest, body: { events } })).status,
    ).toBe(202);
    await eventually(
      async () => {
        const top = await (await call(e.svc.app, 'GET', '/v1/boards/wide/top?k=1000')).json();
        return (top as { entries: unknown[] }).entries.length === 1000;
      },
      20_000,
      'the wide board applied',
    );
  });
  afterAll(async () => {
    moving = false;
    await mover;
    attacker?.socket.destroy();
    reader?.close();
    await e?.stop();
  });

  it('is dropped once an update waits LIVE_STALL_MS for it, while a reading client keeps its stream', async () => {
    const path = '/v1/boards/wide/live?k=1000';
    attacker = await rawSocket(e.port, ATTACKER, { paused: true });
    attacker.socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
    reader = await openStream(e.base, path, OTHER);
    expect(e.svc.services.liveStreams.held).toBe(2);
    // Keep the board moving: every batch changes the top of 1,000 entries (about 100 KB a frame).
    mover = (async () => {
      let round = 0;
      while (moving) {
        const events = Array.from({ length: 200 }, (_, i) => ({
          board: 'wide',
          userId: users[(round * 200 + i) % users.length]!,
          value: 1 + (round % 7),
        }));
        round++;
        await call(e.svc.app, 'POST', '/v1/events', { key: TEST_KEYS.ingest, body: { events } });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const dropped = async () =>
      (await e.svc.services.metrics.liveStreamsDropped.get()).values[0]?.value === 1;
    await eventually(dropped, 20_000, 'the non-reading stream dropped');
    await eventually(() => e.svc.services.liveStreams.held === 1, 2000, 'its place released');
    // The reading client's stream is the one left, and it keeps getting updates.
    const seen = reader.topEvents();
    expect(seen).toBeGreaterThan(1);
    await eventually(() => reader!.topEvents() > seen, 5000, 'the reader still updated');
    const top = await getFrom(e.base, '/v1/boards/wide/top?k=10', { from: OTHER });
    expect(top.status).toBe(200);
    // The server reset the connection: the client finds it closed as soon as it reads again.
    attacker.socket.resume();
    await within(attacker.closed, 5000, 'the dropped socket closed');
  });
});
