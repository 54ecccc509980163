/**
 * A consumer of a partitioned stream family. Consumers of one group share the partitions by
 * leases: each partition has at most one owner at a time, under an epoch that fences everything
 * the owner writes. Batches come out of an async iterator, at most `maxInFlight` per partition.
 */
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster, Redis } from 'ioredis';
import { assignedPartitions } from './assignment.js';
import { ScriptCode } from './commands.js';
import { decodeEntry, type RawEntry, type StreamEntry } from './entries.js';
import { ConnectionLostError } from './errors/ConnectionLostError.js';
import { InvalidOptionError } from './errors/InvalidOptionError.js';
import { LeaseLostError } from './errors/LeaseLostError.js';
import { ensureGroup, isMissingGroup } from './groups.js';
import { leaseToken, membersKey, type PartitionKeys, partitionKeys } from './keys.js';
import { defineConsumerGroupScripts } from './scripts.js';
import { WaitConnections } from './waitConnections.js';

export interface ConsumerOptions {
  /** The stream family's name; partition p's stream is `{name:p.s}:in`. */
  name: string;
  /** The consumer group; every consumer of the group shares the partitions. */
  group: string;
  /** Number of partitions of the family. */
  partitions: number;
  /** This consumer's unique id. Default: `<host>-<pid>-<random>`. */
  consumerId?: string;
  /** Most entries per batch. Default 500. */
  batchSize?: number;
  /** How long one read waits for new entries, ms. Default 250 (also bounds shutdown time). */
  blockMs?: number;
  /** Lease time, ms: how long a silent consumer keeps its partitions. Default 10,000. */
  leaseMs?: number;
  /** How often leases are renewed and the membership re-read, ms. Default leaseMs / 4. */
  heartbeatMs?: number;
  /** Deliveries after which an entry goes to the dead-letter stream. Default 5. */
  maxDeliveries?: number;
  /** Batches read but not yet settled, per partition (read-ahead). Default 2. */
  maxInFlight?: number;
  /** Where a new group starts: `0` (everything retained, default) or `$` (new entries only). */
  startId?: string;
  /**
   * Wait before redelivering entries given back by `nack`, ms; doubled after each failure in a
   * row, up to 32 times. Default 100. Keeps a passing outage from using up `maxDeliveries`.
   */
  redeliveryDelayMs?: number;
}

/** A micro-batch of one partition, read under one lease epoch. */
export interface Batch {
  partition: number;
  stream: string;
  entries: StreamEntry[];
  firstId: string;
  lastId: string;
  /** The lease epoch the batch was read under. */
  epoch: number;
  /** The fencing token (`<epoch>:<consumerId>`) that lease-checking scripts compare. */
  token: string;
  /** True when the entries were recovered from the pending list (redelivered). */
  redelivered: boolean;
}

export type RevokeReason = 'rebalance' | 'lease-lost' | 'close';

export interface ConsumerEvents {
  assigned: [partition: number, epoch: number];
  revoked: [partition: number, reason: RevokeReason];
  deadLettered: [partition: number, ids: string[]];
  error: [error: Error];
}

interface PartitionState {
  partition: number;
  keys: PartitionKeys;
  epoch: number;
  token: string;
  /** Local time until which the lease is surely still ours. */
  validUntil: number;
  active: boolean;
  inFlight: number;
  recovering: boolean;
  /** After a failed batch, pending entries are redelivered one by one to isolate the poison. */
  isolate: boolean;
  cursor: string;
  /**
   * The group's last-delivered-id on this partition as this consumer last saw it: set by the end
   * of a scan of the pending entries and moved by each read. A read is taken only while the
   * group is still there, so entries delivered by a read whose reply was lost are never skipped.
   */
  position?: string;
  /** Failures in a row (nacks without a success since), for the redelivery backoff. */
  failures: number;
  /** Local time before which given-back entries are not redelivered. */
  retryAt: number;
  wake?: () => void;
  loop?: Promise<void>;
}

