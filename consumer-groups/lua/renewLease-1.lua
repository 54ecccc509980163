--[[
  Extends a lease the caller still holds under the same epoch.

  Input:
    KEYS[1] lease key
    ARGV[1] fencing token "<epoch>:<owner>"
    ARGV[2] lease time, ms

  Output: 1 renewed, -1 lease lost (expired or taken over).
]]
-- @include holdsLease
if holdsLease(KEYS[1], ARGV[1]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return -1
