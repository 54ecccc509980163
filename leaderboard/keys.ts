/**
 * The keys the leaderboard itself owns, beside the pipeline's (`operators/stateKeys.ts`) and the
 * consumer groups' (`redis-streams-consumer-groups`): the board registry.
 */

/** The board configurations: a hash, field = board id, value = JSON. */
export function boardsKey(name: string): string {
  return `${name}:boards`;
}
