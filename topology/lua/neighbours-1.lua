--[[
  The entries of one partition just above and just below a (score, member) position in ranking
  order, and how many entries of the partition come before that position. Merged over all
  partitions this gives the members around a member exactly, ties included.

  Input:
    KEYS[1] the partition's sorted set of the (group, window instance)
    ARGV[1] score (as Redis formats it)
    ARGV[2] member
    ARGV[3] n, how many entries on each side
    ARGV[4] order: "desc" or "asc"

  Output: { before, above (flat member, score), below (flat member, score) }; the member itself is
  in neither list.
]]
-- @include positionOf

local key, score, member = KEYS[1], ARGV[1], ARGV[2]
local n = tonumber(ARGV[3])
local desc = ARGV[4] == 'desc'
local before, present, size = positionOf(key, score, member, desc)

local above, below = {}, {}
if before > 0 then
  local first = math.max(0, before - n)
  if desc then
    above = redis.call('ZRANGE', key, first, before - 1, 'REV', 'WITHSCORES')
  else
    above = redis.call('ZRANGE', key, first, before - 1, 'WITHSCORES')
  end
end
local start = before + present
if start < size then
  if desc then
    below = redis.call('ZRANGE', key, start, start + n - 1, 'REV', 'WITHSCORES')
  else
    below = redis.call('ZRANGE', key, start, start + n - 1, 'WITHSCORES')
  end
end
return { before, above, below }
