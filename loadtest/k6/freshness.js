/**
 * freshness: how soon a user sees a score change on the live stream, while ingest spikes tenfold.
 * Single events and 100-event batches ramp from their base rate to ten times it and back; meanwhile
 * probes listen on GET /v1/boards/:board/live and, a moment into each listening window, send a
 * marker event (a fresh user at rank 1). live_freshness is the time from sending the marker to the
 * `updatedAt` of the first `top` event listing it; live_markers_seen, the share of windows whose
 * marker showed (after the snapshot sent at connection). One probe scenario runs before the spike,
 * one from the start of the ramp to the end of the peak, so thresholds can judge each
 * (`live_freshness{scenario:markers_spike}`). The numbers are in scenarios.json ("freshness").
 *
 *   k6 run -e BASE_URL=http://127.0.0.1:3000 -e API_KEY=<key> loadtest/k6/freshness.js
 */
import { check } from 'k6';
import exec from 'k6/execution';
import { markLive, optionsFor, prepare, recordMarker, sendFromMix } from './common.js';

const TEST = 'freshness';

export const options = optionsFor(TEST);

export function setup() {
  return prepare(TEST);
}

export function traffic() {
  const sent = sendFromMix(TEST, exec.scenario.name);
  check(sent.response, sent.checks, { kind: sent.kind });
}

export async function mark() {
  const probe = await markLive(TEST, exec.scenario.name);
  check(probe.sent, probe.checks, { kind: 'marker' });
  const seen = check(
    probe.heard,
    {
      'live: marker listed after the first top event': () =>
        probe.sighting.index >= 0 && !probe.sighting.inFirst,
    },
    { kind: 'live' },
  );
  recordMarker(seen, probe.sighting);
}
