--[[
  Reads new entries for the group, only while the caller holds the partition's lease. A read sent
  by a consumer that then stalls can reach Redis after its lease was taken over; unfenced, Redis
  would hand new entries to that zombie, and the real owner would move past them.

  Input:
    KEYS[1] stream key
    KEYS[2] lease key
    ARGV[1] group
    ARGV[2] consumer id
    ARGV[3] fencing token "<epoch>:<owner>"
    ARGV[4] most entries to read

  Output:
    -1 when the lease is lost (nothing was read);
    { entries, newestId }: the entries read (possibly none) and the id of the stream's newest
    entry ("0-0" when empty; "" when entries were read), after which the caller may wait with
    XREAD BLOCK.
]]
-- @include holdsLease
local streamKey = KEYS[1]
if not holdsLease(KEYS[2], ARGV[3]) then
  return -1
end
local reply = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[4], 'STREAMS', streamKey, '>')
if reply and reply[1] and #reply[1][2] > 0 then
  return { reply[1][2], '' }
end
local newest = redis.call('XREVRANGE', streamKey, '+', '-', 'COUNT', 1)
return { {}, newest[1] and newest[1][1] or '0-0' }
