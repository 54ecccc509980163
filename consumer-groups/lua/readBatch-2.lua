--[[
  Reads new entries for the group, only while the caller holds the partition's lease, and only
  when the group is where the caller last saw it.

  The lease: a read sent by a consumer that then stalls can reach Redis after its lease was taken
  over; unfenced, Redis would hand new entries to that zombie, and the real owner would move past
  them.

  The position: a read whose reply was lost (its connection closed after Redis ran it) may be sent
  again by the client (ioredis does, after a reconnect or a cluster failover). The first run
  delivered entries nobody saw; they are pending, and a second run would read past them, so that
  a checkpointing processor would later take them for applied. The caller passes the group's
  last-delivered-id as it last saw it (from its previous read, or from the end of its scan of the
  pending entries); when the group has moved since, nothing is read and the caller answers by
  claiming its pending entries again (claimPending-2.lua), which tells it the new position.

  Input:
    KEYS[1] stream key
    KEYS[2] lease key
    ARGV[1] group
    ARGV[2] consumer id
    ARGV[3] fencing token "<epoch>:<owner>"
    ARGV[4] most entries to read
    ARGV[5] the group's last-delivered-id as the caller last saw it

  Output:
    -1 when the lease is lost (nothing was read);
    -3 when the group's last-delivered-id is not ARGV[5] (nothing was read);
    a NOGROUP error when the stream or the group does not exist;
    { entries, newestId }: the entries read (possibly none) and the id of the stream's newest
    entry ("0-0" when empty; "" when entries were read), after which the caller may wait with
    XREAD BLOCK.
]]
-- @include holdsLease
-- @include groupPosition
local streamKey = KEYS[1]
local group = ARGV[1]
if not holdsLease(KEYS[2], ARGV[3]) then
  return -1
end
local position = groupPosition(streamKey, group)
if position == nil then
  return redis.error_reply('NOGROUP No such key or consumer group ' .. group .. ' for XREADGROUP')
end
if position ~= ARGV[5] then
  return -3
end
local reply = redis.call('XREADGROUP', 'GROUP', group, ARGV[2], 'COUNT', ARGV[4], 'STREAMS', streamKey, '>')
if reply and reply[1] and #reply[1][2] > 0 then
  return { reply[1][2], '' }
end
local newest = redis.call('XREVRANGE', streamKey, '+', '-', 'COUNT', 1)
return { {}, newest[1] and newest[1][1] or '0-0' }
