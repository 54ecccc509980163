--[[
  Tells which windows' top-K a batch may have changed, from each partition's own state, in the
  same atomic step as the writes: the global top-K of a window is merged from the partitions'
  local top-Ks, so it can only change when some partition's local top-K did, and a local top-K
  changes only if an updated user is in it before the batch or after it. So a window is marked
  when, for one of its updated users,
  - the score after the update reaches the partition's K-th score after the batch, or
  - the update moved the user down and the score before it reached the K-th score before, or
  - the partition holds fewer than K users after the batch.
  ("Reaches": equal or better in board order, so ties count.) No change that alters a top goes
  unmarked, whatever merges are under way elsewhere, and changes far below the top cost two
  lookups per window and batch.

  topChanges(boards) returns watch(scoresKey, new, old), which applyScore calls after each
  update (boards[board] = { k = K, desc = true|false }; call prepare(scoresKey, board) before the
  window's first update), and marked(), the scores keys marked, in the order first prepared.
]]
local function topChanges(boards)
  local windows = {}
  local order = {}

  local function kth(key, k, desc)
    local found
    if desc then
      found = redis.call('ZRANGE', key, k - 1, k - 1, 'REV', 'WITHSCORES')
    else
      found = redis.call('ZRANGE', key, k - 1, k - 1, 'WITHSCORES')
    end
    return found[2] and tonumber(found[2]) or nil
  end
  local function reaches(score, threshold, desc)
    if desc then
      return score >= threshold
    end
    return score <= threshold
  end
  local function better(a, b, desc)
    if a == nil then
      return b
    end
    if reaches(a, b, desc) then
      return a
    end
    return b
  end

  local function prepare(key, board)
    if windows[key] then
      return
    end
    local spec = boards[board]
    windows[key] = { k = spec.k, desc = spec.desc, before = kth(key, spec.k, spec.desc) }
    order[#order + 1] = key
  end

  local function watch(key, new, old)
    local w = windows[key]
    if new then
      w.bestNew = better(w.bestNew, tonumber(new), w.desc)
    end
    if old then
      w.bestOld = better(w.bestOld, tonumber(old), w.desc)
    end
  end

  local function marked()
    local out = {}
    for _, key in ipairs(order) do
      local w = windows[key]
      local after = kth(key, w.k, w.desc)
      if after == nil
        or (w.bestNew ~= nil and reaches(w.bestNew, after, w.desc))
        or (w.bestOld ~= nil and w.before ~= nil and reaches(w.bestOld, w.before, w.desc)) then
        out[#out + 1] = key
      end
    end
    return out
  end

  return prepare, watch, marked
end
