/**
 * Who a request comes from, for the per-client limits (anonymous reads, live streams,
 * connections): the socket's peer address, or, when that peer is one of the configured proxies
 * (`TRUSTED_PROXIES`), the rightmost `X-Forwarded-For` hop that is not one of them.
 *
 * Why the rightmost untrusted hop: each proxy appends the address it received the request from,
 * so the hops right of the last trusted one were written by our own proxies; everything further
 * left was sent by the client itself and can be anything. `X-Forwarded-For` from any other peer
 * is ignored, or every client could name itself.
 *
 * Limits count a client by its *key*: an IPv4 address, or the /64 prefix of an IPv6 address (one
 * host usually holds a whole /64, so counting single IPv6 addresses would let it take 2^64 shares).
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/**
 * The configured proxies, from `TRUSTED_PROXIES`: addresses and CIDR ranges, IPv4 or IPv6,
 * separated by commas or spaces (`10.0.0.0/8, 192.168.1.7, fd00::/8`).
 *
 * @example
 * const proxies = TrustedProxies.parse('10.0.0.0/8,127.0.0.1');
 * proxies.has('10.1.2.3'); // true
 */
export class TrustedProxies {
  readonly #list = new BlockList();
  /** Whether any proxy is configured (when none is, no header is ever read). */
  readonly any: boolean;

  private constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const slash = entry.indexOf('/');
      const address = plainAddress(slash < 0 ? entry : entry.slice(0, slash));
      const family = isIP(address);
      if (family === 0) throw new Error(`TRUSTED_PROXIES: '${entry}' is not an IP address or CIDR range`);
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (slash < 0) {
        this.#list.addAddress(address, type);
        continue;
      }
      const bits = entry.slice(slash + 1);
      const prefix = Number(bits);
      if (!/^\d{1,3}$/.test(bits) || prefix > (family === 4 ? 32 : 128))
        throw new Error(`TRUSTED_PROXIES: '${entry}' has an invalid prefix length`);
      this.#list.addSubnet(address, prefix, type);
    }
    this.any = entries.length > 0;
  }

  /** Parses the variable's value; an entry that is not an address or range throws, naming it. */
  static parse(spec: string | undefined): TrustedProxies {
    return new TrustedProxies((spec ?? '').split(/[\s,]+/).filter(Boolean));
  }

  /** Whether `address` (as a socket or a header gives it) is a configured proxy. */
  has(address: string): boolean {
    if (!this.any) return false;
    const plain = plainAddress(address);
    const family = isIP(plain);
    return family !== 0 && this.#list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/**
 * The client's address: `peer` itself unless it is a trusted proxy; then the rightmost hop of
 * `forwardedFor` that is not a trusted proxy (or the leftmost hop, when every hop is one). A hop
 * that is not an IP address ends the walk: the proxy that wrote it is the client then.
 *
 * @example
 * clientAddress('10.0.0.5', '203.0.113.9, 10.0.0.7', TrustedProxies.parse('10.0.0.0/8')); // '203.0.113.9'
 */
export function clientAddress(
  peer: string,
  forwardedFor: string | undefined,
  proxies: TrustedProxies,
): string {
  const address = plainAddress(peer);
  if (forwardedFor === undefined || !proxies.has(address)) return address;
  const hops = forwardedFor.split(',');
  let client = address;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = plainAddress(withoutPort(hops[i]!.trim()));
    if (isIP(hop) === 0) return client;
    client = hop;
    if (!proxies.has(hop)) return hop;
  }
  return client;
}

/**
 * The client address of a Node request (`unknown` without a socket address, as for
 * `app.request` in tests).
 *
 * @example
 * const who = requestClient(req, proxies);
 */
export function requestClient(incoming: IncomingMessage | undefined, proxies: TrustedProxies): string {
  const peer = incoming?.socket.remoteAddress;
  if (peer === undefined) return 'unknown';
  const forwarded = proxies.any ? incoming!.headers['x-forwarded-for'] : undefined;
  return clientAddress(peer, Array.isArray(forwarded) ? forwarded.join(',') : forwarded, proxies);
}

/**
 * The key the per-client limits count `address` under: an IPv4 address as it is, an IPv6 address
 * as its /64 prefix (`2001:db8:1:2::/64`), anything else as it is.
 *
 * @example
 * clientKey('2001:db8:1:2:aaaa::1'); // '2001:db8:1:2::/64'
 */
export function clientKey(address: string): string {
  const plain = plainAddress(address);
  if (isIP(plain) !== 6) return plain;
  const groups = expandIpv6(plain);
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : plain;
}

/** A forwarded hop without the port some proxies append (`1.2.3.4:5678`, `[2001:db8::1]:5678`). */
function withoutPort(hop: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hop);
  if (bracketed) return bracketed[1]!;
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(hop);
  return v4 ? v4[1]! : hop;
}

/** An address without brackets, a zone index or an IPv4-mapped IPv6 prefix (`::ffff:1.2.3.4`). */
function plainAddress(address: string): string {
  let plain = address;
  if (plain.startsWith('[') && plain.endsWith(']')) plain = plain.slice(1, -1);
  const zone = plain.indexOf('%');
  if (zone >= 0) plain = plain.slice(0, zone);
  if (plain.length > 7 && plain.slice(0, 7).toLowerCase() === '::ffff:' && isIP(plain.slice(7)) === 4)
    plain = plain.slice(7);
  return plain;
}

/** The eight 16-bit groups of an IPv6 address, in lower-case hex without leading zeros. */
function expandIpv6(address: string): string[] | undefined {
  let text = address.toLowerCase();
  // A trailing dotted IPv4 part (`::1.2.3.4`) is two groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (isIP(tail) === 4) {
    const [a, b, c, d] = tail.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = rest === undefined || rest === '' ? [] : rest.split(':');
  const missing = 8 - left.length - right.length;
  if (missing < 0 || (rest === undefined && missing !== 0)) return undefined;
  return [...left, ...new Array<string>(missing).fill('0'), ...right].map((g) =>
    Number.parseInt(g, 16).toString(16),
  );
}
