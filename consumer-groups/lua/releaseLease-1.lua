--[[
  Gives a lease up, only if the caller still holds it under the same epoch.

  Input:
    KEYS[1] lease key
    ARGV[1] fencing token "<epoch>:<owner>"

  Output: 1 released, 0 it was not held by the caller any more.
]]
-- @include holdsLease
if holdsLease(KEYS[1], ARGV[1]) then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
