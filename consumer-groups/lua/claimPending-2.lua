--[[
  Claims the group's pending entries of a partition for the caller (XAUTOCLAIM with no minimum
  idle time), only while the caller holds the partition's lease. Claiming from the same cursor
  again claims the same entries (they stay pending), so a call whose reply was lost can be sent
  again. The call that ends the scan also returns the group's last-delivered-id: every entry up
  to it is now acknowledged or pending to the caller, so it is where the caller's next
  checkRead-2.lua expects the group to be.

  Input:
    KEYS[1] stream key
    KEYS[2] lease key
    ARGV[1] group
    ARGV[2] consumer id
    ARGV[3] fencing token "<epoch>:<owner>"
    ARGV[4] cursor (start id)
    ARGV[5] most entries to claim

  Output: -1 when the lease is lost; otherwise { nextCursor, entries, deleted, lastDeliveredId }:
  XAUTOCLAIM's reply, and the group's last-delivered-id when nextCursor is "0-0" (else "").
]]
-- @include holdsLease
-- @include groupPosition
if not holdsLease(KEYS[2], ARGV[3]) then
  return -1
end
local reply = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[4], 'COUNT', ARGV[5])
local position = ''
if reply[1] == '0-0' then
  position = groupPosition(KEYS[1], ARGV[1]) or '0-0'
end
return { reply[1], reply[2], reply[3] or {}, position }
