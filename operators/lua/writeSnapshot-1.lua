--[[
  Stores a new version of a (board, window) top-K snapshot and announces it, unless the stored
  one was merged from reads at least as new.

  A snapshot records what it was merged from (`seen`): the state generation and, per partition,
  the checkpoint its local top was read at (localTop-2). Checkpoints only move forward, so of two
  merges the one whose every component is at least the other's saw everything the other saw.
  Several processes merge the same top concurrently; without this check a merge that read early
  but finished late would replace a newer snapshot, and a change only the newer one showed would
  be gone from the top until something else changed it.

  Input:
    KEYS[1] snapshot hash (fields version, updatedAt, entries, seen)
    ARGV[1] channel
    ARGV[2] board
    ARGV[3] window key ("day:1763856000000")
    ARGV[4] entries, JSON
    ARGV[5] updatedAt, ms
    ARGV[6] expire at, epoch ms (0 = never)
    ARGV[7] seen: "<generation>/<checkpoint of partition 0>,<checkpoint of partition 1>,..."

  Output:
    { 1, version } written; the message published is "<board> <window key> <version>";
    { 0, 'covered' } not written: the stored snapshot saw everything this one saw;
    { 0, 'crossed' } not written: each saw something the other did not (merge again).
]]
-- @include compareIds

local snapshotKey = KEYS[1]
local seen = ARGV[7]

-- -1, 0, 1 per component: how `a` compares to `b`; nil when they cannot be compared.
local function components(text)
  local generation, ids = string.match(text, '^(%d+)/(.*)$')
  local list = {}
  for id in string.gmatch(ids, '[^,]+') do
    list[#list + 1] = id
  end
  return tonumber(generation), list
end

local stored = redis.call('HGET', snapshotKey, 'seen')
if stored then
  local newGeneration, newIds = components(seen)
  local oldGeneration, oldIds = components(stored)
  if #newIds == #oldIds then
    local newer, older = newGeneration > oldGeneration, newGeneration < oldGeneration
    for i = 1, #newIds do
      local c = compareIds(newIds[i], oldIds[i])
      if c > 0 then
        newer = true
      elseif c < 0 then
        older = true
      end
    end
    if older then
      return { 0, newer and 'crossed' or 'covered' }
    end
  end
end

local version = redis.call('HINCRBY', snapshotKey, 'version', 1)
redis.call('HSET', snapshotKey, 'entries', ARGV[4], 'updatedAt', ARGV[5], 'seen', seen)
if ARGV[6] ~= '0' then
  redis.call('PEXPIREAT', snapshotKey, ARGV[6])
end
redis.call('PUBLISH', ARGV[1], ARGV[2] .. ' ' .. ARGV[3] .. ' ' .. version)
return { 1, version }
