/**
 * read-heavy: top-K reads at a constant arrival rate, live (SSE) listeners on
 * GET /v1/boards/:board/live, and a trickle of writes that keeps the board (and the streams)
 * changing. The numbers are in scenarios.json ("read-heavy").
 *
 * k6 has no streaming HTTP client: a listener holds the stream open for `listen` and the request
 * timeout cuts it (see listenLive in common.js). Each cut is logged by k6 as a "request timeout"
 * warning; that is expected. live_streams_ok counts windows that got the snapshot event,
 * live_updates the `top` events after it.
 *
 *   k6 run -e BASE_URL=http://127.0.0.1:3000 -e API_KEY=<key> loadtest/k6/read-heavy.js
 */
import { check } from 'k6';
import exec from 'k6/execution';
import { listenLive, optionsFor, prepare, recordLive, sendFromMix } from './common.js';

const TEST = 'read-heavy';

export const options = optionsFor(TEST);

export function setup() {
  return prepare(TEST);
}

export function traffic() {
  const sent = sendFromMix(TEST, exec.scenario.name);
  check(sent.response, sent.checks, { kind: sent.kind });
}

export function listen() {
  const heard = listenLive(TEST, exec.scenario.name);
  const ok = check(
    heard.response,
    { 'live: top event received': () => heard.topEvents >= 1 },
    { kind: 'live' },
  );
  recordLive(ok, heard.topEvents);
}
