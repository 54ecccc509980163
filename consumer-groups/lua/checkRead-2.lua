--[[
  Checks, in the transaction that reads a partition's new entries (MULTI, this script, XREADGROUP,
  XREVRANGE, EXEC), that the caller may take what the XREADGROUP after it delivers: that it holds
  the partition's lease and that the group is where the caller last saw it. The read itself runs
  outside Lua, so its entries go to the caller as Redis encodes them, not converted into Lua
  tables and back (which cost more than the read).

  A failed check does not stop the XREADGROUP after it (a transaction runs every command). It
  needs not: the entries it delivers stay pending, and both failures already end in a scan of the
  pending entries.
  - The lease: a read sent by a consumer that then stalls can reach Redis after its lease was
    taken over. The zombie sees -1 and drops what it read; its read moved the group, so the real
    owner's next check fails as below, and it claims those entries from the pending list, in order.
  - The position: a read whose reply was lost (its connection closed after Redis ran it) may be
    sent again by the client (ioredis does, after a reconnect or a cluster failover). The first run
    delivered entries nobody saw; they are pending, and a reader that went on past them would let
    a checkpointing processor take them for applied. The caller passes the group's
    last-delivered-id as it last saw it (from its previous read, or from the end of its scan of
    the pending entries); when the group has moved since, the caller drops what it read and claims
    its pending entries again (claimPending-2.lua), which tells it the new position.

  Input:
    KEYS[1] stream key
    KEYS[2] lease key
    ARGV[1] group
    ARGV[2] fencing token "<epoch>:<owner>"
    ARGV[3] the group's last-delivered-id as the caller last saw it

  Output: 1 when the caller may take the read's entries; -1 when the lease is lost; -3 when the
  group's last-delivered-id is not ARGV[3]; a NOGROUP error when the stream or the group does not
  exist.
]]
-- @include holdsLease
-- @include groupPosition
local group = ARGV[1]
if not holdsLease(KEYS[2], ARGV[2]) then
  return -1
end
local position = groupPosition(KEYS[1], group)
if position == nil then
  return redis.error_reply('NOGROUP No such key or consumer group ' .. group .. ' for XREADGROUP')
end
if position ~= ARGV[3] then
  return -3
end
return 1
