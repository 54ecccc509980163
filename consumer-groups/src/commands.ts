/**
 * Types of this package's Lua scripts as ioredis commands, so script calls are checked by the
 * compiler. Negative results are the codes of `ScriptCode`.
 */
import type { Result } from 'ioredis';
import type { RawEntry } from './entries.js';

/** Failure codes returned by the scripts. */
export enum ScriptCode {
  LeaseLost = -1,
  HeldByOther = -2,
  /** `checkRead`: the group moved since the caller last saw it (a lost reply, a reset): resync. */
  GroupMoved = -3,
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    acquireLease(lease: string, epoch: string, owner: string, ttlMs: number): Result<number, Context>;
    renewLease(lease: string, token: string, ttlMs: number): Result<number, Context>;
    releaseLease(lease: string, token: string): Result<number, Context>;
    heartbeat(members: string, member: string, ttlMs: number): Result<string[], Context>;
    ackBatch(
      stream: string,
      lease: string,
      group: string,
      token: string,
      ...ids: string[]
    ): Result<number, Context>;
    deadLetter(
      stream: string,
      lease: string,
      dlq: string,
      group: string,
      token: string,
      ...triples: (string | number)[]
    ): Result<number, Context>;
    redrive(
      dlq: string,
      stream: string,
      redriven: string,
      ...ids: string[]
    ): Result<(string | null)[], Context>;
    appendEntries(
      stream: string,
      minId: string,
      wantIds: '0' | '1',
      entriesJson: string,
    ): Result<string[] | number, Context>;
    checkRead(
      stream: string,
      lease: string,
      group: string,
      token: string,
      expectedLastDeliveredId: string,
    ): Result<number, Context>;
    claimPending(
      stream: string,
      lease: string,
      group: string,
      consumer: string,
      token: string,
      cursor: string,
      count: number,
    ): Result<[string, (RawEntry | null)[], string[], string] | number, Context>;
    groupInfo(
      stream: string,
      group: string,
    ): Result<[length: number, found: 0 | 1, pending: number, lag: number, lastDeliveredId: string], Context>;
    ensureGroup(stream: string, group: string, startId: string): Result<0 | 1, Context>;
    setGroupId(stream: string, group: string, id: string): Result<'OK', Context>;
  }
}
