import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

describe('the edge settings of the configuration', () => {
  it('defaults to the documented limits and timeouts', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      ANONYMOUS_RATE_LIMIT_RPS: 200,
      TRUSTED_PROXIES: '',
      MAX_CONNECTIONS_PER_CLIENT: 256,
      MAX_LIVE_STREAMS: 1000,
      MAX_LIVE_STREAMS_PER_CLIENT: 32,
      LIVE_STALL_MS: 10_000,
      HEADERS_TIMEOUT_MS: 10_000,
      REQUEST_TIMEOUT_MS: 30_000,
      KEEP_ALIVE_TIMEOUT_MS: 5_000,
      SOCKET_IDLE_TIMEOUT_MS: 60_000,
      CONNECTIONS_CHECK_MS: 1_000,
      MAX_REQUESTS_PER_SOCKET: 0,
    });
    expect(config.MAX_CONNECTIONS).toBeUndefined();
  });

  it('refuses a TRUSTED_PROXIES entry that is not an address or range, naming the variable and the entry', () => {
    expect(() => loadConfig({ TRUSTED_PROXIES: '10.0.0.0/8, lb.internal' })).toThrow(
      /TRUSTED_PROXIES: 'lb.internal' is not an IP address or CIDR range/,
    );
    expect(loadConfig({ TRUSTED_PROXIES: '10.0.0.0/8 fd00::/8' }).TRUSTED_PROXIES).toBe(
      '10.0.0.0/8 fd00::/8',
    );
  });

  it('refuses a header timeout above the request timeout (Node would throw at start)', () => {
    expect(() => loadConfig({ HEADERS_TIMEOUT_MS: '40000' })).toThrow(
      /HEADERS_TIMEOUT_MS: must not be above REQUEST_TIMEOUT_MS/,
    );
  });

  it('refuses negative caps and timeouts too short to serve anyone', () => {
    expect(() => loadConfig({ MAX_LIVE_STREAMS_PER_CLIENT: '-1' })).toThrow(/MAX_LIVE_STREAMS_PER_CLIENT/);
    expect(() => loadConfig({ HEADERS_TIMEOUT_MS: '5' })).toThrow(/HEADERS_TIMEOUT_MS/);
  });
});
