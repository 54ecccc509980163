/**
 * A mark scenario (constant-vus): freshness probes. Each virtual user opens the board's live
 * (SSE) stream for the scenario's `listen` window, sends a marker event `markAfter` into it (a
 * fresh user at rank 1, built by plan.js), reads the stream as it comes, and at the window's end
 * finds the first `top` event listing the marker; then it opens the next window, until the
 * scenario's duration is over (a window started before the end runs to its end, as a k6 iteration
 * does). Same requests, checks and metrics as `markLive` in the k6 scripts: live_freshness is the
 * time from sending the marker to that event's `updatedAt`. Reading the stream as it arrives, this
 * runner also records when the event got here (`deliveredMs`), which k6 cannot.
 */
import { request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoadedDefinition, ScenarioDefinition } from './definition.js';
import {
  countStatus,
  emptyProbeStats,
  type FreshnessStats,
  type KindStats,
  type ProbeStats,
  recordCheck,
} from './stats.js';
import { requestHeaders, type Target } from './target.js';

export const MARKER_CHECK = 'live: marker listed after the first top event';

export async function runMarkers(
  loaded: LoadedDefinition,
  target: Target,
  name: string,
  scenario: ScenarioDefinition,
  freshness: FreshnessStats,
  markers: KindStats,
): Promise<void> {
  const { plan } = loaded;
  freshness.scenarios[name] ??= emptyProbeStats();
  const probes = freshness.scenarios[name]!;
  const end = Date.now() + plan.parseDuration(scenario.duration!);
  const windowMs = plan.parseDuration(scenario.listen!);
  const markAfterMs = plan.parseDuration(scenario.markAfter!);
  const probe = async (vu: number) => {
    for (let iteration = 0; Date.now() < end; iteration++) {
      const heard = await probeOnce(
        loaded,
        target,
        windowMs,
        markAfterMs,
        `${name}-${vu}-${iteration}`,
        markers,
      );
      record(probes, freshness, heard);
    }
  };
  await Promise.all(Array.from({ length: scenario.vus ?? 1 }, (_, vu) => probe(vu + 1)));
}

function record(probes: ProbeStats, freshness: FreshnessStats, heard: Heard): void {
  probes.windows++;
  countStatus(probes.statuses, heard.status);
  if (heard.error) probes.errors++;
  const { sighting } = heard;
  if (sighting.inFirst) probes.inFirst++;
  const seen = heard.status === 200 && sighting.index >= 0 && !sighting.inFirst;
  recordCheck(freshness.checks, MARKER_CHECK, seen);
  if (!seen) return;
  probes.seen++;
  probes.freshnessMs.push(sighting.freshnessMs);
  probes.deliveredMs.push(heard.receivedAt[sighting.index]! - heard.sentAt);
}

interface Heard {
  /** 0 when no answer came. */
  status: number;
  /** The stream failed before the window's end. */
  error: boolean;
  sentAt: number;
  /** Arrival time (epoch ms) of each complete event, in order. */
  receivedAt: number[];
  sighting: ReturnType<LoadedDefinition['plan']['markerSighting']>;
}

/** One window: the stream opened, the marker sent into it, the stream read until the window ends. */
async function probeOnce(
  loaded: LoadedDefinition,
  target: Target,
  windowMs: number,
  markAfterMs: number,
  tag: string,
  markers: KindStats,
): Promise<Heard> {
  const { plan, definition } = loaded;
  const opened = Date.now();
  const stream = openStream(loaded, target, windowMs);
  await sleep(markAfterMs);
  const sentAt = Date.now();
  const marker = plan.markerRequest(definition, tag, sentAt);
  await sendMarker(loaded, target, marker, markers);
  await sleep(Math.max(0, opened + windowMs - Date.now()));
  const heard = stream.close();
  return {
    status: heard.status,
    error: heard.error,
    sentAt,
    receivedAt: heard.receivedAt,
    sighting: plan.markerSighting(heard.events, marker.userId, sentAt),
  };
}

async function sendMarker(
  loaded: LoadedDefinition,
  target: Target,
  marker: ReturnType<LoadedDefinition['plan']['markerRequest']>,
  stats: KindStats,
): Promise<void> {
  const checks = Object.entries(loaded.plan.checksFor('marker', loaded.definition));
  const started = performance.now();
  try {
    const response = await fetch(target.url + marker.path, {
      method: marker.method,
      headers: requestHeaders(target, marker.key, true),
      body: marker.body,
    });
    const text = await response.text();
    stats.responses++;
    stats.latencies.push(performance.now() - started);
    countStatus(stats.statuses, response.status);
    if (response.status < 200 || response.status >= 300) stats.non2xx++;
    let body: unknown = null;
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
    for (const [name, check] of checks) recordCheck(stats.checks, name, check(response.status, body));
  } catch {
    stats.errors++;
    for (const [name] of checks) recordCheck(stats.checks, name, false);
  }
}

interface Stream {
  close(): {
    status: number;
    error: boolean;
    events: ReturnType<LoadedDefinition['plan']['sseEvents']>;
    receivedAt: number[];
  };
}

/** The live stream, its events parsed as they arrive and stamped with their arrival time. */
function openStream(loaded: LoadedDefinition, target: Target, windowMs: number): Stream {
  const { plan, definition } = loaded;
  const live = plan.liveRequest(definition);
  const headers = { ...requestHeaders(target, live.key, false), accept: 'text/event-stream' };
  const events: ReturnType<typeof plan.sseEvents> = [];
  const receivedAt: number[] = [];
  let status = 0;
  let error = false;
  let closed = false;
  let pending = '';
  const request = httpRequest(new URL(live.path, target.url), { headers, agent: false }, (response) => {
    status = response.statusCode ?? 0;
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      const now = Date.now();
      pending += chunk;
      const cut = completeEventsEnd(pending);
      if (cut < 0) return;
      for (const event of plan.sseEvents(pending.slice(0, cut))) {
        events.push(event);
        receivedAt.push(now);
      }
      pending = pending.slice(cut);
    });
    // A stream that ends before the window does is a broken stream.
    response.on('end', () => {
      if (!closed) error = true;
    });
    response.on('error', () => {
      if (!closed) error = true;
    });
  });
  request.on('error', () => {
    if (!closed) error = true;
  });
  // Never longer than the window and a margin, whatever happens to the marker's request.
  const guard = setTimeout(() => request.destroy(), windowMs + 10_000);
  request.end();
  return {
    close() {
      closed = true;
      clearTimeout(guard);
      request.destroy();
      return { status, error, events, receivedAt };
    },
  };
}

/** Where the last complete event of a piece of an SSE stream ends (after its blank line); -1: none. */
function completeEventsEnd(text: string): number {
  const lf = text.lastIndexOf('\n\n');
  const crlf = text.lastIndexOf('\r\n\r\n');
  return Math.max(lf < 0 ? -1 : lf + 2, crlf < 0 ? -1 : crlf + 4);
}
