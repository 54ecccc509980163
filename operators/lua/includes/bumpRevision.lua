--[[
  Moves a partition's state revision (`rev` of its checkpoint hash) past every revision it had:
  to the larger of rev + 1 and the server's clock in microseconds. A merge records the revisions
  it read (localTop-2) and a snapshot is replaced only by a merge that saw no older ones
  (writeSnapshot-1), so revisions must only grow. A counter alone would not: a failover that
  loses the master's last writes rolls `rev` back with them, and merges of the promoted
  replica's state would be judged older than the snapshot written before, for as long as it took
  the counter to pass its old value again (forever, once the partition goes quiet). The clock has
  moved on by then: the promotion alone takes longer than any skew between the nodes' clocks.
  Returns the new revision.
]]
local function bumpRevision(checkpointKey)
  local now = redis.call('TIME')
  local clock = tonumber(now[1]) * 1000000 + tonumber(now[2])
  local rev = tonumber(redis.call('HGET', checkpointKey, 'rev') or '0')
  local nextRev = math.max(rev + 1, clock)
  -- Every digit: tostring would print 1.7961251862671e+15.
  redis.call('HSET', checkpointKey, 'rev', string.format('%.0f', nextRev))
  return nextRev
end
