/**
 * What the k6 scripts share: the definition (scenarios.json, read once in the init context), the
 * environment, the k6 version check, set-up (board, seed scores, friend lists, wait for the
 * workers), sending one request of a scenario's mix, listening to the live stream, and the
 * freshness probes (a marker event sent while listening, and when it showed).
 *
 * Environment (k6 run -e NAME=value, or exported in the shell):
 *   BASE_URL        the service, default http://127.0.0.1:3000
 *   API_KEY         a key with the ingest scope (and admin, to create the load-test board)
 *   READ_KEY        a key with the read scope, sent with reads; unset: reads go without a key
 *                   (the default of the service: reads are open)
 *   DURATION_SCALE  multiplies every duration (0.1: a tenth of the time), default 1
 *   RATE_SCALE      multiplies every rate and VU count, default 1
 */
import { fail, sleep } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import { Counter, Rate, Trend } from 'k6/metrics';
import {
  buildRequest,
  checksFor,
  countTopEvents,
  friendListRequests,
  k6Options,
  k6VersionProblem,
  LIVE_KIND,
  LIVE_METRICS,
  liveRequest,
  MARKER_KIND,
  MIN_K6_VERSION,
  markerRequest,
  markerSighting,
  needsFriendLists,
  parseDuration,
  pickKind,
  REQUEST_KINDS,
  scaledTest,
  seedBatches,
  sseEvents,
  userId,
} from './plan.js';

// The freshness probes need http.asyncRequest (k6 v0.43.0); older k6 stop here. Newer ones that are
// still too old stop in setup(), where the version can be read (see checkK6Version).
if (typeof http.asyncRequest !== 'function') {
  throw new Error(`these scripts need k6 v${MIN_K6_VERSION} or newer (this k6 has no http.asyncRequest)`);
}

const definition = JSON.parse(open('./scenarios.json'));

const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:3000').replace(/\/+$/, '');
const API_KEY = __ENV.API_KEY || '';
const READ_KEY = __ENV.READ_KEY || '';
const SCALES = { duration: Number(__ENV.DURATION_SCALE || 1), rate: Number(__ENV.RATE_SCALE || 1) };

const SETUP_TAGS = { kind: 'setup' };
const setupStatuses = http.expectedStatuses(200, 201, 202, 403, 404);

const liveStreamsOk = new Rate(LIVE_METRICS.streamsOk);
const liveUpdates = new Counter(LIVE_METRICS.updates);
const markersSeen = new Rate(LIVE_METRICS.markersSeen);
const freshness = new Trend(LIVE_METRICS.freshness, true);

const checksByKind = {};
for (const kind of REQUEST_KINDS.concat([MARKER_KIND])) checksByKind[kind] = checksFor(kind, definition);

/** The `options` of a test: its scenarios and thresholds, scaled by DURATION_SCALE and RATE_SCALE. */
export function optionsFor(test) {
  return k6Options(definition, test, SCALES);
}

const tests = {};

/** A test of the definition with the run's scales applied (computed once per VU). */
function testFor(name) {
  if (!tests[name]) tests[name] = scaledTest(definition, name, SCALES);
  return tests[name];
}

/** Headers of a request that needs the `ingest` or the `read` key, with or without a JSON body. */
function headers(key, withBody) {
  const result = {};
  if (withBody) result['Content-Type'] = 'application/json';
  const value = key === 'ingest' ? API_KEY : READ_KEY;
  if (value) result.Authorization = `Bearer ${value}`;
  return result;
}

function json(response) {
  try {
    return response.json();
  } catch (_) {
    return null;
  }
}

/**
 * Stops the test when this k6 is older than MIN_K6_VERSION. k6 has no version in its JavaScript
 * API; the User-Agent it sent with a request carries it (unless --user-agent replaced it: then
 * the check cannot tell and lets the test run).
 */
function checkK6Version(response) {
  const problem = k6VersionProblem([].concat(response.request.headers['User-Agent'] || [])[0]);
  if (problem) fail(problem);
}

/** Creates the board (or finds it when the key lacks the admin scope). */
function ensureBoard() {
  const board = definition.board;
  const put = http.put(`${BASE_URL}/v1/boards/${board.id}`, JSON.stringify(board), {
    headers: headers('ingest', true),
    tags: SETUP_TAGS,
    responseCallback: setupStatuses,
  });
  checkK6Version(put);
  if (put.status === 200 || put.status === 201) return;
  const list = http.get(`${BASE_URL}/v1/boards`, { headers: headers('read', false), tags: SETUP_TAGS });
  const listed = json(list);
  const boards = listed === null ? [] : listed.boards || [];
  if (!boards.some((b) => b.id === board.id)) {
    fail(
      `PUT /v1/boards/${board.id} answered ${put.status} (${put.body}); API_KEY needs the admin scope to create the board`,
    );
  }
}

function seed() {
  for (const body of seedBatches(definition, Math.random)) {
    const res = http.post(`${BASE_URL}/v1/events`, body, {
      headers: headers('ingest', true),
      tags: SETUP_TAGS,
    });
    if (res.status !== 202) fail(`seeding: POST /v1/events answered ${res.status} (${res.body})`);
  }
}