const DEFAULTS = {
  batchSize: 500,
  blockMs: 250,
  leaseMs: 10_000,
  maxDeliveries: 5,
  maxInFlight: 2,
  startId: '0',
  redeliveryDelayMs: 100,
};

/**
 * @example
 * const consumer = new Consumer(redis, { name: 'lb', group: 'workers', partitions: 16 });
 * await consumer.start();
 * for await (const batch of consumer) {
 *   await handle(batch.entries);
 *   await consumer.ack(batch);
 * }
 */
export class Consumer extends EventEmitter<ConsumerEvents> implements AsyncIterable<Batch> {
  readonly id: string;
  readonly options: Required<ConsumerOptions>;
  private readonly owned = new Map<number, PartitionState>();
  private readonly stopping = new Map<number, Promise<void>>();
  private readonly batchStates = new WeakMap<Batch, PartitionState>();
  private readonly waits: WaitConnections;
  private readonly ready: Batch[] = [];
  private readonly waiters: ((result: IteratorResult<Batch>) => void)[] = [];
  private closing = false;
  private closed?: Promise<void>;
  private membership?: Promise<void>;
  private wakeMembership?: () => void;

  constructor(
    private readonly redis: Redis | Cluster,
    options: ConsumerOptions,
  ) {
    super();
    const leaseMs = options.leaseMs ?? DEFAULTS.leaseMs;
    this.id = options.consumerId ?? `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    this.options = {
      ...DEFAULTS,
      heartbeatMs: Math.max(10, Math.floor(leaseMs / 4)),
      ...stripUndefined(options),
      name: options.name,
      group: options.group,
      partitions: options.partitions,
      consumerId: this.id,
      leaseMs,
    };
    validate(this.options);
    defineConsumerGroupScripts(redis);
    this.waits = new WaitConnections(redis, this.id);
  }

  /** Creates the group on every partition (idempotent) and starts taking partitions. */
  async start(): Promise<void> {
    if (this.membership) return;
    const { name, group, partitions, startId } = this.options;
    await Promise.all(
      Array.from({ length: partitions }, (_, p) =>
        ensureGroup(this.redis, partitionKeys(name, p).stream, group, startId),
      ),
    );
    this.membership = this.membershipLoop();
  }

  /** Partitions this consumer owns right now, with their epochs. */
  ownedPartitions(): Map<number, number> {
    return new Map([...this.owned].map(([p, s]) => [p, s.epoch]));
  }

  /**
   * Acknowledges a batch, fenced by its lease epoch, and frees its in-flight slot.
   * @throws LeaseLostError when the lease was lost since the batch was read.
   */
  async ack(batch: Batch): Promise<number> {
    const state = this.stateOf(batch);
    try {
      const acked = await this.ackEntries(
        batch,
        batch.entries.map((e) => e.id),
      );
      state.failures = 0;
      return acked;
    } finally {
      this.release(state);
    }
  }

  /**
   * Acknowledges some entries of a batch, fenced by its lease epoch, keeping the batch in flight
   * (e.g. entries a processor finds already applied, before it applies the rest).
   * @throws LeaseLostError when the lease was lost since the batch was read.
   */
  async ackEntries(batch: Batch, ids: readonly string[]): Promise<number> {
    const state = this.stateOf(batch);
    if (ids.length === 0) return 0;
    const keys = partitionKeys(this.options.name, batch.partition);
    const result = await this.redis.ackBatch(
      keys.stream,
      keys.lease,
      this.options.group,
      batch.token,
      ...ids,
    );
    if (result === ScriptCode.LeaseLost) throw this.leaseLost(state, batch);
    return result;
  }

  /**
   * Frees a batch's in-flight slot without acknowledging it here, for a processor whose own
   * fenced script acknowledged the entries atomically with its writes.
   */
  settle(batch: Batch): void {
    const state = this.stateOf(batch);
    state.failures = 0;
    this.release(state);
  }

  /**
   * Gives a batch back: its entries stay pending and are redelivered one by one (so that one
   * poison entry cannot hold the others back), counting deliveries toward the dead-letter limit.
   */
  nack(batch: Batch): void {
    const state = this.stateOf(batch);
    if (state.active) {
      state.recovering = true;
      state.isolate = true;
      state.cursor = '0-0';
      state.retryAt = Date.now() + this.options.redeliveryDelayMs * 2 ** Math.min(state.failures, 5);
      state.failures++;
    }
    this.release(state);
  }

  /**
   * Moves some entries of a batch to the partition's dead-letter stream and acknowledges them,
   * fenced by the batch's lease epoch. Use it for entries a processor can never handle.
   * @throws LeaseLostError when the lease was lost since the batch was read.
   */
  async deadLetter(batch: Batch, entries: readonly StreamEntry[], reason: string): Promise<number> {
    if (entries.length === 0) return 0;
    const state = this.stateOf(batch);
    const keys = partitionKeys(this.options.name, batch.partition);
    const moved = await this.moveToDeadLetters(keys, batch.token, entries, reason);
    if (moved === ScriptCode.LeaseLost) throw this.leaseLost(state, batch);
    this.emit(
      'deadLettered',
      batch.partition,
      entries.map((e) => e.id),
    );
    return moved;
  }

  /**
   * Runs a handler on every batch until `close()`: acks on success, nacks on failure.
   *
   * @example
   * await consumer.run(async (batch) => { for (const e of batch.entries) handle(e.fields); });
   */
  async run(handler: (batch: Batch) => Promise<void>): Promise<void> {
    for await (const batch of this) {
      try {
        await handler(batch);
      } catch (error) {
        this.nack(batch);
        this.report(error);
        continue;
      }
      try {
        await this.ack(batch);
      } catch (error) {
        this.report(error);
      }
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<Batch> {
    return {
      next: () => {
        const batch = this.ready.shift();
        if (batch) return Promise.resolve({ value: batch, done: false });
        if (this.closing) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.waiters.push(resolve));
      },
      return: async () => {
        await this.close();
        return { value: undefined, done: true };
      },
    };
  }

  /**
   * Graceful shutdown: stops reading, lets the batches in hand finish (until their leases would
   * run out), gives unread queued batches back, releases the leases and leaves the group.
   */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    this.wakeMembership?.();
    await this.membership;
    // Batches never handed out go back to the pending list for the next owner.
    for (const batch of this.ready.splice(0)) this.release(this.stateOf(batch));
    for (const resolve of this.waiters.splice(0)) resolve({ value: undefined, done: true });
    await Promise.all([...this.owned.values()].map((s) => this.stopPartition(s, 'close')));
    await Promise.all(this.stopping.values());
    await this.callQuietly(() =>
      this.redis.heartbeat(membersKey(this.options.name, this.options.group), this.id, 0),
    );
    this.waits.close();
  }

  private async membershipLoop(): Promise<void> {
    while (!this.closing) {
      try {
        await this.rebalance();
      } catch (error) {
        this.report(wrapConnectionError('heartbeat', error));
      }
      if (this.closing) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.heartbeatMs);
        this.wakeMembership = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  private async rebalance(): Promise<void> {
    const { name, group, partitions, leaseMs } = this.options;
    const members = await this.redis.heartbeat(membersKey(name, group), this.id, leaseMs);
    if (this.closing) return;
    const mine = new Set(assignedPartitions(members, partitions, this.id));
    await Promise.all([...this.owned.values()].map((s) => this.renew(s)));
    for (const state of this.owned.values()) {
      if (!mine.has(state.partition)) void this.stopPartition(state, 'rebalance');
    }
    const wanted = [...mine].filter((p) => !this.owned.has(p) && !this.stopping.has(p));
    await Promise.all(wanted.map((p) => this.tryAcquire(p)));
  }

  private async tryAcquire(partition: number): Promise<void> {
    const keys = partitionKeys(this.options.name, partition);
    const startedAt = Date.now();
    const epoch = await this.redis.acquireLease(keys.lease, keys.epoch, this.id, this.options.leaseMs);
    if (epoch === ScriptCode.HeldByOther || this.closing) {
      if (epoch > 0) await this.redis.releaseLease(keys.lease, leaseToken(epoch, this.id));
      return;
    }
    const state: PartitionState = {
      partition,
      keys,
      epoch,
      token: leaseToken(epoch, this.id),
      validUntil: startedAt + this.options.leaseMs,
      active: true,
      inFlight: 0,
      recovering: true,
      isolate: false,
      cursor: '0-0',
      failures: 0,
      retryAt: 0,
    };
    this.owned.set(partition, state);
    this.emit('assigned', partition, epoch);
    state.loop = this.readLoop(state);
  }

  private async renew(state: PartitionState): Promise<void> {
    const startedAt = Date.now();
    const result = await this.redis.renewLease(state.keys.lease, state.token, this.options.leaseMs);
    if (result === ScriptCode.LeaseLost) this.lose(state);
    else state.validUntil = startedAt + this.options.leaseMs;
  }

  /** The lease is gone: stop at once; in-flight batches will fail their fenced writes. */
  private lose(state: PartitionState): void {
    if (!state.active && this.owned.get(state.partition) !== state) return;
    state.active = false;
    state.wake?.();
    if (this.owned.get(state.partition) === state) {
      this.owned.delete(state.partition);
      this.emit('revoked', state.partition, 'lease-lost');
    }
  }

  /** Hands a partition over: stop reading, let batches in hand settle, then release the lease. */
  private stopPartition(state: PartitionState, reason: RevokeReason): Promise<void> {
    const running = this.stopping.get(state.partition);
    if (running) return running;
    const stop = (async () => {
      state.active = false;
      state.wake?.();
      await state.loop;
      while (state.inFlight > 0 && Date.now() < state.validUntil) await sleep(5);
      if (this.owned.get(state.partition) === state) {
        this.owned.delete(state.partition);
        await this.callQuietly(() => this.redis.releaseLease(state.keys.lease, state.token));
        this.emit('revoked', state.partition, reason);
      }
    })().finally(() => this.stopping.delete(state.partition));
    this.stopping.set(state.partition, stop);
    return stop;
  }

  private async readLoop(state: PartitionState): Promise<void> {
    let backoff = 50;
    while (state.active && !this.closing) {
      if (Date.now() >= state.validUntil) {
        this.lose(state);
        break;
      }
      const mustWait =
        state.inFlight >= this.options.maxInFlight ||
        (state.recovering && (state.inFlight > 0 || Date.now() < state.retryAt));
      if (mustWait) {
        await this.waitForSlot(state);
        continue;
      }
      try {
        const batch = state.recovering ? await this.recover(state) : await this.readNew(state);
        backoff = 50;
        if (batch && state.active && !this.closing) this.push(state, batch);
      } catch (error) {
        // A read that failed may still have run in Redis: `checkRead` finds that out on the
        // next read (the group moved) and the partition resyncs then; a claim is sent again.
        if (isMissingGroup(error)) {
          await this.callQuietly(() =>
            ensureGroup(this.redis, state.keys.stream, this.options.group, this.options.startId),
          );
        } else {
          this.report(wrapConnectionError(`read of partition ${state.partition}`, error));
        }
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 2000);
      }
    }
    // Not read here any more: its wait connection goes, unless the partition was taken again.
    const current = this.owned.get(state.partition);
    if (current === undefined || current === state) this.waits.release(state.partition);
  }

  /**
   * The group moved since this consumer last saw it: a read whose reply was lost delivered
   * entries nobody saw (they are pending, and newer entries read past them would move a
   * processor's checkpoint beyond them, so that a later recovery would skip them as applied), or
   * the group was reset or recreated. So the partition claims its pending entries again, once
   * the batches in hand are settled, before it reads anything new; the end of that scan tells
   * where the group is now.
   */
  private resync(state: PartitionState): void {
    state.recovering = true;
    state.cursor = '0-0';
  }

  private waitForSlot(state: PartitionState): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.options.blockMs);
      function done() {
        clearTimeout(timer);
        state.wake = undefined;
        resolve();
      }
      state.wake = done;
    });
  }

  /**
   * Reads new entries in one transaction with the lease and position check (`checkRead-2.lua`),
   * from where this consumer last saw the group; when there are none, waits for a newer entry
   * with a plain XREAD BLOCK, which hands nothing to the group (a stalled zombie's late wait takes
   * no entries from the partition's real owner).
   */
  private async readNew(state: PartitionState): Promise<Batch | undefined> {
    const { group, batchSize, blockMs } = this.options;
    const keys = state.keys;
    const replies = await this.redis
      .multi()
      .checkRead(keys.stream, keys.lease, group, state.token, state.position ?? '')
      .xreadgroup('GROUP', group, this.id, 'COUNT', batchSize, 'STREAMS', keys.stream, '>')
      .xrevrange(keys.stream, '+', '-', 'COUNT', 1)
      .exec();
    if (!replies) throw new Error(`the read of partition ${state.partition} was discarded`);
    const [[checkError, check], [readError, read], [, newest]] = replies as [
      [Error | null, number],
      [Error | null, [string, RawEntry[]][] | null],
      [Error | null, RawEntry[]],
    ];
    if (checkError) throw checkError;
    // What the read delivered despite a failed check stays pending: the scan that follows claims it.
    if (check === ScriptCode.LeaseLost) {
      this.lose(state);
      return undefined;
    }
    if (check === ScriptCode.GroupMoved) {
      this.resync(state);
      return undefined;
    }
    if (readError) throw readError;
    const raw = read?.[0]?.[1] ?? [];
    if (raw.length > 0) {
      state.position = raw[raw.length - 1]![0];
      return this.makeBatch(
        state,
        raw.map((r) => decodeEntry(r, 1)),
        false,
      );
    }
    await this.waits.wait(state.partition, keys.stream, newest?.[0]?.[0] ?? '0-0', blockMs);
    return undefined;
  }

  /**
   * Claims the partition's pending entries (left by a dead owner, or given back by `nack`),
   * dead-letters those delivered too often, and returns the rest as a batch.
   */
  private async recover(state: PartitionState): Promise<Batch | undefined> {
    const { group, batchSize, maxDeliveries } = this.options;
    const count = state.isolate ? 1 : batchSize;
    const reply = await this.redis.claimPending(
      state.keys.stream,
      state.keys.lease,
      group,
      this.id,
      state.token,
      state.cursor,
      count,
    );
    if (reply === ScriptCode.LeaseLost) {
      this.lose(state);
      return undefined;
    }
    const [cursor, claimed, , position] = reply as [string, (RawEntry | null)[], string[], string];
    // The scan moves on only once this page is handled: if a step below fails, the same page is
    // claimed again (the claim is idempotent), or its entries would stay pending, unseen.
    const advance = () => {
      state.cursor = cursor;
      if (cursor === '0-0') {
        state.recovering = false;
        state.isolate = false;
        state.position = position;
      }
    };
    const raw = claimed.filter((r): r is RawEntry => r !== null);
    if (raw.length === 0) {
      advance();
      return undefined;
    }
    const deliveries = await this.deliveryCounts(state, raw[0]![0], raw[raw.length - 1]![0], raw.length);
    const entries = raw.map((r) => decodeEntry(r, deliveries.get(r[0]) ?? 1));
    // The claim that finds an entry over the limit counted one delivery that never reached a
    // handler: record the number of times it was really handed out.
    const poison = entries
      .filter((e) => e.deliveries > maxDeliveries)
      .map((e) => ({ ...e, deliveries: e.deliveries - 1 }));
    if (poison.length > 0) {
      const moved = await this.moveToDeadLetters(
        state.keys,
        state.token,
        poison,
        `delivered ${maxDeliveries} times without being acknowledged`,
      );
      if (moved === ScriptCode.LeaseLost) {
        this.lose(state);
        return undefined;
      }
      this.emit(
        'deadLettered',
        state.partition,
        poison.map((e) => e.id),
      );
    }
    advance();
    const healthy = entries.filter((e) => e.deliveries <= maxDeliveries);
    return healthy.length > 0 ? this.makeBatch(state, healthy, true) : undefined;
  }

  private async deliveryCounts(
    state: PartitionState,
    first: string,
    last: string,
    count: number,
  ): Promise<Map<string, number>> {
    const rows = (await this.redis.call(
      'XPENDING',
      state.keys.stream,
      this.options.group,
      first,
      last,
      count,
      this.id,
    )) as [string, string, number, number][];
    return new Map(rows.map(([id, , , deliveries]) => [id, Number(deliveries)]));
  }

  private moveToDeadLetters(
    keys: PartitionKeys,
    token: string,
    entries: readonly StreamEntry[],
    reason: string,
  ): Promise<number> {
    const triples = entries.flatMap((e) => [e.id, e.deliveries, reason]);
    return this.redis.deadLetter(keys.stream, keys.lease, keys.dlq, this.options.group, token, ...triples);
  }

  private makeBatch(state: PartitionState, entries: StreamEntry[], redelivered: boolean): Batch {
    return {
      partition: state.partition,
      stream: state.keys.stream,
      entries,
      firstId: entries[0]!.id,
      lastId: entries[entries.length - 1]!.id,
      epoch: state.epoch,
      token: state.token,
      redelivered,
    };
  }

  private push(state: PartitionState, batch: Batch): void {
    state.inFlight++;
    this.batchStates.set(batch, state);
    const waiter = this.waiters.shift();
    if (waiter) waiter({ value: batch, done: false });
    else this.ready.push(batch);
  }

  private release(state: PartitionState): void {
    state.inFlight = Math.max(0, state.inFlight - 1);
    state.wake?.();
  }

  private stateOf(batch: Batch): PartitionState {
    const state = this.batchStates.get(batch);
    if (!state) throw new TypeError('this batch was not read by this consumer');
    return state;
  }

  private leaseLost(state: PartitionState, batch: Batch): LeaseLostError {
    this.lose(state);
    return new LeaseLostError(batch.partition, batch.epoch);
  }

  private async callQuietly(call: () => Promise<unknown>): Promise<void> {
    try {
      await call();
    } catch (error) {
      this.report(wrapConnectionError('shutdown', error));
    }
  }

  private report(error: unknown): void {
    const err = error instanceof Error ? error : new Error(String(error));
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else process.emitWarning(err);
  }
}

const CONNECTION_FAILURE =
  /ECONNREFUSED|ECONNRESET|EPIPE|Connection is closed|Stream isn't writeable|max retries/i;

function wrapConnectionError(operation: string, error: unknown): unknown {
  const message = error instanceof Error ? `${error.name} ${error.message}` : String(error);
  return CONNECTION_FAILURE.test(message) ? new ConnectionLostError(operation, error) : error;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function validate(options: Required<ConsumerOptions>): void {
  if (!Number.isFinite(options.redeliveryDelayMs) || options.redeliveryDelayMs < 0) {
    throw new InvalidOptionError('redeliveryDelayMs', 'a non-negative number', options.redeliveryDelayMs);
  }
  const positive: (keyof ConsumerOptions)[] = [
    'partitions',
    'batchSize',
    'leaseMs',
    'heartbeatMs',
    'maxDeliveries',
    'maxInFlight',
  ];
  for (const key of positive) {
    const value = options[key];
    if (!Number.isInteger(value) || (value as number) < 1) {
      throw new InvalidOptionError(key, 'a positive integer', value);
    }
  }
  // BLOCK 0 would wait forever and make shutdown hang.
  if (!Number.isInteger(options.blockMs) || options.blockMs < 1) {
    throw new InvalidOptionError('blockMs', 'a positive integer', options.blockMs);
  }
  if (options.heartbeatMs >= options.leaseMs) {
    throw new InvalidOptionError(
      'heartbeatMs',
      `less than leaseMs (${options.leaseMs})`,
      options.heartbeatMs,
    );
  }
}
