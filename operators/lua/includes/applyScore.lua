--[[
  Applies one value to one user's score in one window by the board's policy.
  `last` keeps, per window, each user's event time in a hash beside the sorted set, so that an
  older event arriving later never overwrites a newer value.

  When `watch` is given (see topChanges), it is told what the update may have done to the
  window's local top-K: the user's score after it (the offered value for max, min and last, which
  is the new score whenever the update changed anything), and, when the update may have moved
  the user down in board order (`desc`: a lower score), the score before it.
]]
local function applyScore(prefix, board, windowKey, userId, policy, value, ts, expireAt, expired, watch, desc)
  local scores = prefix .. 'z:' .. board .. ':' .. windowKey
  local new, old = value, false
  if policy == 'sum' then
    local delta = tonumber(value)
    if watch and ((desc and delta < 0) or (not desc and delta > 0)) then
      old = redis.call('ZSCORE', scores, userId) or false
    end
    new = redis.call('ZINCRBY', scores, value, userId)
  elseif policy == 'max' then
    if watch and not desc then
      old = redis.call('ZSCORE', scores, userId) or false
    end
    redis.call('ZADD', scores, 'GT', value, userId)
  elseif policy == 'min' then
    if watch and desc then
      old = redis.call('ZSCORE', scores, userId) or false
    end
    redis.call('ZADD', scores, 'LT', value, userId)
  else
    local times = prefix .. 't:' .. board .. ':' .. windowKey
    local current = redis.call('HGET', times, userId)
    if (not current) or tonumber(ts) >= tonumber(current) then
      if watch then
        old = redis.call('ZSCORE', scores, userId) or false
      end
      redis.call('ZADD', scores, value, userId)
      redis.call('HSET', times, userId, ts)
    else
      new = false
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
  if watch then
    watch(scores, new, old)
  end
  return new
end
