--[[
  Claims the group's pending entries of a partition for the caller (XAUTOCLAIM with no minimum
  idle time), only while the caller holds the partition's lease.

  Input:
    KEYS[1] stream key
    KEYS[2] lease key
    ARGV[1] group
    ARGV[2] consumer id
    ARGV[3] fencing token "<epoch>:<owner>"
    ARGV[4] cursor (start id)
    ARGV[5] most entries to claim

  Output: -1 when the lease is lost; otherwise XAUTOCLAIM's reply { nextCursor, entries, deleted }.
]]
-- @include holdsLease
if not holdsLease(KEYS[2], ARGV[3]) then
  return -1
end
return redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[4], 'COUNT', ARGV[5])
