/** Helpers for the package's tests: child consumer processes and waiting for conditions. */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export interface ChildMessage {
  type: string;
  partition?: number;
  epoch?: number;
  ids?: string[];
  leaseLost?: boolean;
  reason?: string;
  message?: string;
}

export interface ConsumerChild {
  process: ChildProcess;
  messages: ChildMessage[];
  /** Resolves with the first message (already received or coming) that matches. */
  waitFor(match: (m: ChildMessage) => boolean, timeoutMs?: number): Promise<ChildMessage>;
}

const FIXTURE = fileURLToPath(new URL('./fixtures/consumerProcess.ts', import.meta.url));

export function spawnConsumer(env: Record<string, string>): ConsumerChild {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const messages: ChildMessage[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      messages.push(JSON.parse(line) as ChildMessage);
    } catch {
      // not one of ours (a warning printed by a library)
    }
  });
  return {
    process: child,
    messages,
    waitFor: (match, timeoutMs = 20_000) =>
      waitUntil(() => messages.find(match), timeoutMs, 'child consumer message'),
  };
}

/** Polls until `probe` returns a value other than undefined/false. */
export async function waitUntil<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}
