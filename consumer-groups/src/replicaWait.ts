/**
 * Waiting until replicas hold what a producer appended (`WAIT numreplicas timeout`), so an append
 * can be acknowledged only once a failover would keep it. WAIT covers the writes sent before it on
 * the same connection, so it is sent on the connection that carried the append (on a Cluster, the
 * connection to the master serving the stream's slot), after the append's reply came back. The
 * appends of one turn of the event loop share one WAIT per connection.
 *
 * Two ways the WAIT could miss the connection that carried the append, and what rules them out:
 * - On a Cluster, an append the source master answered `ASK` (its slot being migrated) runs on
 *   the target, while the client's slot table still names the source. So on a cluster the turn
 *   first asks the master it waits on whether it holds each stream (`EXISTS`, on the same
 *   connection, before the WAIT): a stream that moved away is answered `ASK` or `MOVED`, and its
 *   appends are refused (`ReplicationTimeoutError`) rather than acknowledged on a WAIT that did
 *   not cover them.
 * - On one server or behind Sentinel, a connection that closed after the append's reply and came
 *   back (on the promoted replica, say) would send the WAIT there. A close between an append's
 *   reply and its WAIT's reply refuses the append instead.
 */
import type { Cluster, Redis } from 'ioredis';
import { isCluster, masterOfSlot } from './cluster.js';
import { ReplicationTimeoutError } from './errors/ReplicationTimeoutError.js';
import { keySlot } from './slots.js';

export interface ReplicaWaitOptions {
  /** Replicas that must hold an append before it resolves. Default 1. */
  replicas?: number;
  /** How long to wait for them, ms; past it the append rejects. Default 1000. */
  timeoutMs?: number;
}

interface Waiter {
  key: string;
  /** The connection's closes when the append's reply came. */
  closes: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface Turn {
  waiters: Waiter[];
}

/**
 * @example
 * const replicated = new ReplicaWait(appends, { replicas: 1, timeoutMs: 1000 });
 * await producer.appendOne(record);
 * await replicated.after('{lb:7.1953}:in'); // rejects with ReplicationTimeoutError
 */
export class ReplicaWait {
  readonly replicas: number;
  readonly timeoutMs: number;
  private readonly turns = new Map<Redis, Turn>();
  /** Closes of the connection (one server or Sentinel): a WAIT after one may be on another server. */
  private closes = 0;

  constructor(
    private readonly redis: Redis | Cluster,
    options: ReplicaWaitOptions = {},
  ) {
    this.replicas = options.replicas ?? 1;
    this.timeoutMs = options.timeoutMs ?? 1000;
    if (!isCluster(redis)) redis.on('close', () => this.closes++);
  }

  /** Resolves once `replicas` replicas hold every write this client sent for `key` so far. */
  after(key: string): Promise<void> {
    let connection: Redis;
    try {
      connection = this.connectionFor(key);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      let turn = this.turns.get(connection);
      if (!turn) {
        const created: Turn = { waiters: [] };
        turn = created;
        this.turns.set(connection, created);
        // Sent at the end of the turn, after every append whose reply this turn handled.
        setImmediate(() => {
          this.turns.delete(connection);
          void this.settle(connection, created.waiters);
        });
      }
      turn.waiters.push({ key, closes: this.closes, resolve, reject });
    });
  }

  private async settle(connection: Redis, waiters: Waiter[]): Promise<void> {
    const keys = [...new Set(waiters.map((w) => w.key))];
    const cluster = isCluster(this.redis);
    // On a cluster: which streams this master holds, asked before the WAIT on its connection.
    const held = cluster
      ? keys.map((key) =>
          connection.exists(key).then(
            (n) => n === 1,
            () => false,
          ),
        )
      : [];
    let acknowledged: number;
    try {
      acknowledged = await connection.wait(this.replicas, this.timeoutMs);
    } catch (error) {
      for (const w of waiters) w.reject(error);
      return;
    }
    const elsewhere = new Set<string>();
    const holds = await Promise.all(held);
    keys.forEach((key, i) => {
      if (cluster && !holds[i]) elsewhere.add(key);
    });
    for (const w of waiters) {
      if (this.closes !== w.closes) {
        w.reject(
          new ReplicationTimeoutError(
            this.replicas,
            0,
            this.timeoutMs,
            'the connection closed between the append and its WAIT: the WAIT may not cover it',
          ),
        );
      } else if (elsewhere.has(w.key)) {
        w.reject(
          new ReplicationTimeoutError(
            this.replicas,
            0,
            this.timeoutMs,
            `the master waited on does not hold ${w.key} (its slot is moving): the append may have run on another node`,
          ),
        );
      } else if (acknowledged >= this.replicas) {
        w.resolve();
      } else {
        w.reject(new ReplicationTimeoutError(this.replicas, acknowledged, this.timeoutMs));
      }
    }
  }

  private connectionFor(key: string): Redis {
    if (!isCluster(this.redis)) return this.redis;
    const master = masterOfSlot(this.redis, keySlot(key));
    const node =
      master &&
      this.redis
        .nodes('master')
        .find((n) => n.options.host === master.host && n.options.port === master.port);
    if (!node)
      throw new ReplicationTimeoutError(this.replicas, 0, 0, `no known master serves the slot of ${key}`);
    return node;
  }
}
