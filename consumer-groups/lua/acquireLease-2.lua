--[[
  Claims a partition's lease when it is free, under a new epoch.

  Input:
    KEYS[1] lease key   ({name:p}:lease), value "<epoch>:<owner>", expires after ARGV[2] ms
    KEYS[2] epoch key   ({name:p}:epoch), a counter that never expires
    ARGV[1] owner (consumer id)
    ARGV[2] lease time, ms

  Output:
    the epoch (> 0) when the caller holds the lease now (a new one, or its own renewed),
    -2 when another consumer holds it.
]]
local leaseKey = KEYS[1]
local epochKey = KEYS[2]
local owner = ARGV[1]
local ttl = ARGV[2]

local current = redis.call('GET', leaseKey)
if current then
  local sep = string.find(current, ':', 1, true)
  if string.sub(current, sep + 1) == owner then
    redis.call('PEXPIRE', leaseKey, ttl)
    return tonumber(string.sub(current, 1, sep - 1))
  end
  return -2
end
local epoch = redis.call('INCR', epochKey)
redis.call('SET', leaseKey, epoch .. ':' .. owner, 'PX', ttl)
return epoch
