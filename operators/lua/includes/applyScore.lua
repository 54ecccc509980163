--[[
  Applies one value to one member's score in one window instance by the reducer (`count` folds
  like `sum`: the value is the number of records). `last` keeps each member's event time in a hash
  beside the sorted set (`times`), so that an older record arriving later never overwrites a newer
  value. Sets the keys' expiry once per script (`expired` remembers which).

  When `note` is given (see topChanges), it is told what the update may have done to the window's
  local top-K: the member's score after it (the offered value for max, min and last, which is the
  new score whenever the update changed anything; false when nothing changed), and, when the update
  may have moved the member down in board order (`desc`: a lower score), its score before.
]]
local function applyScore(scores, times, reduce, member, value, ts, expireAt, expired, note, desc)
  local new, old = value, false
  if reduce == 'sum' or reduce == 'count' then
    local delta = tonumber(value)
    if note and ((desc and delta < 0) or (not desc and delta > 0)) then
      old = redis.call('ZSCORE', scores, member) or false
    end
    new = redis.call('ZINCRBY', scores, value, member)
  elseif reduce == 'max' then
    if note and not desc then
      old = redis.call('ZSCORE', scores, member) or false
    end
    redis.call('ZADD', scores, 'GT', value, member)
  elseif reduce == 'min' then
    if note and desc then
      old = redis.call('ZSCORE', scores, member) or false
    end
    redis.call('ZADD', scores, 'LT', value, member)
  else
    local current = redis.call('HGET', times, member)
    if (not current) or tonumber(ts) >= tonumber(current) then
      if note then
        old = redis.call('ZSCORE', scores, member) or false
      end
      redis.call('ZADD', scores, value, member)
      redis.call('HSET', times, member, ts)
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
  if note then
    note(new, old)
  end
  return new
end
