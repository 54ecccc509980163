--[[
  Stores a new version of a (board, window) top-K snapshot and announces it.

  Input:
    KEYS[1] snapshot hash (fields version, updatedAt, entries)
    ARGV[1] channel
    ARGV[2] board
    ARGV[3] window key ("day:1763856000000")
    ARGV[4] entries, JSON
    ARGV[5] updatedAt, ms
    ARGV[6] expire at, epoch ms (0 = never)

  Output: the new version. The message published is "<board> <window key> <version>".
]]
local snapshotKey = KEYS[1]
local version = redis.call('HINCRBY', snapshotKey, 'version', 1)
redis.call('HSET', snapshotKey, 'entries', ARGV[4], 'updatedAt', ARGV[5])
if ARGV[6] ~= '0' then
  redis.call('PEXPIREAT', snapshotKey, ARGV[6])
end
redis.call('PUBLISH', ARGV[1], ARGV[2] .. ' ' .. ARGV[3] .. ' ' .. version)
return version
