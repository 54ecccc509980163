/**
 * The operators' Lua scripts, registered on a client with the consumer-groups loader (they share
 * its includes), and typed as ioredis commands. A script named `<name>-n.lua` takes a variable
 * number of keys: its caller passes the count first.
 */
import { fileURLToPath } from 'node:url';
import type { Cluster, Redis, Result } from 'ioredis';
import {
  defineScripts,
  PACKAGE_LUA_DIR,
  readScripts,
  type ScriptSource,
} from 'redis-streams-consumer-groups';

const LUA_DIR = fileURLToPath(new URL('../lua/', import.meta.url));
let scripts: ScriptSource[] | undefined;

/**
 * Registers the operators' scripts on a client (once per client), or only those named: a client
 * should carry only the scripts it calls (ioredis copies every defined script onto each pipeline).
 *
 * @example
 * defineOperatorScripts(redis, ['writeSnapshot']);
 */
export function defineOperatorScripts(redis: Redis | Cluster, only?: readonly string[]): void {
  scripts ??= readScripts(LUA_DIR, [PACKAGE_LUA_DIR]);
  defineScripts(redis, only ? scripts.filter((s) => only.includes(s.name)) : scripts);
}

/** What `applyState` answers: applied (the pairs marked, duplicates), or a negative code. */
export type ApplyReply = [1, number[], number] | number;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    applyState(numKeys: number, ...keysAndArgs: string[]): Result<ApplyReply, Context>;
    writeSnapshot(
      snapshot: string,
      channel: string,
      ...args: string[]
    ): Result<[1, number] | [0, 'covered' | 'crossed'], Context>;
    registerReplay(
      registration: string,
      checkpoint: string,
      ...args: (string | number)[]
    ): Result<[0 | 1, string], Context>;
    finishReplay(numKeys: number, ...keysAndArgs: string[]): Result<string[] | number, Context>;
    hideMember(numKeys: number, ...keysAndArgs: string[]): Result<[number, number], Context>;
    ackApplied(
      stream: string,
      lease: string,
      checkpoint: string,
      group: string,
      token: string,
      ...ids: string[]
    ): Result<[string, string, number] | -1, Context>;
  }
}
