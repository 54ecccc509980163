import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientAddress, clientKey, TrustedProxies } from './clientAddress.js';

const proxies = TrustedProxies.parse('10.0.0.0/8, 192.168.1.7 fd00::/8');

describe('TrustedProxies', () => {
  it('holds addresses and CIDR ranges of both families, and IPv4-mapped IPv6 forms of them', () => {
    expect(proxies.has('10.200.3.4')).toBe(true);
    expect(proxies.has('::ffff:10.1.1.1')).toBe(true);
    expect(proxies.has('192.168.1.7')).toBe(true);
    expect(proxies.has('192.168.1.8')).toBe(false);
    expect(proxies.has('fd12:3456::1')).toBe(true);
    expect(proxies.has('[fd00::1]')).toBe(true);
    expect(proxies.has('2001:db8::1')).toBe(false);
    expect(proxies.has('not an address')).toBe(false);
  });

  it('trusts nothing when empty', () => {
    const none = TrustedProxies.parse('');
    expect(none.any).toBe(false);
    expect(none.has('127.0.0.1')).toBe(false);
  });

  it('refuses an entry that is not an address or a range, naming it', () => {
    expect(() => TrustedProxies.parse('10.0.0.0/8,proxy.internal')).toThrow(/'proxy.internal'/);
    expect(() => TrustedProxies.parse('10.0.0.0/33')).toThrow(/'10.0.0.0\/33' has an invalid prefix length/);
    expect(() => TrustedProxies.parse('fd00::/x')).toThrow(/invalid prefix length/);
  });
});

describe('clientAddress', () => {
  it('is the peer when the peer is not a trusted proxy, whatever X-Forwarded-For says', () => {
    expect(clientAddress('203.0.113.9', '1.2.3.4', proxies)).toBe('203.0.113.9');
    expect(clientAddress('::ffff:203.0.113.9', undefined, proxies)).toBe('203.0.113.9');
  });

  it('behind trusted proxies, is the rightmost hop that is not one of them', () => {
    expect(clientAddress('10.0.0.5', '198.51.100.1, 203.0.113.9, 10.0.0.7', proxies)).toBe('203.0.113.9');
    expect(clientAddress('10.0.0.5', '203.0.113.9', proxies)).toBe('203.0.113.9');
    expect(clientAddress('10.0.0.5', '2001:db8::7,fd00::1', proxies)).toBe('2001:db8::7');
  });

  it('reads hops with ports and brackets, as some proxies write them', () => {
    expect(clientAddress('10.0.0.5', '203.0.113.9:51234', proxies)).toBe('203.0.113.9');
    expect(clientAddress('10.0.0.5', '[2001:db8::7]:443', proxies)).toBe('2001:db8::7');
  });

  it('is the leftmost hop when every hop is a trusted proxy, and the peer without a header', () => {
    expect(clientAddress('10.0.0.5', '10.0.0.9, 10.0.0.7', proxies)).toBe('10.0.0.9');
    expect(clientAddress('10.0.0.5', undefined, proxies)).toBe('10.0.0.5');
  });

  it('stops at a hop that is not an address: the trusted proxy right of it is the client', () => {
    expect(clientAddress('10.0.0.5', '203.0.113.9, garbage, 10.0.0.7', proxies)).toBe('10.0.0.7');
    expect(clientAddress('10.0.0.5', '', proxies)).toBe('10.0.0.5');
  });

  it('cannot be chosen by the client: whatever it puts left of the hop our proxy wrote, that hop wins', () => {
    const untrusted = fc
      .tuple(fc.integer({ min: 11, max: 223 }), fc.nat(255), fc.nat(255), fc.nat(255))
      .map((parts) => parts.join('.'))
      .filter((address) => !proxies.has(address));
    const forged = fc.array(fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 8 })), { maxLength: 5 });
    fc.assert(
      fc.property(forged, untrusted, (hops, client) => {
        const header = [...hops, client, '10.0.0.7'].join(', ');
        expect(clientAddress('10.0.0.5', header, proxies)).toBe(client);
      }),
    );
  });
});

describe('clientKey', () => {
  it('counts an IPv6 client by its /64 and an IPv4 client by its address', () => {
    expect(clientKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:DB8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('64:ff9b::192.0.2.33')).toBe('64:ff9b:0:0::/64');
    expect(clientKey('::ffff:127.0.0.2')).toBe('127.0.0.2');
    expect(clientKey('127.0.0.2')).toBe('127.0.0.2');
    expect(clientKey('unknown')).toBe('unknown');
  });

  it('gives every address of one /64 the same key, and addresses of two /64s different keys', () => {
    fc.assert(
      fc.property(fc.ipV6(), fc.ipV6(), (a, b) => {
        const prefix = (x: string) => clientKey(x);
        const full = (x: string) => {
          const [head = '', tail] = x.split('::');
          const left = head ? head.split(':') : [];
          const right = tail ? tail.split(':') : [];
          return [...left, ...new Array(8 - left.length - right.length).fill('0'), ...right];
        };
        // fc.ipV6 may end in a dotted IPv4 part; compare the first four groups only then.
        if (a.includes('.') || b.includes('.')) return;
        const same = full(a)
          .slice(0, 4)
          .every((g, i) => Number.parseInt(g, 16) === Number.parseInt(full(b)[i]!, 16));
        expect(prefix(a) === prefix(b)).toBe(same);
      }),
    );
  });
});
