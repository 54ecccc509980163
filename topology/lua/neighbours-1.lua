--[[
  The entries of one partition just above and just below a (score, user) position in board order,
  and how many entries of the partition come before that position. Merged over all partitions
  this gives the users around a user exactly, ties included (board order: score, then user id
  bytes, both descending on `desc` boards and ascending on `asc` boards, as ZRANGE [REV] lists).

  Input:
    KEYS[1] the partition's sorted set of the (board, window)
    ARGV[1] score (as Redis formats it)
    ARGV[2] user id
    ARGV[3] n, how many entries on each side
    ARGV[4] order: "desc" or "asc"

  Output: { before, above (flat member, score), below (flat member, score) }; the user itself is
  in neither list.
]]
local key, score, userId = KEYS[1], ARGV[1], ARGV[2]
local n = tonumber(ARGV[3])
local desc = ARGV[4] == 'desc'

-- Byte-wise comparison, as Redis orders members (Lua's < follows the server's locale).
local function lessBytes(a, b)
  local length = math.min(#a, #b)
  for i = 1, length do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then
      return x < y
    end
  end
  return #a < #b
end

local size = redis.call('ZCARD', key)
local lower = redis.call('ZCOUNT', key, '-inf', '(' .. score)
local ties = redis.call('ZCOUNT', key, score, score)
-- In ascending index order the tie block is [lower, lower + ties), members ascending:
-- find how many of them sort before the user.
local lo, hi = lower, lower + ties
while lo < hi do
  local mid = math.floor((lo + hi) / 2)
  local member = redis.call('ZRANGE', key, mid, mid)[1]
  if lessBytes(member, userId) then
    lo = mid + 1
  else
    hi = mid
  end
end
local tiesBefore = lo - lower
local present = 0
local own = redis.call('ZSCORE', key, userId)
if own and tonumber(own) == tonumber(score) then
  present = 1
end

local before
if desc then
  before = (size - lower - ties) + (ties - tiesBefore - present)
else
  before = lower + tiesBefore
end

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
