/**
 * The edge under clients that hold its sockets (issue 15), over real sockets from several
 * loopback addresses: 127.0.0.2 misbehaves, 127.0.0.3 is everyone else. Each case shows the
 * misbehaving client refused or cut off, and the others' reads still answered within a generous
 * deadline (`ANSWER_DEADLINE_MS`); caps and timeouts are set small so each case takes seconds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFUSAL_SLACK } from '../../server/openFileLimit.js';
import { TEST_KEYS } from '../support/service.js';
import { streamLengths } from './httpSupport.js';
import {
  type Edge,
  edgeWith,
  eventually,
  getFrom,
  parseRawAnswer,
  type RawSocket,
  rawSocket,
  within,
} from './socketClients.js';

const ATTACKER = '127.0.0.2';
const OTHER = '127.0.0.3';
const TOP = '/v1/boards/global/top';

/** The other clients' read: answered, 200, within the deadline. */
async function othersAreServed(base: string): Promise<void> {
  const answer = await getFrom(base, TOP, { from: OTHER });
  expect(answer.status).toBe(200);
  expect(JSON.parse(answer.body)).toMatchObject({ board: 'global' });
}

async function openSockets(port: number, from: string, n: number): Promise<RawSocket[]> {
  const sockets: RawSocket[] = [];
  for (let i = 0; i < n; i++) sockets.push(await rawSocket(port, from));
  return sockets;
}

describe('idle sockets from one client over its cap', () => {
  let e: Edge;
  const sockets: RawSocket[] = [];
  beforeAll(async () => {
    e = await edgeWith({
      MAX_CONNECTIONS_PER_CLIENT: '20',
      HEADERS_TIMEOUT_MS: '3000',
      CONNECTIONS_CHECK_MS: '200',
    });
  });
  afterAll(async () => {
    for (const s of sockets) s.socket.destroy();
    await e?.stop();
  });

  it('holds 20, refuses the rest with 503 too-many-connections and Retry-After, and keeps serving others', async () => {
    sockets.push(...(await openSockets(e.port, ATTACKER, 50)));
    const refused = sockets.slice(20);
    await within(Promise.all(refused.map((s) => s.closed)), 5000, 'the refused sockets closed');
    for (const s of refused) {
      const answer = parseRawAnswer(s.received());
      expect(answer.status).toBe(503);
      expect(answer.headers['retry-after']).toBe('1');
      expect(answer.headers['content-type']).toBe('application/json');
      expect(answer.body).toMatchObject({ error: { code: 'too-many-connections' } });
    }
    const held = sockets.slice(0, 20);
    expect(held.filter((s) => s.isClosed())).toEqual([]);
    expect(e.server.connectionLimits.openFrom(ATTACKER)).toBe(20);
    await othersAreServed(e.base);
    const ready = await getFrom(e.base, '/readyz', { from: OTHER });
    expect(JSON.parse(ready.body).checks.redis).toBe(true);
    expect((await e.svc.services.metrics.connectionsRefused.get()).values).toEqual([
      expect.objectContaining({ labels: { reason: 'client' }, value: 30 }),
    ]);
  });

  it('closes the held idle sockets at the header timeout, with 408 request-timeout in JSON', async () => {
    const held = sockets.slice(0, 20);
    await within(Promise.all(held.map((s) => s.closed)), 8000, 'the idle sockets closed');
    for (const s of held) {
      const answer = parseRawAnswer(s.received());
      expect(answer.status).toBe(408);
      expect(answer.body).toMatchObject({ error: { code: 'request-timeout' } });
    }
    await eventually(() => e.server.connectionLimits.openFrom(ATTACKER) === 0, 2000, 'the count released');
    // The client's allowance is whole again.
    const again = await rawSocket(e.port, ATTACKER);
    sockets.push(again);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(again.isClosed()).toBe(false);
  });
});

describe('the total cap', () => {
  let e: Edge;
  const sockets: RawSocket[] = [];
  beforeAll(async () => {
    e = await edgeWith({
      MAX_CONNECTIONS: '30',
      MAX_CONNECTIONS_PER_CLIENT: '0',
      HEADERS_TIMEOUT_MS: '20000',
    });
  });
  afterAll(async () => {
    for (const s of sockets) s.socket.destroy();
    await e?.stop();
  });

  it('refuses connections past it with 503 server-busy, and serves again once connections close', async () => {
    sockets.push(...(await openSockets(e.port, ATTACKER, 30)));
    const busy = await getFrom(e.base, TOP, { from: OTHER });
    expect(busy.status).toBe(503);
    expect(busy.headers['retry-after']).toBe('1');
    expect(JSON.parse(busy.body)).toMatchObject({ error: { code: 'server-busy' } });
    for (const s of sockets.splice(0, 5)) s.socket.destroy();
    await eventually(() => e.server.connectionLimits.open <= 25, 2000, 'the closed sockets released');
    await othersAreServed(e.base);
  });

  it('never holds more than the cap and the refusal slack, however fast connections come', async () => {
    const flood = Array.from({ length: 150 }, () => rawSocket(e.port, ATTACKER).catch(() => undefined));
    let most = 0;
    const sampling = setInterval(() => {
      e.server.getConnections((_, n) => {
        most = Math.max(most, n);
      });
    }, 5);
    const opened = (await Promise.all(flood)).filter((s): s is RawSocket => s !== undefined);
    sockets.push(...opened);
    // Five fit under the cap again (25 held); every other one is refused and closed.
    await eventually(() => opened.filter((s) => !s.isClosed()).length === 5, 5000, 'the flood refused');
    clearInterval(sampling);
    expect(most).toBeLessThanOrEqual(30 + REFUSAL_SLACK);
    expect(e.server.connectionLimits.open).toBe(30);
    // Those the slack took were answered; those past it were closed unanswered.
    const answered = opened.filter((s) => s.received().startsWith('HTTP/1.1 503'));
    expect(answered.length).toBeGreaterThan(0);
    expect(opened.every((s) => s.received() === '' || s.received().startsWith('HTTP/1.1 503'))).toBe(true);
  });
});

