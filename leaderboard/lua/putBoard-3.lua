--[[
Creates or updates one board config, atomically with the registry's change log, so that every
process catches up by reading what changed since the version it knows, not every board.

KEYS[1] the boards hash (field = id, value = JSON)
KEYS[2] the registry's meta hash: `version` (bumped on every change), `epoch` (set once: a new
        epoch means a new registry, e.g. a Redis that lost its data)
KEYS[3] the change log: a sorted set, member = id, score = the version of its last change
ARGV[1] the board id, ARGV[2] its config JSON
ARGV[3] 'put', or 'ensure' (create only when absent: the default board, a restore)
ARGV[4] the most boards the registry holds
ARGV[5] a new epoch, used only when the registry has none yet
ARGV[6..] triples: a field an existing board may not change, its new value, its default (for
          configs saved before the field existed)

Returns {1|0 created, version, epoch}, or {'conflict', field}, or {'full', count}.
]]
local id = ARGV[1]
local existing = redis.call('HGET', KEYS[1], id)
if existing then
  if ARGV[3] == 'ensure' then
    return {0, tonumber(redis.call('HGET', KEYS[2], 'version') or '0'), redis.call('HGET', KEYS[2], 'epoch') or ''}
  end
  local before = cjson.decode(existing)
  for i = 6, #ARGV, 3 do
    local old = before[ARGV[i]]
    if old == nil then old = ARGV[i + 2] end
    if tostring(old) ~= ARGV[i + 1] then return {'conflict', ARGV[i]} end
  end
else
  local count = redis.call('HLEN', KEYS[1])
  if count >= tonumber(ARGV[4]) then return {'full', count} end
end
redis.call('HSETNX', KEYS[2], 'epoch', ARGV[5])
redis.call('HSET', KEYS[1], id, ARGV[2])
local version = redis.call('HINCRBY', KEYS[2], 'version', 1)
redis.call('ZADD', KEYS[3], version, id)
return {existing and 0 or 1, version, redis.call('HGET', KEYS[2], 'epoch')}
