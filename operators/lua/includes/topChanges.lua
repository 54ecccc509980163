--[[
  Tells which window instances' top-K a batch may have changed, from each partition's own state,
  in the same atomic step as the writes: the global top-K of an instance is merged from the
  partitions' local top-Ks, so it can only change when some partition's local top-K did, and a
  local top-K changes only if an updated member is in it before the batch or after it. So an
  instance is marked when, for one of its updated members,
  - the score after the update reaches the partition's K-th score after the batch, or
  - the update moved the member down and the score before it reached the K-th score before, or
  - the partition holds fewer than K members after the batch.
  ("Reaches": equal or better in the group's order, so ties count.) No change that alters a top
  goes unmarked, whatever merges are under way elsewhere, and changes far below the top cost two
  lookups per instance and batch.

  local tops = topChanges()
  tops.prepare(id, scoresKey, k, desc)   before the instance's first update in the batch
  tops.note(id)(new, old)                after each update (applyScore's `note`)
  tops.offer(id, bestNew, bestOld)       or once for a run of updates, with the best of each
  tops.marked()                          the ids of the instances marked, in the order prepared
]]
local function topChanges()
  local instances = {}
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
    if a == nil or reaches(b, a, desc) then
      return b
    end
    return a
  end

  local tops = {}
  function tops.prepare(id, key, k, desc)
    if instances[id] then
      return
    end
    instances[id] = { key = key, k = k, desc = desc, before = kth(key, k, desc) }
    order[#order + 1] = id
  end
  function tops.note(id)
    local w = instances[id]
    return function(new, old)
      if new then
        w.bestNew = better(w.bestNew, tonumber(new), w.desc)
      end
      if old then
        w.bestOld = better(w.bestOld, tonumber(old), w.desc)
      end
    end
  end
  -- What a run of updates found, at once: its best score after and its best score before (nil: none).
  function tops.offer(id, new, old)
    local w = instances[id]
    if new then
      w.bestNew = better(w.bestNew, new, w.desc)
    end
    if old then
      w.bestOld = better(w.bestOld, old, w.desc)
    end
  end
  function tops.marked()
    local out = {}
    for _, id in ipairs(order) do
      local w = instances[id]
      local after = kth(w.key, w.k, w.desc)
      if after == nil
        or (w.bestNew ~= nil and reaches(w.bestNew, after, w.desc))
        or (w.bestOld ~= nil and w.before ~= nil and reaches(w.bestOld, w.before, w.desc)) then
        out[#out + 1] = id
      end
    end
    return out
  end
  return tops
end
