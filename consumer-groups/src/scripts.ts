/**
 * Loads Lua scripts named `<camelName>-<numberOfKeys>.lua` (or `<camelName>-n.lua` for a script whose
 * caller passes its number of keys first) and registers each with ioredis'
 * `defineCommand`, which calls them by SHA (EVALSHA, falling back to EVAL once after a restart).
 * A line `-- @include name` is replaced by `includes/name.lua`, looked up in the given folders.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Cluster, Redis } from 'ioredis';
import { isCluster } from './cluster.js';

/** This package's own Lua folder; other packages pass it to share its `includes/`. */
export const PACKAGE_LUA_DIR = fileURLToPath(new URL('../lua/', import.meta.url));

export interface ScriptSource {
  name: string;
  /** Undefined: the caller passes the number of keys as the first argument. */
  numberOfKeys: number | undefined;
  lua: string;
}

const FILE_NAME = /^([a-z][A-Za-z0-9]*)-(\d+|n)\.lua$/;
const INCLUDE = /^--\s*@include\s+([A-Za-z0-9_]+)\s*$/gm;

/**
 * Reads every script of a folder, with includes resolved.
 *
 * @example
 * const scripts = readScripts(new URL('./lua/', import.meta.url).pathname, [PACKAGE_LUA_DIR]);
 */
export function readScripts(dir: string, includeDirs: string[] = []): ScriptSource[] {
  const searchDirs = [dir, ...includeDirs].map((d) => join(d, 'includes'));
  return readdirSync(dir)
    .map((file) => ({ file, match: FILE_NAME.exec(file) }))
    .filter((x): x is { file: string; match: RegExpExecArray } => x.match !== null)
    .map(({ file, match }) => ({
      name: match[1]!,
      numberOfKeys: match[2] === 'n' ? undefined : Number(match[2]),
      lua: resolveIncludes(readFileSync(join(dir, file), 'utf8'), searchDirs, file),
    }));
}

function resolveIncludes(lua: string, searchDirs: string[], file: string): string {
  return lua.replace(INCLUDE, (_, name: string) => {
    const found = searchDirs.map((d) => join(d, `${name}.lua`)).find((path) => existsSync(path));
    if (!found) throw new Error(`${file}: include '${name}' not found in ${searchDirs.join(', ')}`);
    return readFileSync(found, 'utf8');
  });
}

const defined = new WeakMap<object, Set<string>>();

/** The part of an auto-pipelining ioredis client that holds the pipelines of the current turn. */
interface AutoPipelines {
  _autoPipelines?: Map<string, Record<string, unknown>>;
}

/**
 * Puts a command just defined on the pipelines the client's auto-pipelining already opened in this
 * turn of the event loop. ioredis copies a client's commands onto a pipeline when it builds it, so
 * a command defined after that is missing from it, and calling it in the same turn throws inside
 * ioredis after its callback was queued: the call rejects, and when the pipeline's replies come
 * back, ioredis hands them to the callbacks one place off and throws "results[i] is not iterable"
 * out of the event loop, which ends the process (ioredis#1931).
 */
function addToOpenPipelines(redis: Redis | Cluster, name: string): void {
  const open = (redis as unknown as AutoPipelines)._autoPipelines;
  if (!open) return;
  const client = redis as unknown as Record<string, unknown>;
  const script = (redis as unknown as { scriptsSet: Record<string, { sha: string }> }).scriptsSet[name];
  for (const pipeline of open.values()) {
    pipeline[name] = client[name];
    pipeline[`${name}Buffer`] = client[`${name}Buffer`];
    const shaToScript = pipeline._shaToScript as Record<string, unknown> | undefined;
    if (shaToScript && script) shaToScript[script.sha] = script;
  }
}

/**
 * Registers scripts as commands on a client, once per client and name.
 *
 * @example
 * defineScripts(redis, readScripts(dir));
 * await redis.ackBatch(streamKey, leaseKey, group, token, ...ids);
 */
export function defineScripts(redis: Redis | Cluster, scripts: ScriptSource[]): void {
  if (isCluster(redis) && redis.options.enableAutoPipelining) {
    const unrouted = scripts.find((s) => s.numberOfKeys === undefined);
    // ioredis routes an auto-pipelined command by its first argument, here the number of keys.
    if (unrouted) {
      throw new Error(
        `script ${unrouted.name} takes its number of keys first: an auto-pipelining Cluster client cannot route it`,
      );
    }
  }
  let names = defined.get(redis);
  if (!names) {
    names = new Set();
    defined.set(redis, names);
  }
  for (const script of scripts) {
    if (names.has(script.name)) continue;
    redis.defineCommand(
      script.name,
      script.numberOfKeys === undefined
        ? { lua: script.lua }
        : { numberOfKeys: script.numberOfKeys, lua: script.lua },
    );
    addToOpenPipelines(redis, script.name);
    names.add(script.name);
  }
}

let ownScripts: ScriptSource[] | undefined;

/**
 * Registers this package's scripts on a client: all of them, or only those named. A client
 * should carry only the scripts its users call: ioredis copies every script a client defines onto
 * each pipeline it builds, and an auto-pipelining client builds one per turn of the event loop
 * (a producer's connection pays that on every append).
 *
 * @example
 * defineConsumerGroupScripts(redis, ['appendEntries']);
 */
export function defineConsumerGroupScripts(redis: Redis | Cluster, only?: readonly string[]): void {
  ownScripts ??= readScripts(PACKAGE_LUA_DIR);
  defineScripts(redis, only ? ownScripts.filter((s) => only.includes(s.name)) : ownScripts);
}