function uploadFriendLists() {
  const requests = friendListRequests(definition);
  for (let start = 0; start < requests.length; start += 20) {
    const chunk = requests.slice(start, start + 20).map((r) => ({
      method: r.method,
      url: BASE_URL + r.path,
      body: r.body,
      params: { headers: headers('ingest', true), tags: SETUP_TAGS },
    }));
    for (const res of http.batch(chunk)) {
      if (res.status !== 200) fail(`friend lists: ${res.request.url} answered ${res.status} (${res.body})`);
    }
  }
}

/** Waits until the workers applied the seed: every user ranked, and a top-K snapshot published. */
function waitUntilReady() {
  const { users, readyTimeout } = definition.data;
  const { window } = definition.requests;
  const board = definition.board.id;
  const params = { headers: headers('read', false), tags: SETUP_TAGS, responseCallback: setupStatuses };
  const deadline = Date.now() + parseDuration(readyTimeout);
  while (Date.now() < deadline) {
    const last = http.get(
      `${BASE_URL}/v1/boards/${board}/users/${userId(users - 1)}?window=${window}`,
      params,
    );
    const top = http.get(`${BASE_URL}/v1/boards/${board}/top?window=${window}&k=1`, params);
    const standing = json(last);
    const snapshot = json(top);
    if (standing && standing.total >= users && snapshot && (snapshot.entries || []).length > 0) return;
    sleep(0.25);
  }
  fail(`the seeded scores were not all applied within ${readyTimeout}`);
}

/** setup(): the board, a score for every user, friend lists when the test reads them. */
export function prepare(test) {
  if (!API_KEY) fail('API_KEY is not set (k6 run -e API_KEY=<key with the ingest scope>)');
  ensureBoard();
  seed();
  if (needsFriendLists(testFor(test))) uploadFriendLists();
  waitUntilReady();
  return { baseUrl: BASE_URL };
}

/**
 * Sends one request of the scenario's mix (picked at random by weight). Returns the response, its
 * kind and the checks of its answer, for `check(response, checks, { kind })`.
 */
export function sendFromMix(test, scenario) {
  const mix = testFor(test).scenarios[scenario].mix;
  const kind = pickKind(mix, Math.random);
  const request = buildRequest(kind, definition, Math.random);
  const response = http.request(request.method, BASE_URL + request.path, request.body, {
    headers: headers(request.key, request.body !== null),
    tags: { kind, name: request.name },
  });
  const body = json(response);
  const checks = {};
  for (const [name, ok] of Object.entries(checksByKind[kind])) checks[name] = (r) => ok(r.status, body);
  return { kind, response, checks };
}

/**
 * Holds the live (SSE) stream open for the scenario's `listen` time, then cuts it: k6 has no
 * streaming HTTP client, so the request's `timeout` ends it and the response keeps the part of the
 * stream read until then (status 0, error_code 1050, and a "request timeout" warning in the log;
 * `responseCallback: null` keeps these cuts out of http_req_failed). Returns the response and the
 * number of `top` events it holds: the first is the snapshot at connection, later ones are updates.
 */
export function listenLive(test, scenario) {
  const listen = testFor(test).scenarios[scenario].listen;
  const request = liveRequest(definition);
  const response = http.get(BASE_URL + request.path, liveParams(request, listen));
  return { response, topEvents: countTopEvents(response.body) };
}

function liveParams(request, listen) {
  const requestHeaders = headers(request.key, false);
  requestHeaders.Accept = 'text/event-stream';
  return {
    headers: requestHeaders,
    timeout: parseDuration(listen),
    tags: { kind: LIVE_KIND, name: request.name },
    responseCallback: null,
  };
}

/** Records a listening window in the live metrics (thresholds live_streams_ok, live_updates). */
export function recordLive(ok, topEvents) {
  liveStreamsOk.add(ok);
  if (topEvents > 1) liveUpdates.add(topEvents - 1);
}

/**
 * A freshness probe: opens the live stream for the scenario's `listen` window (asynchronously, so
 * the VU goes on), sends a marker event `markAfter` into the window (a fresh user that takes rank
 * 1, see markerRequest in plan.js), then waits for the window's cut and finds the first `top`
 * event listing the marker. k6 cannot tell when that event arrived (it reads the stream only at
 * the cut), so "appeared at" is the event's `updatedAt`, the server's clock on the same machine.
 * Returns the marker's response and checks, and the sighting (markerSighting in plan.js).
 */
export async function markLive(test, scenario) {
  const spec = testFor(test).scenarios[scenario];
  const live = liveRequest(definition);
  const listening = http.asyncRequest('GET', BASE_URL + live.path, null, liveParams(live, spec.listen));
  sleep(parseDuration(spec.markAfter) / 1000);
  const sentAt = Date.now();
  const marker = markerRequest(definition, `${exec.vu.idInTest}-${exec.vu.iterationInScenario}`, sentAt);
  const sent = http.post(BASE_URL + marker.path, marker.body, {
    headers: headers(marker.key, true),
    tags: { kind: MARKER_KIND, name: marker.name },
  });
  const body = json(sent);
  const checks = {};
  for (const [name, ok] of Object.entries(checksByKind[MARKER_KIND]))
    checks[name] = (r) => ok(r.status, body);
  const heard = await listening;
  return { sent, checks, heard, sighting: markerSighting(sseEvents(heard.body), marker.userId, sentAt) };
}

/** Records a probe in live_markers_seen and, when the marker showed after connection, live_freshness. */
export function recordMarker(seen, sighting) {
  markersSeen.add(seen);
  if (seen) freshness.add(sighting.freshnessMs);
}
