--[[
  Where a (score, member) position falls in one partition's sorted set, in ranking order (by
  score, then member bytes, both descending on `desc` and ascending on `asc`, as ZRANGE [REV]
  lists them): how many entries come before it, whether that very entry is there, and the size.
  O(log N) ZCOUNTs plus a binary search over the entries that share the score.
]]
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

local function positionOf(key, score, member, desc)
  local size = redis.call('ZCARD', key)
  local lower = redis.call('ZCOUNT', key, '-inf', '(' .. score)
  local ties = redis.call('ZCOUNT', key, score, score)
  -- In ascending index order the tie block is [lower, lower + ties), members ascending:
  -- find how many of them sort before the member.
  local lo, hi = lower, lower + ties
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    local found = redis.call('ZRANGE', key, mid, mid)[1]
    if lessBytes(found, member) then
      lo = mid + 1
    else
      hi = mid
    end
  end
  local tiesBefore = lo - lower
  local present = 0
  local own = redis.call('ZSCORE', key, member)
  if own and tonumber(own) == tonumber(score) then
    present = 1
  end
  local before
  if desc then
    before = (size - lower - ties) + (ties - tiesBefore - present)
  else
    before = lower + tiesBefore
  end
  return before, present, size
end
