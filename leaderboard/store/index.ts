/**
 * The relational store: boards, profiles, friends and the archive of closed windows.
 * The archive sink operator that writes to it is `../archiveSink.js`.
 */
export {
  archivedTop,
  archiveWindow,
  type ClosedWindow,
  isArchived,
  type RankedEntry,
} from './archivedWindows.js';
export { listBoards, saveBoard } from './boards.js';
export {
  type Database,
  type DatabaseOptions,
  type Engine,
  openDatabase,
  type Queryable,
} from './database.js';
export { friendCount, getFriends, setFriends } from './friends.js';
export { migrate } from './migrations.js';
export { ProfileCache, type ProfileCacheOptions } from './profileCache.js';
export { getProfiles, type Profile, type ProfileInput, setProfile } from './profiles.js';
export { MIGRATIONS, type Migration } from './schema.js';
export { StoreInputError } from './storeInputError.js';
