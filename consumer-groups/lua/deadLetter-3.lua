--[[
  Moves entries to the partition's dead-letter stream and acknowledges them, atomically and fenced
  by the lease. The dead letter keeps the original fields and adds `dlq.origin` (the entry id),
  `dlq.deliveries`, `dlq.reason` and `dlq.at` (server time, ms). Only entries still pending in
  the group are copied: a call whose reply was lost and that the client sends again (ioredis does
  after a reconnect or a cluster failover) finds them acknowledged and writes no second letter.

  Input:
    KEYS[1] stream key
    KEYS[2] lease key
    KEYS[3] dead-letter stream key ({name:p}:dlq)
    ARGV[1] group
    ARGV[2] fencing token "<epoch>:<owner>"
    ARGV[3..] triples: entry id, deliveries, reason

  Output: the number of entries dead-lettered (entries already trimmed away are only acked,
  entries no longer pending are skipped), or -1 when the lease is lost.
]]
-- @include holdsLease
-- @include appendDeadLetter
local streamKey = KEYS[1]
local dlqKey = KEYS[3]
local group = ARGV[1]
if not holdsLease(KEYS[2], ARGV[2]) then
  return -1
end
local time = redis.call('TIME')
local now = tostring(tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000))
local moved = 0
for i = 3, #ARGV, 3 do
  local id = ARGV[i]
  if #redis.call('XPENDING', streamKey, group, id, id, 1) == 1 then
    if appendDeadLetter(streamKey, dlqKey, id, ARGV[i + 1], ARGV[i + 2], now) then
      moved = moved + 1
    end
    redis.call('XACK', streamKey, group, id)
  end
end
return moved
