/**
 * The connections a consumer waits for new entries on (`XREAD BLOCK`), one per owned partition:
 * a blocking command holds its connection, so it cannot share the client the consumer acks and
 * renews leases on.
 *
 * On one server (or behind Sentinel) each is a `duplicate()` of the consumer's client: it
 * reconnects by itself, and a sentinel-managed duplicate asks the sentinels for the primary again.
 * On a Cluster, duplicating the client would build a whole cluster client (its own connections to
 * the nodes and slot refreshes) per partition; instead each partition waits on one plain
 * connection to the master serving its slot, taken from the cluster client's slot table, and
 * chosen again when the table changes, when the node answers `MOVED`, or when the connection
 * fails. The wait is only a wait (a plain `XREAD` takes nothing from the group), so a wait that
 * goes wrong costs latency, never an entry.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type Cluster, Redis } from 'ioredis';
import { isCluster, masterOfSlot, type NodeAddress, redirectedAddress } from './cluster.js';
import { keySlot } from './slots.js';

interface WaitConnection {
  redis: Redis;
  /** The node, for a cluster's plain connection. */
  node?: NodeAddress;
}

export class WaitConnections {
  private readonly connections = new Map<number, WaitConnection>();
  /** Where a node's `MOVED` sent a partition's wait, until that connection fails. */
  private readonly redirected = new Map<number, NodeAddress>();

  constructor(
    private readonly redis: Redis | Cluster,
    /** Prefix of the connections' names (`CLIENT SETNAME`), e.g. the consumer's id. */
    private readonly name: string,
  ) {}

  /**
   * Waits until the stream may have an entry after `afterId`, or `blockMs` passed. Rejects when
   * the connection failed (the next wait opens another).
   */
  async wait(partition: number, stream: string, afterId: string, blockMs: number): Promise<void> {
    const connection = this.connectionFor(partition, stream);
    try {
      await connection.redis.call('XREAD', 'BLOCK', blockMs, 'STREAMS', stream, afterId);
    } catch (error) {
      const redirect = isCluster(this.redis) ? parseRedirect(error) : undefined;
      if (!redirect) {
        if (connection.node) this.drop(partition);
        throw error;
      }
      const cluster = this.redis as Cluster;
      this.drop(partition);
      if (redirect.kind === 'MOVED') {
        // The slot moved (a failover, a reshard): follow the node's answer at once, and let the
        // cluster client learn it too.
        this.redirected.set(partition, redirectedAddress(cluster, redirect.address));
        cluster.refreshSlotsCache();
      } else {
        // ASK: the slot is being migrated and the stream is already on the target. A blocking
        // read there would need ASKING first; waiting briefly and reading again is simpler, and
        // migrations are rare.
        await sleep(Math.min(blockMs, 100));
      }
    }
  }

  /** Closes a partition's connection: this consumer no longer reads the partition. */
  release(partition: number): void {
    this.drop(partition);
  }

  /** Closes every connection. */
  close(): void {
    for (const partition of [...this.connections.keys()]) this.drop(partition);
    this.redirected.clear();
  }

  private connectionFor(partition: number, stream: string): WaitConnection {
    const current = this.connections.get(partition);
    if (!isCluster(this.redis)) {
      if (current) return current;
      const redis = this.redis.duplicate({ connectionName: this.connectionName(partition) });
      // Its failures reach the read loop through the XREAD that failed; unheard, ioredis would
      // print every failed reconnect while Redis is down.
      redis.on('error', () => {});
      const connection = { redis };
      this.connections.set(partition, connection);
      return connection;
    }
    const node = this.redirected.get(partition) ?? masterOfSlot(this.redis, keySlot(stream));
    if (!node) throw new Error(`the cluster client does not know which node serves ${stream} yet`);
    if (current && current.node?.host === node.host && current.node.port === node.port) return current;
    if (current) this.drop(partition);
    const redis = new Redis({
      ...this.redis.options.redisOptions,
      host: node.host,
      port: node.port,
      connectionName: this.connectionName(partition),
      // A cluster node's connection does not reconnect (ioredis' own do not either): the next
      // wait asks the slot table again, which may name another node by then.
      retryStrategy: () => null,
      lazyConnect: false,
    });
    redis.on('error', () => {});
    const connection = { redis, node };
    this.connections.set(partition, connection);
    return connection;
  }

  private drop(partition: number): void {
    this.connections.get(partition)?.redis.disconnect();
    this.connections.delete(partition);
    this.redirected.delete(partition);
  }

  private connectionName(partition: number): string {
    // CLIENT SETNAME refuses spaces and control characters.
    return `${this.name}:wait:${partition}`.replace(/[^!-~]/g, '_');
  }
}

function parseRedirect(error: unknown): { kind: 'MOVED' | 'ASK'; address: string } | undefined {
  if (!(error instanceof Error)) return undefined;
  const [kind, , address] = error.message.split(' ');
  return (kind === 'MOVED' || kind === 'ASK') && address ? { kind, address } : undefined;
}
