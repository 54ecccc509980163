--[[
  Applies one value to one member's score in a window instance whose ties go to who reached the
  score first (`earliest`). The sorted set keeps each member as "<event time, 15 digits><member>"
  with its score negated on `desc` groups, so that ascending order is the ranking: best score
  first, then the earliest event time, then the member id bytes. `times` maps each member to the
  event time of the record that set its current score, to find its entry. Scores are written with
  17 significant digits (exact for every double), event times are kept to the millisecond.

  A record sets the score when it changes it (a sum by a non-zero value, a new extreme, a `last`
  record not older than the current one): the member's entry then moves to its new score and time.
  A folded update of a sum says whether one of its records did (`sets`: 0 when all were zeros, 1
  otherwise, even when they add up to zero); without it (a single record) its value tells.
  `note`, as in applyScore, gets the stored (sorted-set) scores after and before.
]]
local function earliestMember(ts, member)
  return string.rep('0', 15 - #ts) .. ts .. member
end

local function applyEarliest(scores, times, reduce, member, value, ts, expireAt, expired, note, desc, setsHint)
  local oldTs = redis.call('HGET', times, member)
  local oldStored = oldTs and redis.call('ZSCORE', scores, earliestMember(oldTs, member))
  local old = oldStored and tonumber(oldStored)
  if old and desc then
    old = -old
  end
  local v = tonumber(value)
  local new, sets
  if not old then
    new, sets = v, true
  elseif reduce == 'sum' or reduce == 'count' then
    new = old + v
    if setsHint == nil then
      sets = v ~= 0
    else
      sets = setsHint == 1
    end
  elseif reduce == 'max' then
    sets = v > old
    new = sets and v or old
  elseif reduce == 'min' then
    sets = v < old
    new = sets and v or old
  else
    sets = tonumber(ts) >= tonumber(oldTs)
    new = sets and v or old
  end
  local stored = desc and -new or new
  if sets then
    if oldTs then
      redis.call('ZREM', scores, earliestMember(oldTs, member))
    end
    redis.call('ZADD', scores, string.format('%.17g', stored), earliestMember(ts, member))
    redis.call('HSET', times, member, ts)
  end
  if expireAt ~= '0' then
    for _, key in ipairs({ scores, times }) do
      if not expired[key] then
        redis.call('PEXPIREAT', key, expireAt)
        expired[key] = true
      end
    end
  end
  if note then
    -- A member that moved may have moved down (a later time on the same score counts as down).
    note(sets and stored or false, (sets and oldStored) and tonumber(oldStored) or false)
  end
  return new
end
