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

/**
 * Registers scripts as commands on a client, once per client and name.
 *
 * @example
 * defineScripts(redis, readScripts(dir));
 * await redis.ackBatch(streamKey, leaseKey, group, token, ...ids);
 */
export function defineScripts(redis: Redis | Cluster, scripts: ScriptSource[]): void {
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
