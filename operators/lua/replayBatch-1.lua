--[[
  Applies a chunk of replayed entries to a replay's shadow state: the scores of one board's
  selected windows and the board's eventId marks, de-duplicated by arrival time (the entry id's
  milliseconds) as the workers did by the clock when they applied them. Renews the registration.

  Input:
    KEYS[1] registration hash  {lb:p}:replay
    ARGV[1] replay id
    ARGV[2] shadow prefix "{lb:p}:replay:<id>:"
    ARGV[3] dedupe horizon, ms
    ARGV[4] registration ttl, ms
    then: nOps, in stream order (as applyBatch-5 takes them), each one of
          'u', board, windowKey, userId, policy, value, ts, expireAt;
          'e', board, eventId, userId, policy, value, ts, arrival, nWindows,
          per window: windowKey, expireAt

  Output: { 1, duplicates } or -1 when the replay is no longer registered (aborted or expired).
]]
-- @include applyScore
-- @include applyShadowScore

local registration = KEYS[1]
local id, shadow, horizon, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
if redis.call('HGET', registration, 'id') ~= id then
  return -1
end
redis.call('PEXPIRE', registration, ttl)

local cursor = 5
local function nextArg()
  local value = ARGV[cursor]
  cursor = cursor + 1
  return value
end

local expired = {}
local duplicates = 0
local trimmed = {}
for _ = 1, tonumber(nextArg()) do
  local kind = nextArg()
  if kind == 'u' then
    local board, windowKey, userId, policy = nextArg(), nextArg(), nextArg(), nextArg()
    local value, ts, expireAt = nextArg(), nextArg(), nextArg()
    applyShadowScore(shadow, board, windowKey, userId, policy, value, ts, expireAt, expired, ttl)
  else
    local board, eventId, userId, policy = nextArg(), nextArg(), nextArg(), nextArg()
    local value, ts, arrival = nextArg(), nextArg(), tonumber(nextArg())
    local dedupeKey = shadow .. 'dd:' .. board
    if not trimmed[dedupeKey] then
      redis.call('ZREMRANGEBYSCORE', dedupeKey, '-inf', arrival - horizon)
      redis.call('PEXPIRE', dedupeKey, ttl)
      trimmed[dedupeKey] = true
    end
    local member = userId .. '\n' .. eventId
    local seen = redis.call('ZSCORE', dedupeKey, member)
    local fresh = (not seen) or tonumber(seen) <= arrival - horizon
    if fresh then
      redis.call('ZADD', dedupeKey, arrival, member)
    else
      duplicates = duplicates + 1
    end
    for _ = 1, tonumber(nextArg()) do
      local windowKey, expireAt = nextArg(), nextArg()
      if fresh then
        applyShadowScore(shadow, board, windowKey, userId, policy, value, ts, expireAt, expired, ttl)
      end
    end
  end
end
return { 1, duplicates }
