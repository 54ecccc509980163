--[[
  Records that a consumer is alive, drops members whose heartbeat expired, and returns the live
  members. Times come from the Redis server's clock, so consumers' clocks may disagree.

  Input:
    KEYS[1] members sorted set ({name}:members), score = expiry time in ms
    ARGV[1] member (consumer id)
    ARGV[2] time to live, ms; "0" removes the member (graceful leave)

  Output: the live members' ids, sorted.
]]
local membersKey = KEYS[1]
local member = ARGV[1]
local ttl = tonumber(ARGV[2])

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', membersKey, '-inf', now)
if ttl > 0 then
  redis.call('ZADD', membersKey, now + ttl, member)
else
  redis.call('ZREM', membersKey, member)
end
local members = redis.call('ZRANGE', membersKey, 0, -1)
table.sort(members)
return members
