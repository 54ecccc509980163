/**
 * What the four k6 scripts share: the definition (scenarios.json, read once in the init context),
 * the environment, set-up (board, seed scores, friend lists, wait for the workers), sending one
 * request of a scenario's mix, and listening to the live stream.
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
import http from 'k6/http';
import { Counter, Rate } from 'k6/metrics';
import {
  buildRequest,
  checksFor,
  countTopEvents,
  friendListRequests,
  k6Options,
  LIVE_KIND,
  LIVE_METRICS,
  liveRequest,
  needsFriendLists,
  parseDuration,
  pickKind,
  REQUEST_KINDS,
  scaledTest,
  seedBatches,
  userId,
} from './plan.js';

const definition = JSON.parse(open('./scenarios.json'));

const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:3000').replace(/\/+$/, '');
const API_KEY = __ENV.API_KEY || '';
const READ_KEY = __ENV.READ_KEY || '';
const SCALES = { duration: Number(__ENV.DURATION_SCALE || 1), rate: Number(__ENV.RATE_SCALE || 1) };

const SETUP_TAGS = { kind: 'setup' };
const setupStatuses = http.expectedStatuses(200, 201, 202, 403, 404);

const liveStreamsOk = new Rate(LIVE_METRICS.streamsOk);
const liveUpdates = new Counter(LIVE_METRICS.updates);

const checksByKind = {};
for (const kind of REQUEST_KINDS) checksByKind[kind] = checksFor(kind, definition);

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

/** Creates the board (or finds it when the key lacks the admin scope). */
function ensureBoard() {
  const board = definition.board;
  const put = http.put(`${BASE_URL}/v1/boards/${board.id}`, JSON.stringify(board), {
    headers: headers('ingest', true),
    tags: SETUP_TAGS,
    responseCallback: setupStatuses,
  });
  if (put.status === 200 || put.status === 201) return;
  const list = http.get(`${BASE_URL}/v1/boards`, { headers: headers('read', false), tags: SETUP_TAGS });
  const boards = json(list)?.boards || [];
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
  const requestHeaders = headers(request.key, false);
  requestHeaders.Accept = 'text/event-stream';
  const response = http.get(BASE_URL + request.path, {
    headers: requestHeaders,
    timeout: parseDuration(listen),
    tags: { kind: LIVE_KIND, name: request.name },
    responseCallback: null,
  });
  return { response, topEvents: countTopEvents(response.body) };
}

/** Records a listening window in the live metrics (thresholds live_streams_ok, live_updates). */
export function recordLive(ok, topEvents) {
  liveStreamsOk.add(ok);
  if (topEvents > 1) liveUpdates.add(topEvents - 1);
}
