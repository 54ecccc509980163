/**
 * `leaderboard work --processes N`: N worker processes on one machine, one per core by default,
 * because a worker's pipeline runs on one event loop and Node is its bound once Redis has room
 * (the partitions' leases share the work among them, as among workers on different machines).
 * This process only supervises: it forks the workers, restarts one that dies (after a second, so a
 * worker that cannot start does not spin), and passes SIGINT/SIGTERM on for their graceful stop.
 */
import { type ChildProcess, fork } from 'node:child_process';

export interface SupervisorOptions {
  processes: number;
  /** The script the children run (this CLI), and their arguments (`work --processes 1`). */
  script: string;
  args: string[];
  /** Added to this process's environment for the children. */
  env?: NodeJS.ProcessEnv;
  /** Called with each child as it starts (and each replacement), e.g. to answer its messages. */
  onChild?: (child: ChildProcess) => void;
  log?: (message: string) => void;
}

/**
 * Runs the workers until a signal stops them; resolves once every child has exited.
 *
 * @example
 * await superviseWorkers({ processes: 2, script: process.argv[1]!, args: ['work', '--processes', '1'] });
 */
export function superviseWorkers(options: SupervisorOptions): Promise<void> {
  const log = options.log ?? ((message: string) => console.log(message));
  const children = new Set<ChildProcess>();
  let stopping = false;

  const start = (slot: number) => {
    // Their own process group: a terminal's Ctrl-C reaches them once, through this process.
    const child = fork(options.script, options.args, {
      stdio: 'inherit',
      env: { ...process.env, ...options.env },
      detached: true,
    });
    children.add(child);
    options.onChild?.(child);
    child.once('exit', (code, signal) => {
      children.delete(child);
      if (stopping) return;
      log(`worker ${slot} (pid ${child.pid}) exited (${signal ?? code}); starting another in 1 s`);
      setTimeout(() => {
        if (!stopping) start(slot);
      }, 1000).unref();
    });
  };
  for (let slot = 0; slot < options.processes; slot++) start(slot);
  log(`${options.processes} worker processes started`);

  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        // Again: stop now.
        for (const child of children) child.kill('SIGKILL');
        return;
      }
      stopping = true;
      for (const child of children) child.kill(signal);
      const done = () => {
        if (children.size === 0) resolve();
      };
      for (const child of children) child.once('exit', done);
      done();
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}
