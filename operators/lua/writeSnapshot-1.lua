--[[
  Stores a new version of a (group, window instance) top-K snapshot and announces it on the
  group's sharded channel, unless the stored one was merged from reads at least as new.

  A snapshot records what it was merged from (`seen`): per partition, the state revision its
  local top was read at (mergeTop.ts). Revisions only grow, so of two merges the one whose every
  revision is at least the other's saw everything the other saw. Several processes merge the same
  top concurrently; without this check a merge that read early but finished late would replace a
  newer snapshot, and a change only the newer one showed would be gone from the top until
  something else changed it.

  Input:
    KEYS[1] snapshot hash (fields version, updatedAt, entries, seen)
    ARGV[1] the group's snapshot channel (a shard channel in KEYS[1]'s slot)
    ARGV[2] window key ("day:1763856000000")
    ARGV[3] entries, JSON
    ARGV[4] updatedAt, ms
    ARGV[5] expire at, epoch ms (0 = never)
    ARGV[6] seen: the revisions, "<partition 0>,<partition 1>,..."

  Output:
    { 1, version } written; the message published is "<window key> <version>";
    { 0, 'covered' } not written: the stored snapshot saw everything this one saw;
    { 0, 'crossed' } not written: each saw something the other did not (merge again).
]]
local snapshotKey = KEYS[1]
local seen = ARGV[6]

local function revisions(text)
  local list = {}
  for rev in string.gmatch(text, '[^,]+') do
    list[#list + 1] = tonumber(rev)
  end
  return list
end

local stored = redis.call('HGET', snapshotKey, 'seen')
if stored then
  local new, old = revisions(seen), revisions(stored)
  if #new == #old then
    local newer, older = false, false
    for i = 1, #new do
      if new[i] > old[i] then
        newer = true
      elseif new[i] < old[i] then
        older = true
      end
    end
    if older then
      return { 0, newer and 'crossed' or 'covered' }
    end
  end
end

local version = redis.call('HINCRBY', snapshotKey, 'version', 1)
redis.call('HSET', snapshotKey, 'entries', ARGV[3], 'updatedAt', ARGV[4], 'seen', seen)
if ARGV[5] ~= '0' then
  redis.call('PEXPIREAT', snapshotKey, ARGV[5])
end
redis.call('SPUBLISH', ARGV[1], ARGV[2] .. ' ' .. version)
return { 1, version }
