import { describe, expect, it } from 'vitest';
import { isRedisUnavailable } from './httpError.js';

describe('isRedisUnavailable', () => {
  it('takes a cluster redirection that reached a route for a shard that cannot answer now', () => {
    expect(isRedisUnavailable(new Error('MOVED 0 127.0.0.1:7001'))).toBe(true);
    expect(isRedisUnavailable(new Error('ASK 3999 127.0.0.1:7002'))).toBe(true);
    expect(isRedisUnavailable(new Error('CLUSTERDOWN The cluster is down'))).toBe(true);
    expect(isRedisUnavailable(new Error('Command timed out'))).toBe(true);
  });

  it('leaves other errors (a bug is a 500)', () => {
    expect(isRedisUnavailable(new Error('ERR wrong number of arguments for command'))).toBe(false);
    expect(
      isRedisUnavailable(new TypeError("Cannot read properties of undefined (reading 'MOVED 1 x')")),
    ).toBe(false);
    expect(isRedisUnavailable('MOVED 0 127.0.0.1:7001')).toBe(false);
  });
});
