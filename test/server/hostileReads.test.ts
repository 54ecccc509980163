/**
 * Anonymous read floods (issue 15), over real sockets from several loopback addresses: a client
 * without a key that reads past `ANONYMOUS_RATE_LIMIT_RPS` gets 429 with Retry-After, while other
 * addresses and clients with a key keep being served; behind a trusted proxy the limit follows
 * the client `X-Forwarded-For` names, and from any other peer that header is ignored.
 */
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_KEYS } from '../support/service.js';
import { type Edge, edgeWith, getFrom } from './socketClients.js';

const ATTACKER = '127.0.0.2';
const OTHER = '127.0.0.3';
const PROXY = '127.0.0.5';
const TOP = '/v1/boards/global/top';

/** `n` GETs from `from`, `parallel` at a time over keep-alive connections; the statuses in order. */
async function flood(base: string, from: string, n: number, headers: Record<string, string> = {}) {
  const agent = new Agent({ keepAlive: true, maxSockets: 8, localAddress: from });
  const one = () =>
    new Promise<number>((resolve, reject) => {
      const req = request(`${base}${TOP}`, { agent, headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.setTimeout(5000, () => req.destroy(new Error('no answer within 5000 ms')));
      req.on('error', reject);
      req.end();
    });
  const statuses: number[] = [];
  for (let sent = 0; sent < n; sent += 8) {
    statuses.push(...(await Promise.all(Array.from({ length: Math.min(8, n - sent) }, one))));
  }
  agent.destroy();
  return statuses;
}

describe('an anonymous read flood from one address', () => {
  let e: Edge;
  let base: string;
  beforeAll(async () => {
    // One request per 10 s and a burst of 1: what is refused stays refused for the whole test, however
    // slowly a busy machine runs it.
    e = await edgeWith({ ANONYMOUS_RATE_LIMIT_RPS: '0.1', TRUSTED_PROXIES: PROXY });
    base = e.base;
  });
  afterAll(async () => {
    await e?.stop();
  });

  it('is answered 429 past its burst, while other addresses and keys are served', async () => {
    const statuses = await flood(base, ATTACKER, 400);
    const limited = statuses.filter((s) => s === 429).length;
    expect(statuses[0]).toBe(200);
    expect(limited).toBeGreaterThanOrEqual(396);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    const refused = await getFrom(base, TOP, { from: ATTACKER });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(10);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'rate-limited' } });
    expect(JSON.parse(refused.body).error.message).toContain('this client address');
    // Everyone else, and the same address with a key, are served.
    expect((await getFrom(base, TOP, { from: OTHER })).status).toBe(200);
    const withKey = await getFrom(base, TOP, {
      from: ATTACKER,
      headers: { authorization: `Bearer ${TEST_KEYS.read}` },
    });
    expect(withKey.status).toBe(200);
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const forged = await getFrom(base, TOP, {
      from: ATTACKER,
      headers: { 'x-forwarded-for': '198.51.100.7' },
    });
    expect(forged.status).toBe(429);
  });

  it('behind the trusted proxy, limits each forwarded client on its own', async () => {
    const named = (client: string) => ({ 'x-forwarded-for': `${client}, ${PROXY}` });
    const first = await flood(base, PROXY, 120, { 'x-forwarded-for': '198.51.100.1' });
    expect(first[0]).toBe(200);
    expect(first.filter((s) => s === 429).length).toBeGreaterThanOrEqual(116);
    const second = await getFrom(base, TOP, { from: PROXY, headers: named('198.51.100.2') });
    expect(second.status).toBe(200);
    const again = await getFrom(base, TOP, { from: PROXY, headers: { 'x-forwarded-for': '198.51.100.1' } });
    expect(again.status).toBe(429);
  });
});
