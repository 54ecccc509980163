/**
 * ingest-spike: bursty writes. Single events (POST /v1/boards/:board/events) and 100-event batches
 * (POST /v1/events) on ramping arrival rates: a hold, a spike within seconds, a hold at the peak,
 * and the fall back. The numbers are in scenarios.json ("ingest-spike").
 *
 *   k6 run -e BASE_URL=http://127.0.0.1:3000 -e API_KEY=<key> loadtest/k6/ingest-spike.js
 */
import { check } from 'k6';
import exec from 'k6/execution';
import { optionsFor, prepare, sendFromMix } from './common.js';

const TEST = 'ingest-spike';

export const options = optionsFor(TEST);

export function setup() {
  return prepare(TEST);
}

export function traffic() {
  const sent = sendFromMix(TEST, exec.scenario.name);
  check(sent.response, sent.checks, { kind: sent.kind });
}
