/**
 * A listen scenario (constant-vus): each virtual user opens the board's live (SSE) stream, keeps
 * it for the scenario's `listen` time, counts the `top` events it got, closes it and opens the
 * next, until the scenario's duration is over (a window started before the end runs to its end,
 * as a k6 iteration does). Same request, check and metrics as `listenLive` in the k6 scripts.
 */
import { request as httpRequest } from 'node:http';
import type { LoadedDefinition, ScenarioDefinition } from './definition.js';
import { countStatus, type LiveStats, recordCheck } from './stats.js';
import { requestHeaders, type Target } from './target.js';

export const LIVE_CHECK = 'live: top event received';

export async function runListeners(
  loaded: LoadedDefinition,
  target: Target,
  scenario: ScenarioDefinition,
  stats: LiveStats,
): Promise<void> {
  const { plan } = loaded;
  const end = Date.now() + plan.parseDuration(scenario.duration!);
  const windowMs = plan.parseDuration(scenario.listen!);
  const listener = async () => {
    while (Date.now() < end) {
      const heard = await listenOnce(loaded, target, windowMs);
      stats.streams++;
      countStatus(stats.statuses, heard.status);
      if (heard.error) stats.errors++;
      const topEvents = plan.countTopEvents(heard.text);
      const ok = heard.status === 200 && topEvents >= 1;
      recordCheck(stats.checks, LIVE_CHECK, ok);
      if (ok) stats.ok++;
      stats.topEvents += topEvents;
      stats.updates += Math.max(0, topEvents - 1);
    }
  };
  await Promise.all(Array.from({ length: scenario.vus ?? 1 }, listener));
}

interface Heard {
  /** 0 when no answer came. */
  status: number;
  text: string;
  /** The stream failed before the window's end. */
  error: boolean;
}

function listenOnce(loaded: LoadedDefinition, target: Target, windowMs: number): Promise<Heard> {
  const live = loaded.plan.liveRequest(loaded.definition);
  const headers = { ...requestHeaders(target, live.key, false), accept: 'text/event-stream' };
  return new Promise((resolve) => {
    let status = 0;
    let text = '';
    let settled = false;
    const finish = (error: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      resolve({ status, text, error });
    };
    const request = httpRequest(new URL(live.path, target.url), { headers, agent: false }, (response) => {
      status = response.statusCode ?? 0;
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      // A stream that ends before the window does is a broken stream.
      response.on('end', () => finish(true));
      response.on('error', () => finish(true));
    });
    request.on('error', () => finish(true));
    const timer = setTimeout(() => finish(false), windowMs);
    request.end();
  });
}
