--[[
  Applies one partition batch to the partition's state, atomically: updates the sorted sets of
  every (board, window), drops events whose eventId the same user sent for the same board in the
  last 24 hours (a client's retry: a user's events all meet in one partition), records late
  events, dead-letters rejected entries, advances the checkpoint to the batch's last entry id and
  acknowledges every entry. Fenced by the lease: a consumer that lost its lease changes nothing.
  Keys of the partition's state are built from ARGV[3], the partition's hash-tag prefix, so they
  all live in the slot of KEYS.

  Input:
    KEYS[1] stream            {lb:p}:in
    KEYS[2] lease             {lb:p}:lease
    KEYS[3] checkpoint hash   {lb:p}:ckpt (fields id, streamTime)
    KEYS[4] late stream       {lb:p}:late
    KEYS[5] dead letters      {lb:p}:dlq

    ARGV[1] group
    ARGV[2] fencing token "<epoch>:<owner>"
    ARGV[3] key prefix "{lb:p}:"
    ARGV[4] first entry id not yet applied, as the caller saw the checkpoint ("" when none)
    ARGV[5] last entry id of the batch (the new checkpoint)
    ARGV[6] stream time after the batch (ms)
    ARGV[7] MINID for the late and dead-letter streams (retention)
    ARGV[8] dedupe horizon, ms (86400000)
    then: nIds, ids...
    then: nBoards, per board the batch updates: board, order ('desc' | 'asc'), K of its top
    then: nOps, the batch's updates and identified events in stream order (the order of the
          events that set them: `last` settles equal event times by it), each one of
          'u', board, windowKey, userId, policy, value, ts, expireAt (0 = never): a folded update;
          'e', board, eventId, userId, policy, value, ts, nWindows, per window: windowKey, expireAt:
          an event with an eventId, applied unless the user sent it for the board before
    then: nLate, per late event: entryId, board, userId, value, ts, window, windowStart
    then: nRejected, per entry: entryId, reason

  While a replay of a board is registered on the partition (`{lb:p}:replay`, see registerReplay-2),
  every change applied to that board's replayed windows is applied to the replay's shadow keys
  too, so that the shadow misses nothing the workers apply before it is swapped in.

  Output:
    { 1, marked, duplicates } applied: marked = the windows whose top-K the batch may have
      changed, as "<board> <windowKey>" (see topChanges); duplicates = events dropped as repeats.
    -1 lease lost, nothing changed.
    -3 stale: the checkpoint is at or past ARGV[4]; the caller must re-read it and filter.
]]
-- @include holdsLease
-- @include compareIds
-- @include applyScore
-- @include appendDeadLetter
-- @include applyShadowScore
-- @include topChanges

local streamKey, leaseKey, checkpointKey, lateKey, dlqKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local group, token, prefix = ARGV[1], ARGV[2], ARGV[3]
local firstNewId, lastId, streamTime, minId = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local dedupeHorizon = tonumber(ARGV[8])

if not holdsLease(leaseKey, token) then
  return -1
end
local checkpoint = redis.call('HGET', checkpointKey, 'id')
if firstNewId ~= '' and checkpoint and compareIds(firstNewId, checkpoint) <= 0 then
  return -3
end

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

-- A replay under way on this partition: which changes to mirror into its shadow keys.
local replay = redis.call('HMGET', prefix .. 'replay', 'id', 'board', 'windows', 'minStart')
local shadow = replay[1] and (prefix .. 'replay:' .. replay[1] .. ':')
local SHADOW_TTL = 86400000
local function mirrored(board, windowKey)
  if not shadow or board ~= replay[2] then
    return false
  end
  local window, start = string.match(windowKey, '^([^:]+):(.*)$')
  return string.find(replay[3], ',' .. window .. ',', 1, true) ~= nil
    and tonumber(start) >= tonumber(replay[4])
end

local cursor = 9
local function nextArg()
  local value = ARGV[cursor]
  cursor = cursor + 1
  return value
end

local ids = {}
for i = 1, tonumber(nextArg()) do
  ids[i] = nextArg()
end

local boards = {}
for _ = 1, tonumber(nextArg()) do
  local board, order, k = nextArg(), nextArg(), tonumber(nextArg())
  boards[board] = { k = k, desc = order == 'desc' }
end
local prepare, watch, marked = topChanges(boards)
local expired = {}
local function apply(board, windowKey, userId, policy, value, ts, expireAt)
  prepare(prefix .. 'z:' .. board .. ':' .. windowKey, board)
  applyScore(prefix, board, windowKey, userId, policy, value, ts, expireAt, expired, watch, boards[board].desc)
  if mirrored(board, windowKey) then
    applyShadowScore(shadow, board, windowKey, userId, policy, value, ts, expireAt, expired, SHADOW_TTL)
  end
end

local duplicates = 0
local trimmed = {}
for _ = 1, tonumber(nextArg()) do
  local kind = nextArg()
  if kind == 'u' then
    local board, windowKey, userId, policy = nextArg(), nextArg(), nextArg(), nextArg()
    local value, ts, expireAt = nextArg(), nextArg(), nextArg()
    apply(board, windowKey, userId, policy, value, ts, expireAt)
  else
    local board, eventId, userId, policy = nextArg(), nextArg(), nextArg(), nextArg()
    local value, ts = nextArg(), nextArg()
    local dedupeKey = prefix .. 'dd:' .. board
    if not trimmed[dedupeKey] then
      redis.call('ZREMRANGEBYSCORE', dedupeKey, '-inf', now - dedupeHorizon)
      trimmed[dedupeKey] = true
    end
    -- User ids and event ids never hold control characters, so a newline separates them safely.
    local fresh = redis.call('ZADD', dedupeKey, 'NX', now, userId .. '\n' .. eventId) == 1
    if not fresh then
      duplicates = duplicates + 1
    end
    for _ = 1, tonumber(nextArg()) do
      local windowKey, expireAt = nextArg(), nextArg()
      if fresh then
        apply(board, windowKey, userId, policy, value, ts, expireAt)
      end
    end
  end
end

for _ = 1, tonumber(nextArg()) do
  local entryId, board, userId, value, ts, window, windowStart =
    nextArg(), nextArg(), nextArg(), nextArg(), nextArg(), nextArg(), nextArg()
  redis.call('XADD', lateKey, 'MINID', '~', minId, '*', 'entry', entryId, 'b', board, 'u', userId,
    'v', value, 't', ts, 'window', window, 'windowStart', windowStart, 'streamTime', streamTime)
end

for _ = 1, tonumber(nextArg()) do
  local entryId, reason = nextArg(), nextArg()
  appendDeadLetter(streamKey, dlqKey, entryId, 1, reason, now, minId)
end

if (not checkpoint) or compareIds(lastId, checkpoint) > 0 then
  redis.call('HSET', checkpointKey, 'id', lastId, 'streamTime', streamTime)
end
for i = 1, #ids, 1000 do
  redis.call('XACK', streamKey, group, unpack(ids, i, math.min(i + 999, #ids)))
end
local changed = {}
local prefixLength = #prefix + 3 -- '{lb:p}:' .. 'z:'
for i, key in ipairs(marked()) do
  local rest = string.sub(key, prefixLength)
  local colon = string.find(rest, ':', 1, true)
  changed[i] = string.sub(rest, 1, colon - 1) .. ' ' .. string.sub(rest, colon + 1)
end
return { 1, changed, duplicates }
