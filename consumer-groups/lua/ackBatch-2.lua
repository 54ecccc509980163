--[[
  Acknowledges a batch, fenced by the partition lease: a consumer that lost its lease cannot ack.

  Input:
    KEYS[1] stream key ({name:p}:in)
    KEYS[2] lease key
    ARGV[1] group
    ARGV[2] fencing token "<epoch>:<owner>"
    ARGV[3..] entry ids

  Output: the number of entries acknowledged, or -1 when the lease is lost.
]]
-- @include holdsLease
local streamKey = KEYS[1]
if not holdsLease(KEYS[2], ARGV[2]) then
  return -1
end
local acked = 0
local chunk = {}
for i = 3, #ARGV do
  chunk[#chunk + 1] = ARGV[i]
  if #chunk == 1000 or i == #ARGV then
    acked = acked + redis.call('XACK', streamKey, ARGV[1], unpack(chunk))
    chunk = {}
  end
end
return acked
