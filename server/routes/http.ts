/** Helpers the routes share: JSON bodies, boards from the path, window instances, profiles. */
import type { Context } from 'hono';
import type { BoardConfig, BoardEntry, BoardWindow, Profile } from '../../leaderboard/index.js';
import { HttpError } from '../httpError.js';
import { jsonShapeExcess } from '../jsonShape.js';
import { type BodyLimit, readBody, requestHeader, tooLarge } from '../nodeRequest.js';
import type { Services } from '../services.js';
import { queryInt, userIdSchema, windowParam } from '../validation.js';

/**
 * The body caps of the routes: single objects, and lists (batches, friend lists). A batch of
 * 10,000 events of five fields holds about 60,000 values; a board's config a few dozen.
 */
export const SMALL_BODY: BodyLimit = { maxBytes: 64 * 1024, label: '64 KiB', maxValues: 4096 };
export const LARGE_BODY: BodyLimit = { maxBytes: 8 * 1024 * 1024, label: '8 MiB', maxValues: 65_536 };

/** How deep arrays and objects may nest in a body (the contract's bodies nest 3 levels at most). */
export const MAX_JSON_DEPTH = 32;

/**
 * The request's JSON body: 413 past `limit` (so no client makes the edge buffer an unbounded
 * body), 415 when it is not JSON, 400 when it nests too deep, holds too many values or does not
 * parse.
 */
export async function readJson(c: Context, limit: BodyLimit): Promise<unknown> {
  const refusal = jsonHeadersRefusal((name) => requestHeader(c, name), limit);
  if (refusal) throw refusal;
  return parseJson(await readBody(c, limit), limit);
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

/**
 * A body's text as JSON: 400 `json-too-deep` or `json-too-many-values` when its structure is over
 * `MAX_JSON_DEPTH` or `limit.maxValues` (found by a linear scan, before `JSON.parse` could block
 * the event loop on it), 400 `invalid-json` when it does not parse.
 */
export function parseJson(text: string, limit: BodyLimit): unknown {
  const excess = jsonShapeExcess(text, { maxDepth: MAX_JSON_DEPTH, maxValues: limit.maxValues });
  if (excess === 'depth') {
    throw new HttpError(
      400,
      'json-too-deep',
      `the body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`,
    );
  }
  if (excess === 'values') {
    throw new HttpError(
      400,
      'json-too-many-values',
      `the body holds more than ${limit.maxValues} JSON values (values and object members)`,
    );
  }
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
  const at = queryInt(c.req.query('at'), 'at', Date.now());
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

/** A user id from the path, in its NFC form (the id its events were stored under), or 400. */
export function userFrom(raw: string): string {
  const result = userIdSchema.safeParse(raw);
  if (!result.success)
    throw new HttpError(400, 'invalid-user-id', `userId ${result.error.issues[0]?.message ?? 'is invalid'}`);
  return result.data;
}
