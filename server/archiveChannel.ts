/**
 * The archive of closed windows across the IPC channel of `work --processes N`: the embedded
 * store (PGlite) belongs to one process, so the supervisor opens it and its worker processes
 * archive through it. A closed top is a message to the supervisor, its answer a message back; the
 * sink's retries and once-only rule stay what the store gives (archiving twice changes nothing).
 */
import type { ChildProcess } from 'node:child_process';
import type { ArchiveStore, ClosedTop } from '../leaderboard/index.js';

interface ArchiveRequest {
  type: 'lb-archive';
  id: number;
  closed: ClosedTop;
}

type ArchiveReply =
  | { type: 'lb-archived'; id: number; ok: true; archived: boolean }
  | { type: 'lb-archived'; id: number; ok: false; message: string; retryable: boolean };

/** A failure the supervisor's store reported, with its verdict on retrying. */
class RemoteArchiveError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** How long a worker waits for the supervisor's answer before the sink retries, ms. */
const REPLY_TIMEOUT_MS = 30_000;

/**
 * The store a worker process archives to: its supervisor, over the process's IPC channel.
 *
 * @example
 * new LeaderboardWorkers({ redis, boards, archive: archiveOverIpc() });
 */
export function archiveOverIpc(channel: NodeJS.Process = process): ArchiveStore {
  if (!channel.send) throw new Error('this process has no IPC channel to a supervisor');
  const waiting = new Map<number, (reply: ArchiveReply) => void>();
  let nextId = 0;
  channel.on('message', (message: ArchiveReply) => {
    if (message?.type !== 'lb-archived') return;
    waiting.get(message.id)?.(message);
  });
  return {
    archive: (closed) =>
      new Promise<boolean>((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new RemoteArchiveError('the supervisor did not answer an archive request', true));
        }, REPLY_TIMEOUT_MS);
        waiting.set(id, (reply) => {
          clearTimeout(timer);
          waiting.delete(id);
          if (reply.ok) resolve(reply.archived);
          else reject(new RemoteArchiveError(reply.message, reply.retryable));
        });
        const request: ArchiveRequest = { type: 'lb-archive', id, closed };
        channel.send!(request, undefined, undefined, (error: Error | null) => {
          if (!error) return;
          clearTimeout(timer);
          waiting.delete(id);
          reject(new RemoteArchiveError(`archive request not sent: ${error.message}`, true));
        });
      }),
    isRetryable: (error) => !(error instanceof RemoteArchiveError) || error.retryable,
  };
}

/**
 * Answers a worker process's archive requests from the supervisor's store.
 *
 * @example
 * serveArchive(child, archiveStore(db));
 */
export function serveArchive(child: ChildProcess, store: ArchiveStore): void {
  child.on('message', (message: ArchiveRequest) => {
    if (message?.type !== 'lb-archive') return;
    const answer = (reply: ArchiveReply) => {
      // A worker gone meanwhile: whoever takes its partitions finds the window still due and archives
      // it again, which the store keeps once.
      if (child.connected) child.send(reply, () => {});
    };
    store.archive(message.closed).then(
      (archived) => answer({ type: 'lb-archived', id: message.id, ok: true, archived }),
      (error: unknown) =>
        answer({
          type: 'lb-archived',
          id: message.id,
          ok: false,
          message: error instanceof Error ? error.message : String(error),
          retryable: store.isRetryable?.(error) ?? true,
        }),
    );
  });
}
