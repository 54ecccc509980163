--[[
  Copies a stream entry to a dead-letter stream, with the fields `StreamAdmin.deadLetters` reads:
  the original fields, then `dlq.origin` (the entry id), `dlq.deliveries`, `dlq.reason` and
  `dlq.at` (ms). Trims the dead-letter stream by MINID when `minId` is given. An entry already
  trimmed from its stream is skipped. Returns true when a dead letter was written.
]]
local function appendDeadLetter(streamKey, dlqKey, entryId, deliveries, reason, now, minId)
  local found = redis.call('XRANGE', streamKey, entryId, entryId)
  if #found ~= 1 then
    return false
  end
  local fields = found[1][2]
  fields[#fields + 1] = 'dlq.origin'
  fields[#fields + 1] = entryId
  fields[#fields + 1] = 'dlq.deliveries'
  fields[#fields + 1] = tostring(deliveries)
  fields[#fields + 1] = 'dlq.reason'
  fields[#fields + 1] = reason
  fields[#fields + 1] = 'dlq.at'
  fields[#fields + 1] = tostring(now)
  if minId then
    redis.call('XADD', dlqKey, 'MINID', '~', minId, '*', unpack(fields))
  else
    redis.call('XADD', dlqKey, '*', unpack(fields))
  end
  return true
end
