/** Helpers the routes share: JSON bodies, boards from the path, window instances, profiles. */
import type { Context } from 'hono';
import {
  type BoardConfig,
  type BoardEntry,
  type BoardWindow,
  MAX_EVENT_TIME,
  type Profile,
} from '../../leaderboard/index.js';
import { HttpError } from '../httpError.js';
import { type BodyLimit, readBody, requestHeader, tooLarge } from '../nodeRequest.js';
import type { Services } from '../services.js';
import { intParam, windowParam } from '../validation.js';

/** The body caps of the routes: single objects, and lists (batches, friend lists). */
export const SMALL_BODY: BodyLimit = { maxBytes: 64 * 1024, label: '64 KiB' };
export const LARGE_BODY: BodyLimit = { maxBytes: 8 * 1024 * 1024, label: '8 MiB' };

/**
 * The request's JSON body: 413 past `limit` (so no client makes the edge buffer an unbounded
 * body), 415 when it is not JSON, 400 when it does not parse.
 */
export async function readJson(c: Context, limit: BodyLimit): Promise<unknown> {
  const refusal = jsonHeadersRefusal((name) => requestHeader(c, name), limit);
  if (refusal) throw refusal;
  return parseJson(await readBody(c, limit));
}

/**
 * Why a request's headers rule its body out before it is read: 413 when `Content-Length` is over
 * `limit`, 415 when `Content-Type` is not JSON; undefined when they do not.
 */
export function jsonHeadersRefusal(
  header: (name: string) => string | undefined,
  limit: BodyLimit,
): HttpError | undefined {
  const declared = header('content-length');
  if (declared !== undefined && Number(declared) > limit.maxBytes) return tooLarge(limit);
  if (!JSON_TYPE.test((header('content-type') ?? '').trim())) {
    return new HttpError(
      415,
      'unsupported-media-type',
      'send the body as JSON with "Content-Type: application/json"',
    );
  }
  return undefined;
}

/** A body's text as JSON, or 400 invalid-json. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, 'invalid-json', `the body is not valid JSON: ${(error as Error).message}`);
  }
}

const JSON_TYPE = /^application\/([a-z.+-]*\+)?json\b/i;

/** The board named in the path, or 404. */
export function boardFrom(services: Services, id: string): BoardConfig {
  const board = services.boards.get(id);
  if (!board) throw new HttpError(404, 'unknown-board', `there is no board '${id}'`);
  return board;
}

/**
 * As `boardFrom`, reloading the registry once in case another process just created the board.
 * A known board is returned as is, without a promise.
 */
export function freshBoardFrom(services: Services, id: string): BoardConfig | Promise<BoardConfig> {
  return services.boards.get(id) ?? services.boards.knowsAll([id]).then(() => boardFrom(services, id));
}

export type WindowInstance = BoardWindow;

/** The window instance a read asks for: `window` (default all) containing `at` (default now). */
export function windowFrom(services: Services, c: Context, board: BoardConfig): WindowInstance {
  const window = windowParam(c.req.query('window'), board.windows);
  const at = intParam(c.req.query('at'), 'at', 0, MAX_EVENT_TIME - 1, Date.now());
  const instance = services.queries.windowAt(board.id, window, at);
  if (!instance) throw new HttpError(404, 'unknown-board', `there is no board '${board.id}'`);
  return instance;
}

export type EntryWithProfile = BoardEntry & { profile?: { name: string; avatarUrl: string | null } };

/** Attaches profiles to entries, with one batched lookup through the cache. */
export async function withProfiles(
  services: Services,
  entries: readonly BoardEntry[],
): Promise<EntryWithProfile[]> {
  if (entries.length === 0) return [];
  // Profiles decorate a read; when the store is down the read still answers, without them.
  const profiles = await services.profiles
    .get(entries.map((e) => e.userId))
    .catch(() => new Map<string, Profile>());
  return entries.map((entry) => {
    const profile = profiles.get(entry.userId);
    return profile
      ? { ...entry, profile: { name: profile.name, avatarUrl: profile.avatarUrl } }
      : { ...entry };
  });
}
