--[[
  A page of one partition's entries in ranking order, after a cursor: the (score, member)
  position the previous page ended at. Entries whose score does not change while a client pages
  keep their place relative to any position, so across pages they appear exactly once.

  Input:
    KEYS[1] the partition's sorted set of the (group, window instance)
    ARGV[1] order: "desc" or "asc"
    ARGV[2] the cursor's score ("" for the first page)
    ARGV[3] the cursor's member
    ARGV[4] the most entries to return

  Output: flat member, score, ... of up to that many entries after the cursor.
]]
-- @include positionOf

local key, desc = KEYS[1], ARGV[1] == 'desc'
local limit = tonumber(ARGV[4])
local start = 0
if ARGV[2] ~= '' then
  local before, present = positionOf(key, ARGV[2], ARGV[3], desc)
  start = before + present
end
if desc then
  return redis.call('ZRANGE', key, start, start + limit - 1, 'REV', 'WITHSCORES')
end
return redis.call('ZRANGE', key, start, start + limit - 1, 'WITHSCORES')
