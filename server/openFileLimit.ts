/**
 * The process's open-file limit (`ulimit -n`), read once, and how many connections fit under it.
 *
 * Why: every socket is a file descriptor. A process at its limit cannot accept a connection, open
 * a Redis connection or a database file: it stops answering anyone (issue 15: one client held
 * 19,871 idle sockets of a 20,000 limit and `/readyz` failed). The connection cap must stay below
 * the limit with room for everything else the process opens.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** File descriptors kept for everything but client sockets: at least this many, or an eighth. */
export const RESERVED_FILES_MIN = 256;

/**
 * Connections past the cap that are still accepted, to be answered 503 and closed; past these,
 * the kernel's connection is closed at once without an answer (`server.maxConnections`).
 */
export const REFUSAL_SLACK = 64;

/** Assumed when the limit cannot be read: the usual default soft limit. */
const FALLBACK_LIMIT = 1024;

let cached: number | undefined;

/**
 * The soft limit on open files of this process: from `/proc/self/limits` on Linux, else from the
 * shell's `ulimit -n`; 1024 when neither answers.
 *
 * @example
 * openFileLimit(); // 20000
 */
export function openFileLimit(): number {
  cached ??= fromProc() ?? fromShell() ?? FALLBACK_LIMIT;
  return cached;
}

/**
 * The most client connections a process with `limit` open files may hold: the limit less the
 * reserve and the refusal slack.
 *
 * @example
 * connectionCapacity(20_000); // 17436
 */
export function connectionCapacity(limit: number): number {
  const reserve = Math.max(RESERVED_FILES_MIN, Math.ceil(limit / 8));
  return Math.max(1, limit - reserve - REFUSAL_SLACK);
}

/**
 * `MAX_CONNECTIONS` as configured, or the capacity under the open-file limit; a configured value
 * above that capacity throws, naming both numbers (the process would run out of descriptors).
 *
 * @example
 * resolveMaxConnections(undefined, 20_000); // 17436
 */
export function resolveMaxConnections(configured: number | undefined, limit: number): number {
  const capacity = connectionCapacity(limit);
  if (configured === undefined) return capacity;
  if (configured > capacity) {
    throw new Error(
      `MAX_CONNECTIONS=${configured} does not fit under the open-file limit (ulimit -n = ${limit}): at most ${capacity} leaves room for Redis, the store and refusals; lower it or raise ulimit -n`,
    );
  }
  return configured;
}

function fromProc(): number | undefined {
  try {
    const line = /^Max open files\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return parseLimit(line?.[1]);
  } catch {
    return undefined;
  }
}

function fromShell(): number | undefined {
  try {
    return parseLimit(
      execFileSync('/bin/sh', ['-c', 'ulimit -n'], { encoding: 'utf8', timeout: 2000 }).trim(),
    );
  } catch {
    return undefined;
  }
}

function parseLimit(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  // "unlimited" cannot be for files on Linux; a cap of a million stands in for it.
  if (text === 'unlimited') return 1_000_000;
  const value = Number(text);
  return Number.isInteger(value) && value > 0 ? value : undefined;
}
