/**
 * Sending a command again after Redis Cluster refused it without running it: `MOVED` (the slot is
 * served elsewhere now), `ASK` (it is being migrated and the key is already on the target),
 * `TRYAGAIN` (a multi-key command's keys are split by a migration) and `CLUSTERDOWN`. ioredis
 * follows these by itself for a command sent alone, but not inside a pipeline that also holds a
 * write that succeeded, which is what an auto-pipelining client sends: one pipeline per node per
 * turn of the event loop, holding the commands of every slot that node serves. When one slot
 * moves, its commands come back with the redirection as their error while the others' succeeded,
 * and ioredis hands the `MOVED` to the caller. For an append that would be a refusal (503) of
 * events Redis never wrote; since Redis ran nothing, sending it again is safe.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from 'ioredis';

const REFUSED_UNRUN = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN)\b/;

/**
 * Whether an error is Redis Cluster's refusal of a command it did not run.
 *
 * @example
 * isUnrunRedirection(new Error('MOVED 3999 127.0.0.1:7002')); // true
 */
export function isUnrunRedirection(error: unknown): boolean {
  return error instanceof Error && REFUSED_UNRUN.test(error.message);
}

export interface RedirectionRetryOptions {
  /** Sends in all, the first included. Default 16 (ioredis' `maxRedirections`). */
  attempts?: number;
  /** Wait before the second send, ms; doubled for each next one, up to 200 ms. Default 10. */
  delayMs?: number;
}

/**
 * Sends a command, and sends it again while the cluster refuses it unrun: after a `MOVED`, once
 * the client has read the slot table again (so the next send goes to the slot's node of now);
 * after `ASK`, `TRYAGAIN` or `CLUSTERDOWN`, after a short wait (a slot's migration ends, then its
 * keys answer `MOVED`). Any other error, and the last refusal, reject as they are.
 *
 * @example
 * const id = await sendFollowingRedirections(cluster, () => cluster.xadd('{lb:3.1}:in', '*', 'v', '1'));
 */
export async function sendFollowingRedirections<T>(
  cluster: Cluster,
  send: () => Promise<T>,
  options: RedirectionRetryOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? 16;
  let delayMs = options.delayMs ?? 10;
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      if (attempt >= attempts || !isUnrunRedirection(error)) throw error;
      if ((error as Error).message.startsWith('MOVED')) await slotsRefreshed(cluster);
      // A refreshed table may still name the old node: nodes learn a moved slot one by one.
      if (attempt > 1 || !(error as Error).message.startsWith('MOVED')) await sleep(delayMs);
      delayMs = Math.min(delayMs * 2, 200);
    }
  }
}

/** Resolves once the client has read the cluster's slot table again (or failed to). */
function slotsRefreshed(cluster: Cluster): Promise<void> {
  return new Promise((resolve) => cluster.refreshSlotsCache(() => resolve()));
}
