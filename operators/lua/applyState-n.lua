--[[
  Applies one partition batch of a pipeline to the partition's state, atomically: the scores of
  every (group, window instance), the de-duplication of records with an id (a repeat from the same
  member of the same group within the horizon counts once), late records, dead letters, the
  checkpoint and the acknowledgement. The caller passes every key it touches in KEYS; the script
  never builds a key name.

  Two modes, one path (the same arguments, built by one function, applyArgs.ts):
  - live: a worker's batch, fenced by the partition's lease (a consumer that lost its lease changes
    nothing) and chained to the checkpoint: it applies only if the checkpoint is exactly the one
    the batch builds on, with no entry still pending between the two. It writes late records and
    dead letters, moves the checkpoint to the batch's last entry (with the stream time, and moves
    `rev`, the state revision a merge records, past every earlier one: bumpRevision) and
    acknowledges every entry. While a replay is registered on the partition, every change to the
    replayed group's windows is applied to the replay's shadow keys too ("mirror"), so the shadow
    misses nothing applied before it is swapped in.
  - replay: a chunk of retained entries, re-applied into a replay's shadow keys only (the state of
    the replay's group and windows), while the replay is still registered. No lease, checkpoint,
    acknowledgement, late record or dead letter.
  Records with an id are de-duplicated by arrival time (the entry id's milliseconds) in both: a
  mark is kept with the arrival of the record that set it, and a later record with the same id is
  a repeat while its arrival is within the horizon of the mark's.

  Input:
    KEYS[1] stream              {t}:in
    KEYS[2] lease               {t}:lease
    KEYS[3] checkpoint hash     {t}:ckpt (fields id, streamTime, rev)
    KEYS[4] late stream         {t}:late
    KEYS[5] dead letters        {t}:dlq
    KEYS[6] replay registration {t}:replay
    KEYS[7] closing instances   {t}:closing (sorted set "<group> <window key>" -> close time)
    KEYS[8..] state keys, referred to by index from the payload

    ARGV[1] mode: 'live' | 'replay'
    ARGV[2] live: consumer group; replay: the replay id
    ARGV[3] live: fencing token "<epoch>:<owner>"; replay: registration ttl, ms
    ARGV[4] live: the checkpoint the batch builds on ("0-0": none)
    ARGV[5] live: last entry id of the batch
    ARGV[6] live: stream time after the batch (ms)
    ARGV[7] live: MINID for the late and dead-letter streams (retention)
    ARGV[8] de-duplication horizon, ms
    ARGV[9] live: the replay the caller mirrors into ("" none); a registration it does not know of
            makes the script refuse (-4), and the caller reads the registration again
    ARGV[10] shadow ttl, ms: shadow keys of open windows expire after it unless swapped in
    ARGV[11] payload, JSON (strings keep values exact):
      ids:      [entry id, ...]  (live) acknowledged
      pairs:    a list of [scores, times, reduce, desc, k, expireAt, closing, closeAt,
                  shadowScores, shadowTimes, instances, windowKey, earliest, hiddenSet,
                  hiddenScores, shadowHiddenScores]  one per window instance the batch
                  touches: key indexes (0 = none; times only for `last`), 1/0, K of the top,
                  the keys' expiry (epoch ms, "0" never), the member and score for the closing
                  set ("" and "0": never closes), the shadow keys to mirror into (live) and the
                  shadow's instances hash with the window key to record there (0 and "": none),
                  1 when ties go to who reached the score first (applyEarliest's layout), the
                  group's set of hidden members, and the sorted sets their scores go to instead
                  (live, and the mirror's); in replay mode `scores`/`times`/`hiddenScores` are the
                  shadow keys themselves, the hidden set the live one
      dedupe:   [dedupe key index, ...]
      ops:      in stream order (the order of the records that set them), each
                ["u", pair, member, value, ts, sets]  a folded update (sets: 0 when no record
                  of it set the score, a sum of zeros; see applyEarliest), or
                ["e", dedupe, id, member, value, ts, arrival, a list of pairs]  a record with an id
      runs:     folded updates grouped by pair, for a batch without records with an id (then the
                order of the updates does not matter: each touches its own member of a pair):
                [pair, stride, first, last]: the updates are ARGV[first..last], as member,
                value(, ts, sets), ... (not in the JSON: ARGV strings need no decoding), the event
                time and the `sets` of the "u" op only when the pair needs them (stride 4: `last`,
                or ties to who reached it first)
    ARGV[12..] the runs' updates
      late:     a list of [entry id, group, member, value, ts, window, window start]  (live)
      rejected: a list of [entry id, reason]  (live) dead-lettered

  Output:
    { 1, marked, duplicates }: applied; marked = the pairs (1-based indexes) whose top-K the batch
      may have changed (live; see topChanges), duplicates = records dropped as repeats.
    -1 lease lost, -3 the checkpoint is not the one the batch builds on, or an entry between them
      is still pending (re-read it, give the batch back and filter it when it comes again),
    -4 a replay registration the caller does not know of (read it and build the batch again),
    -5 (replay) the replay is no longer registered.
]]
-- @include holdsLease
-- @include appendDeadLetter
-- @include applyScore
-- @include applyEarliest
-- @include topChanges
-- @include bumpRevision

local mode = ARGV[1]
local live = mode == 'live'
local horizon = tonumber(ARGV[8])
local shadowTtl = ARGV[10]
local replayKey = KEYS[6]

if live then
  if not holdsLease(KEYS[2], ARGV[3]) then
    return -1
  end
  if (redis.call('HGET', KEYS[3], 'id') or '0-0') ~= ARGV[4] then
    return -3
  end
  if (redis.call('HGET', replayKey, 'id') or '') ~= ARGV[9] then
    return -4
  end
else
  if redis.call('HGET', replayKey, 'id') ~= ARGV[2] then
    return -5
  end
  redis.call('PEXPIRE', replayKey, ARGV[3])
end

local payload = cjson.decode(ARGV[11])
if live and #payload.ids > 0 then
  -- Chained means the batch follows the checkpoint: no entry between them is still pending (a
  -- batch given back before this one, say). Its `after` alone cannot tell: after a failover
  -- rolled the checkpoint back, a given-back batch's successor names the same checkpoint, and
  -- applying it first would move the checkpoint past entries nobody applied.
  local waiting = redis.pcall('XPENDING', KEYS[1], ARGV[2], '(' .. ARGV[4], '(' .. payload.ids[1], 1)
  if waiting.err then
    -- No group: nothing of it is pending (XACK below is a no-op then, as without this check).
    if not string.find(waiting.err, 'NOGROUP', 1, true) then
      return redis.error_reply(waiting.err)
    end
  elseif #waiting > 0 then
    return -3
  end
end
local pairs = payload.pairs
local tops = topChanges()
local expired = {}
local touched = {}

local function recordInstance(pair, scores, times, hiddenScores)
  local instances = KEYS[pair[11]]
  redis.call('HSET', instances, pair[12], pair[6])
  redis.call('PEXPIRE', instances, shadowTtl, 'NX')
  if pair[6] == '0' then
    for _, key in ipairs({ scores, times, hiddenScores }) do
      redis.call('PEXPIRE', key, shadowTtl, 'NX')
    end
  end
end

-- Hidden members (a set per group and partition) keep counting in a sorted set of their own.
local hiddenCounts = {}
local function isHiddenCount(set)
  local count = hiddenCounts[set]
  if count == nil then
    count = redis.call('SCARD', set)
    hiddenCounts[set] = count
  end
  return count
end
local function isHidden(set, member)
  return isHiddenCount(set) > 0 and redis.call('SISMEMBER', set, member) == 1
end

local function apply(index, member, value, ts, sets)
  local pair = pairs[index]
  local scores = KEYS[pair[1]]
  local times = pair[2] > 0 and KEYS[pair[2]] or nil
  local reduce, desc, expireAt = pair[3], pair[4] == 1, pair[6]
  local earliest = pair[13] == 1
  local applyOne = earliest and applyEarliest or applyScore
  local hidden = isHidden(KEYS[pair[14]], member)
  local target = hidden and KEYS[pair[15]] or scores
  local first = not touched[index]
  touched[index] = true
  if live then
    -- The earliest layout stores the ranking ascending, so its K-th is judged ascending.
    tops.prepare(index, scores, pair[5], desc and not earliest)
    applyOne(target, times, reduce, member, value, ts, expireAt, expired, not hidden and tops.note(index) or nil, desc, sets)
    if first and pair[8] ~= '0' then
      redis.call('ZADD', KEYS[7], 'NX', pair[8], pair[7])
    end
    if pair[9] > 0 then
      local shadowScores = KEYS[pair[9]]
      local shadowTimes = pair[10] > 0 and KEYS[pair[10]] or nil
      local shadowHidden = KEYS[pair[16]]
      applyOne(hidden and shadowHidden or shadowScores, shadowTimes, reduce, member, value, ts, expireAt, expired, nil, desc, sets)
      if first then
        recordInstance(pair, shadowScores, shadowTimes, shadowHidden)
      end
    end
  else
    applyOne(target, times, reduce, member, value, ts, expireAt, expired, nil, desc, sets)
    if first then
      recordInstance(pair, scores, times, KEYS[pair[15]])
    end
  end
end

local duplicates = 0
local trimmed = {}
for _, op in ipairs(payload.ops) do
  if op[1] == 'u' then
    apply(op[2], op[3], op[4], op[5], op[6])
  else
    local dedupeKey = KEYS[payload.dedupe[op[2]]]
    local member, value, ts, arrival = op[4], op[5], op[6], tonumber(op[7])
    if not trimmed[dedupeKey] then
      -- Ops come in stream order: the first one's arrival is the batch's earliest.
      redis.call('ZREMRANGEBYSCORE', dedupeKey, '-inf', arrival - horizon)
      if not live then
        redis.call('PEXPIRE', dedupeKey, shadowTtl)
      end
      trimmed[dedupeKey] = true
    end
    -- Member ids and record ids never hold control characters: a newline separates them safely.
    local mark = member .. '\n' .. op[3]
    local seen = redis.call('ZSCORE', dedupeKey, mark)
    if seen and tonumber(seen) > arrival - horizon then
      duplicates = duplicates + 1
    else
      redis.call('ZADD', dedupeKey, arrival, mark)
      for _, index in ipairs(op[8]) do
        apply(index, member, value, ts)
      end
    end
  end
end

-- A run of updates to one pair. The common case (a live batch, no hidden member in the group, no
-- replay to mirror into, ties shared, sum/count/max/min) takes a loop of its own: one sorted-set
-- command per update and the top check kept in locals, where the general path pays several
-- function calls and a closure per update (they cost more than the ZINCRBY).
local function applyRun(run)
  local index, stride, first, last = run[1], run[2], run[3], run[4]
  local pair = pairs[index]
  local reduce, desc = pair[3], pair[4] == 1
  local fast = live and pair[9] == 0 and pair[13] == 0 and reduce ~= 'last'
    and (hiddenCounts[KEYS[pair[14]]] or isHiddenCount(KEYS[pair[14]])) == 0
  if not fast then
    for i = first, last, stride do
      if stride == 4 then
        apply(index, ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3]))
      else
        apply(index, ARGV[i], ARGV[i + 1], '0')
      end
    end
    return
  end
  local scores = KEYS[pair[1]]
  tops.prepare(index, scores, pair[5], desc)
  if pair[8] ~= '0' and not touched[index] then
    redis.call('ZADD', KEYS[7], 'NX', pair[8], pair[7])
  end
  touched[index] = true
  local bestNew, bestOld
  local function better(a, b)
    if a == nil then return b end
    if desc then return b > a and b or a end
    return b < a and b or a
  end
  if reduce == 'sum' or reduce == 'count' then
    for i = first, last, stride do
      local member, value = ARGV[i], ARGV[i + 1]
      local delta = tonumber(value)
      if (desc and delta < 0) or (not desc and delta > 0) then
        local old = redis.call('ZSCORE', scores, member)
        if old then bestOld = better(bestOld, tonumber(old)) end
      end
      bestNew = better(bestNew, tonumber(redis.call('ZINCRBY', scores, value, member)))
    end
  else
    local gt = reduce == 'max'
    -- The member moves down when its score worsens in board order: max on asc, min on desc.
    local movesDown = gt ~= desc
    for i = first, last, stride do
      local member, value = ARGV[i], ARGV[i + 1]
      if movesDown then
        local old = redis.call('ZSCORE', scores, member)
        if old then bestOld = better(bestOld, tonumber(old)) end
      end
      redis.call('ZADD', scores, gt and 'GT' or 'LT', value, member)
      bestNew = better(bestNew, tonumber(value))
    end
  end
  if pair[6] ~= '0' and not expired[scores] then
    redis.call('PEXPIREAT', scores, pair[6])
    expired[scores] = true
  end
  tops.offer(index, bestNew, bestOld)
end

for _, run in ipairs(payload.runs or {}) do
  applyRun(run)
end

if not live then
  return { 1, {}, duplicates }
end

local streamKey, lateKey, dlqKey = KEYS[1], KEYS[4], KEYS[5]
local lastId, streamTime, minId = ARGV[5], ARGV[6], ARGV[7]
for _, l in ipairs(payload.late) do
  redis.call('XADD', lateKey, 'MINID', '~', minId, '*', 'entry', l[1], 'group', l[2], 'member', l[3],
    'value', l[4], 'ts', l[5], 'window', l[6], 'windowStart', l[7], 'streamTime', streamTime)
end
if #payload.rejected > 0 then
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  for _, r in ipairs(payload.rejected) do
    appendDeadLetter(streamKey, dlqKey, r[1], 1, r[2], now, minId)
  end
end
redis.call('HSET', KEYS[3], 'id', lastId, 'streamTime', streamTime)
bumpRevision(KEYS[3])
local ids = payload.ids
for i = 1, #ids, 1000 do
  redis.call('XACK', streamKey, ARGV[2], unpack(ids, i, math.min(i + 999, #ids)))
end
return { 1, tops.marked(), duplicates }
