/**
 * A client for appends that never sends a command again once it may have run. ioredis resends
 * by default: a `Redis` client sends the commands whose replies were lost again after it
 * reconnects (`autoResendUnfulfilledCommands`), and a `Cluster` client retries a command whose
 * node connection closed, 100 ms later, on whatever node then serves the slot
 * (`retryDelayOnFailover`). Redis may have run the command before the connection dropped (the
 * reply was lost, not the command), so an `XADD` resent is an entry in the stream twice, behind
 * one success. On this client such an append fails instead: a resolved append is in the stream
 * exactly once, a rejected one at most once, and the caller decides whether to retry (with an
 * idempotency id in the fields when a retry must count once).
 */
import type { Cluster, Redis } from 'ioredis';
import { isCluster } from './cluster.js';

export interface AppendConnectionOptions {
  /**
   * How long a command may wait for its reply, ms, before it rejects. Default 5000. Needed on one
   * server: without the resend, ioredis never settles the commands a dropped connection carried,
   * and this timer is what rejects them.
   */
  commandTimeoutMs?: number;
  /** Sends the commands of one event-loop turn in one write (ioredis' auto-pipelining). Default false. */
  enableAutoPipelining?: boolean;
}

/**
 * A duplicate of the client, for appends: on one server (or behind Sentinel) with
 * `autoResendUnfulfilledCommands` off and a command timeout; on a Cluster with
 * `retryDelayOnFailover: 0` (a command whose connection closed is rejected, not retried) and
 * the same node options, plus the command timeout. Redirections (`MOVED`, `ASK`, `TRYAGAIN`,
 * `CLUSTERDOWN`) are still followed, Redis ran nothing then: by ioredis for a command sent alone,
 * by the `Producer` for one an auto-pipeline handed back (`redirections.ts`). Disconnect it when
 * done.
 *
 * @example
 * const appends = createAppendConnection(redis, { commandTimeoutMs: 5000 });
 * const producer = new Producer(appends, { name: 'lb', partitions: 16 });
 * await producer.append(records); // in the stream exactly once when it resolves
 */
export function createAppendConnection(
  redis: Redis | Cluster,
  options: AppendConnectionOptions = {},
): Redis | Cluster {
  const commandTimeout = options.commandTimeoutMs ?? 5000;
  const enableAutoPipelining = options.enableAutoPipelining ?? false;
  const appends = isCluster(redis)
    ? redis.duplicate([], {
        retryDelayOnFailover: 0,
        enableAutoPipelining,
        redisOptions: { ...redis.options.redisOptions, commandTimeout },
      })
    : redis.duplicate({ autoResendUnfulfilledCommands: false, commandTimeout, enableAutoPipelining });
  // It reconnects by itself; a failed append rejects, which is what its caller listens to.
  appends.on('error', () => {});
  return appends;
}
