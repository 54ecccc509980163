--[[
  Acknowledges the entries of a batch that the partition's state already holds (at or below its
  checkpoint), fenced by the lease, and answers the checkpoint it judged them by, so the caller
  applies exactly the others. One atomic step on the node that holds the state: the checkpoint a
  worker remembers may be ahead of it, because a failover can roll a partition's state back
  (checkpoint and all) to what the replica had, and an entry acknowledged on the remembered
  checkpoint's word would never be applied.

  Input:
    KEYS[1] stream           {t}:in
    KEYS[2] lease            {t}:lease
    KEYS[3] checkpoint hash  {t}:ckpt (fields id, streamTime)
    ARGV[1] consumer group
    ARGV[2] fencing token "<epoch>:<owner>"
    ARGV[3..] the batch's entry ids, in stream order

  Output: { checkpoint id ("0-0": none), stream time ("0": none), entries acknowledged }, or -1
    when the lease is lost (nothing acknowledged).
]]
-- @include holdsLease
-- @include compareIds
local streamKey, leaseKey, checkpointKey = KEYS[1], KEYS[2], KEYS[3]
if not holdsLease(leaseKey, ARGV[2]) then
  return -1
end
local stored = redis.call('HMGET', checkpointKey, 'id', 'streamTime')
local checkpoint = stored[1] or '0-0'
local acked = 0
local chunk = {}
for i = 3, #ARGV do
  if compareIds(ARGV[i], checkpoint) > 0 then
    break
  end
  chunk[#chunk + 1] = ARGV[i]
  if #chunk == 1000 then
    acked = acked + redis.call('XACK', streamKey, ARGV[1], unpack(chunk))
    chunk = {}
  end
end
if #chunk > 0 then
  acked = acked + redis.call('XACK', streamKey, ARGV[1], unpack(chunk))
end
return { checkpoint, stored[2] or '0', acked }