describe('slow clients: slowloris headers and slow bodies', () => {
  let e: Edge;
  const sockets: RawSocket[] = [];
  const drips: NodeJS.Timeout[] = [];
  beforeAll(async () => {
    e = await edgeWith({
      HEADERS_TIMEOUT_MS: '1000',
      REQUEST_TIMEOUT_MS: '2000',
      CONNECTIONS_CHECK_MS: '200',
    });
  });
  afterAll(async () => {
    for (const drip of drips) clearInterval(drip);
    for (const s of sockets) s.socket.destroy();
    await e?.stop();
  });

  /** Sends `head` at once, then one more byte of `tail` every 100 ms while the socket is open. */
  const drip = (s: RawSocket, head: string, tail: string) => {
    s.socket.write(head);
    let i = 0;
    drips.push(
      setInterval(() => {
        if (!s.isClosed() && !s.socket.destroyed) s.socket.write(tail[i++ % tail.length]!);
      }, 100),
    );
  };

  it('cuts headers that never end at HEADERS_TIMEOUT_MS with 408 in JSON, while others are served', async () => {
    const slow = await openSockets(e.port, ATTACKER, 10);
    sockets.push(...slow);
    for (const s of slow) drip(s, `GET ${TOP} HTTP/1.1\r\nHost: x\r\n`, 'X-Slow: yes\r\n');
    await othersAreServed(e.base);
    await within(Promise.all(slow.map((s) => s.closed)), 5000, 'the slowloris sockets closed');
    for (const s of slow) {
      const answer = parseRawAnswer(s.received());
      expect(answer.status).toBe(408);
      expect(answer.body).toMatchObject({ error: { code: 'request-timeout' } });
    }
  });

  it('cuts bodies that trickle at REQUEST_TIMEOUT_MS (fast path and Hono alike) and enqueues nothing', async () => {
    const before = await streamLengths(e.svc.services);
    const head = (path: string) =>
      `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_KEYS.ingest}\r\n` +
      'Content-Type: application/json\r\nContent-Length: 200\r\n\r\n';
    const single = await openSockets(e.port, ATTACKER, 3);
    const batch = await openSockets(e.port, ATTACKER, 3);
    sockets.push(...single, ...batch);
    for (const s of single) drip(s, head('/v1/boards/global/events'), '{"userId":"slow","value":1} ');
    for (const s of batch) drip(s, head('/v1/events'), ' ');
    await othersAreServed(e.base);
    await within(Promise.all([...single, ...batch].map((s) => s.closed)), 6000, 'the slow bodies cut');
    for (const s of [...single, ...batch]) {
      const answer = parseRawAnswer(s.received());
      expect(answer.status).toBe(408);
      expect(answer.body).toMatchObject({ error: { code: 'request-timeout' } });
    }
    expect(await streamLengths(e.svc.services)).toEqual(before);
    // The service is whole afterwards: an event sent at a normal pace is accepted.
    const ok = await fetch(`${e.base}/v1/boards/global/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_KEYS.ingest}`, 'content-type': 'application/json' },
      body: '{"userId":"after","value":1}',
    });
    expect(ok.status).toBe(202);
  });

  it('answers bytes that are not HTTP with 400 bad-request, and headers over 16 KiB with 431, in JSON', async () => {
    const garbage = await rawSocket(e.port, ATTACKER);
    const huge = await rawSocket(e.port, ATTACKER);
    sockets.push(garbage, huge);
    garbage.socket.write('HELLO\r\n\r\n');
    huge.socket.write(`GET ${TOP} HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`);
    await within(Promise.all([garbage.closed, huge.closed]), 5000, 'the bad requests answered');
    expect(parseRawAnswer(garbage.received())).toMatchObject({
      status: 400,
      body: { error: { code: 'bad-request' } },
    });
    expect(parseRawAnswer(huge.received())).toMatchObject({
      status: 431,
      body: { error: { code: 'headers-too-large' } },
    });
  });
});
