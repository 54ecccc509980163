/**
 * Waiting until replicas hold what a producer appended (`WAIT numreplicas timeout`), so an append
 * can be acknowledged only once a failover would keep it. WAIT covers the writes sent before it on
 * the same connection, so it is sent on the connection that carried the append (on a Cluster, the
 * connection to the master serving the stream's slot), after the append's reply came back. The
 * appends of one turn of the event loop share one WAIT per connection.
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

interface Turn {
  waiters: { resolve: () => void; reject: (error: unknown) => void }[];
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

  constructor(
    private readonly redis: Redis | Cluster,
    options: ReplicaWaitOptions = {},
  ) {
    this.replicas = options.replicas ?? 1;
    this.timeoutMs = options.timeoutMs ?? 1000;
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
          connection.wait(this.replicas, this.timeoutMs).then(
            (acknowledged) => {
              if (acknowledged >= this.replicas) for (const w of created.waiters) w.resolve();
              else {
                const error = new ReplicationTimeoutError(this.replicas, acknowledged, this.timeoutMs);
                for (const w of created.waiters) w.reject(error);
              }
            },
            (error: unknown) => {
              for (const w of created.waiters) w.reject(error);
            },
          );
        });
      }
      turn.waiters.push({ resolve, reject });
    });
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
