/**
 * The keys the leaderboard itself owns, beside the pipeline's (`operators/stateKeys.ts`) and the
 * consumer groups' (`redis-streams-consumer-groups`): the board registry.
 */

/** The board configurations: a hash, field = board id, value = JSON. */
export function boardsKey(name: string): string {
  return `${name}:boards`;
}

/**
 * The board registry's meta hash (`version`, bumped on every change; `epoch`, new when the registry
 * is). Its hash tag is the boards hash's whole name, so on a cluster it shares that key's slot and
 * one script changes both.
 */
export function boardsMetaKey(name: string): string {
  return `{${boardsKey(name)}}:meta`;
}

/** The board registry's change log: a sorted set, member = board id, score = version of its last change. */
export function boardsChangesKey(name: string): string {
  return `{${boardsKey(name)}}:changes`;
}
