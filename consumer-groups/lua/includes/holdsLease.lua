--[[
  True when the partition's lease is held under exactly this fencing token ("<epoch>:<owner>").
  A consumer that was paused past its lease, or whose lease was taken over, fails this check, so
  nothing it does after that point reaches the partition's state.
]]
local function holdsLease(leaseKey, token)
  return redis.call('GET', leaseKey) == token
end
