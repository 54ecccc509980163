/** Types of `plan.js` and of the definition in `scenarios.json`, for the Node runner. */

export type RequestKind = 'ingest' | 'batch' | 'top' | 'rank' | 'friends';
export type Executor = 'ramping-arrival-rate' | 'constant-arrival-rate' | 'constant-vus';
export type Random = () => number;

export interface Stage {
  duration: string;
  target: number;
}

export type Exec = 'traffic' | 'listen' | 'mark';

export interface ScenarioDefinition {
  executor: Executor;
  exec: Exec;
  startTime?: string;
  gracefulStop?: string;
  timeUnit?: string;
  startRate?: number;
  rate?: number;
  duration?: string;
  stages?: Stage[];
  preAllocatedVUs?: number;
  maxVUs?: number;
  vus?: number;
  /** Weights of the request kinds (traffic scenarios). */
  mix?: Partial<Record<RequestKind, number>>;
  /** How long one listener keeps its stream open (listen and mark scenarios). */
  listen?: string;
  /** How far into each listening window the marker event goes out (mark scenarios). */
  markAfter?: string;
}

/** A k6 threshold: an expression such as 'p(99)<250', or k6's object form. */
export type Threshold = string | { threshold: string; abortOnFail?: boolean; delayAbortEval?: string };

export interface TestDefinition {
  description: string;
  /** Share (0..1) of the planned requests that may go unsent; default 0. */
  maxDropped?: number;
  scenarios: Record<string, ScenarioDefinition>;
  thresholds: Record<string, Threshold[]>;
}

export interface Definition {
  board: {
    id: string;
    policy: string;
    order: string;
    windows: string[];
    topK: number;
    graceSeconds: number;
    retentionDays: number;
  };
  data: {
    users: number;
    seedBatchSize: number;
    friendLists: number;
    friendsPerUser: number;
    readyTimeout: string;
  };
  requests: { window: string; valueMax: number; batchSize: number; topK: number; friendsK: number };
  tests: Record<string, TestDefinition>;
}

export interface PlannedRequest {
  kind: RequestKind | 'live' | 'marker';
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  /** The path with ids replaced, to group metrics. */
  name: string;
  body: string | null;
  key: 'ingest' | 'read';
  status: number;
}

/** A marker event: a PlannedRequest with the fresh user it scores. */
export interface MarkerRequest extends PlannedRequest {
  kind: 'marker';
  userId: string;
}

export interface SseEvent {
  event: string;
  id: string | null;
  data: string;
}

export interface MarkerSighting {
  /** Position in the events of the first `top` event listing the marker; -1: none. */
  index: number;
  /** That event is the window's first `top` event (the snapshot sent at connection). */
  inFirst: boolean;
  /** Its `updatedAt` (epoch ms, server clock); null when not seen. */
  appearedAt: number | null;
  /** appearedAt - sentAt; NaN when not seen. */
  freshnessMs: number;
}

export type Check = (status: number, body: unknown) => boolean;

export interface Scales {
  duration?: number;
  rate?: number;
}

export const REQUEST_KINDS: RequestKind[];
export const LIVE_KIND: 'live';
export const MARKER_KIND: 'marker';
export const LIVE_METRICS: { streamsOk: string; updates: string; markersSeen: string; freshness: string };
export const EXECUTORS: Record<Executor, Exec[]>;
export const MIN_K6_VERSION: string;

export function parseDuration(text: string): number;
export function formatDuration(ms: number): string;
export function testOf(definition: Definition, name: string): TestDefinition;
export function scaledTest(definition: Definition, name: string, scales?: Scales): TestDefinition;
export function testSeconds(test: TestDefinition): number;
export function plannedIterations(test: TestDefinition): number;
export function testThresholds(test: TestDefinition): Record<string, Threshold[]>;
export function testKinds(test: TestDefinition): (RequestKind | 'live' | 'marker')[];
export function k6Options(definition: Definition, name: string, scales?: Scales): Record<string, unknown>;
export function needsFriendLists(test: TestDefinition): boolean;
export function userId(n: number): string;
export function pickKind(mix: Partial<Record<RequestKind, number>>, random: Random): RequestKind;
export function seedBatches(definition: Definition, random: Random): string[];
export function friendsOf(definition: Definition, owner: number): string[];
export function friendListRequests(definition: Definition): { method: 'PUT'; path: string; body: string }[];
export function buildRequest(kind: RequestKind, definition: Definition, random: Random): PlannedRequest;
export function liveRequest(definition: Definition): PlannedRequest;
export function checksFor(kind: RequestKind | 'marker', definition: Definition): Record<string, Check>;
export function countTopEvents(text: string): number;
export function markerRequest(definition: Definition, tag: string, sentAt: number): MarkerRequest;
export function sseEvents(text: string): SseEvent[];
export function markerSighting(events: readonly SseEvent[], userId: string, sentAt: number): MarkerSighting;
export function k6VersionProblem(userAgent: string | null | undefined): string | null;
