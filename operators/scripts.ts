/**
 * The operators' Lua scripts, registered on a client with the consumer-groups loader (they share
 * its `holdsLease` include), and typed as ioredis commands.
 */
import { fileURLToPath } from 'node:url';
import type { Cluster, Redis, Result } from 'ioredis';
import {
  defineScripts,
  PACKAGE_LUA_DIR,
  readScripts,
  type ScriptSource,
} from 'redis-streams-consumer-groups';

const LUA_DIR = fileURLToPath(new URL('./lua/', import.meta.url));
let scripts: ScriptSource[] | undefined;

/** Registers the operators' scripts on a client (once per client). */
export function defineOperatorScripts(redis: Redis | Cluster): void {
  scripts ??= readScripts(LUA_DIR, [PACKAGE_LUA_DIR]);
  defineScripts(redis, scripts);
}

/** What `applyBatch` answers: applied (with the windows marked and duplicates), or a negative code. */
export type ApplyReply = [1, string[], number] | number;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    applyBatch(
      stream: string,
      lease: string,
      checkpoint: string,
      late: string,
      dlq: string,
      args: (string | number)[],
    ): Result<ApplyReply, Context>;
    neighbours(
      scores: string,
      score: string,
      userId: string,
      n: number,
      order: string,
    ): Result<[number, string[], string[]], Context>;
    writeSnapshot(
      snapshot: string,
      channel: string,
      ...args: string[]
    ): Result<[1, number] | [0, 'covered' | 'crossed'], Context>;
    localTop(
      scores: string,
      checkpoint: string,
      k: number,
      order: string,
    ): Result<[string, string[]], Context>;
    registerReplay(
      registration: string,
      checkpoint: string,
      ...args: (string | number)[]
    ): Result<[0 | 1, string], Context>;
    replayBatch(registration: string, args: (string | number)[]): Result<[1, number] | -1, Context>;
    finishReplay(registration: string, ...args: string[]): Result<string[] | -1, Context>;
  }
}
