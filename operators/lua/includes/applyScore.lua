--[[
  Applies one value to one user's score in one window by the board's policy, and returns the
  score to judge top-K changes by: the new total for `sum`, the offered value otherwise.
  `last` keeps, per window, each user's event time in a hash beside the sorted set, so that an
  older event arriving later never overwrites a newer value.
]]
local function applyScore(prefix, board, windowKey, userId, policy, value, ts, expireAt, expired)
  local scores = prefix .. 'z:' .. board .. ':' .. windowKey
  local result = value
  if policy == 'sum' then
    result = redis.call('ZINCRBY', scores, value, userId)
  elseif policy == 'max' then
    redis.call('ZADD', scores, 'GT', value, userId)
  elseif policy == 'min' then
    redis.call('ZADD', scores, 'LT', value, userId)
  else
    local times = prefix .. 't:' .. board .. ':' .. windowKey
    local current = redis.call('HGET', times, userId)
    if (not current) or tonumber(ts) >= tonumber(current) then
      redis.call('ZADD', scores, value, userId)
      redis.call('HSET', times, userId, ts)
    end
    if expireAt ~= '0' and not expired[times] then
      redis.call('PEXPIREAT', times, expireAt)
      expired[times] = true
    end
  end
  if expireAt ~= '0' and not expired[scores] then
    redis.call('PEXPIREAT', scores, expireAt)
    expired[scores] = true
  end
  return result
end
