/**
 * The data that flows between the operators. Every stage works on one partition batch at a time
 * (an envelope), because the apply stage must update, checkpoint and acknowledge a whole batch in
 * one atomic script.
 */

/** How a new value combines with a user's score: `sum` adds a delta, the others replace. */
export type Policy = 'sum' | 'max' | 'min' | 'last';
/** `desc`: higher scores rank first. */
export type Order = 'desc' | 'asc';
/** The calendar windows a board keeps, in UTC. `all` never closes. */
export type WindowName = 'all' | 'day' | 'week' | 'month';

export const WINDOW_NAMES: readonly WindowName[] = ['all', 'day', 'week', 'month'];

export interface BoardConfig {
  id: string;
  policy: Policy;
  order: Order;
  windows: WindowName[];
  /** Size of the cached global top. */
  topK: number;
  /** How long after a window's end its late events are still applied. */
  graceSeconds: number;
  /** How long the scores of closed windows are kept in Redis. */
  retentionDays: number;
}

/** One score event as decoded from a stream entry. */
export interface ScoreEvent {
  board: string;
  userId: string;
  value: number;
  /** Event time, epoch milliseconds. */
  ts: number;
  eventId?: string;
  /** The stream entry ID the event came from. */
  entryId: string;
}

/** One window instance: `start` inclusive, `end` exclusive, epoch ms. `all` is [0, +Infinity). */
export interface WindowRef {
  window: WindowName;
  start: number;
  end: number;
}

/** An event with the windows it still counts in (those whose end + grace is not yet passed). */
export interface WindowedEvent {
  event: ScoreEvent;
  windows: WindowRef[];
}

/** An event (or one of its windows) that arrived after its window's end plus grace. */
export interface LateEvent {
  event: ScoreEvent;
  window: WindowName;
  windowStart: number;
  /** The partition's stream time when the event was judged late. */
  streamTime: number;
}

/** The pre-aggregated change for one (board, window instance, user) within a batch. */
export interface ScoreUpdate {
  board: string;
  window: WindowName;
  windowStart: number;
  userId: string;
  policy: Policy;
  /** For `sum` the summed delta; otherwise the winning value. */
  value: number;
  /** Event time of the winning value (for `last`), or the latest event time (others). */
  ts: number;
  /**
   * Position in the batch (index of its events) of the event that set the value: the apply stage
   * applies updates and identified events in this order, the stream's, which `last` needs to
   * settle equal event times.
   */
  pos: number;
}

/**
 * An event that carries an `eventId`. It is not folded into the aggregates, because the apply
 * script decides atomically whether it was seen in the last 24 hours and must then drop exactly it.
 */
export interface IdentifiedEvent {
  board: string;
  eventId: string;
  userId: string;
  policy: Policy;
  value: number;
  ts: number;
  /** The stream entry ID the event came from (its milliseconds are its arrival time). */
  entryId: string;
  /** Position in the batch (see {@link ScoreUpdate.pos}). */
  pos: number;
  windows: { window: WindowName; windowStart: number }[];
}

/** A partition batch as it travels through the pipeline, with the payload of the current stage. */
export interface Envelope<T> {
  partition: number;
  /** Lease epoch under which the batch was read; the apply script fences on it. */
  epoch: number;
  /** IDs of every stream entry of the batch (parsed or not), for the acknowledgement. */
  ids: string[];
  firstId: string;
  lastId: string;
  /** The lease's fencing token (`<epoch>:<consumer>`) the apply script compares. */
  token: string;
  /** Entries that cannot be processed; the apply script dead-letters them with the batch. */
  rejected: RejectedEntry[];
  payload: T;
}

/** A stream entry that failed decoding (or names no known board), with the reason. */
export interface RejectedEntry {
  id: string;
  reason: string;
}

export interface ParsedPayload {
  events: ScoreEvent[];
}

export interface WindowedPayload {
  events: WindowedEvent[];
  late: LateEvent[];
  /** Events of a board that no config knows; set aside for a later stage to dead-letter. */
  unknownBoard: ScoreEvent[];
  /** The partition's stream time (max event time seen) after this batch. */
  streamTime: number;
}

export interface AggregatedPayload {
  updates: ScoreUpdate[];
  identified: IdentifiedEvent[];
  late: LateEvent[];
  unknownBoard: ScoreEvent[];
  streamTime: number;
}

/** A (board, window instance) whose top-K a batch may have changed, for the top-K stage. */
export interface ChangedWindow {
  board: string;
  window: WindowName;
  windowStart: number;
}

/** What the apply stage reports for each partition batch it wrote. */
export interface AppliedBatch {
  partition: number;
  epoch: number;
  lastId: string;
  /** Entries in the batch (applied, late, rejected or duplicate). */
  entries: number;
  /** The windows whose top-K the batch may have changed (judged by the apply script). */
  changed: ChangedWindow[];
  late: number;
  rejected: number;
  duplicates: number;
  /** Arrival time (ms, from the entry ids) of the batch's oldest and newest entries. */
  oldestArrival: number;
  newestArrival: number;
  appliedAt: number;
}
