--[[
  Re-drives dead letters: appends each one's original fields (without the `dlq.*` fields) to the
  partition's stream as a new entry, and deletes it from the dead-letter stream, atomically.
  Records each re-driven entry's original id in the partition's `redriven` sorted set (score: the
  id's milliseconds), so that a replay of the stream skips the original and counts only the new
  entry; ids older than the stream's first entry are dropped from it.

  Input:
    KEYS[1] dead-letter stream key
    KEYS[2] stream key
    KEYS[3] re-driven origins (sorted set)
    ARGV[1..] dead-letter entry ids

  Output: the new entry ids, in the order of ARGV (false for ids that were not found).
]]
local dlqKey = KEYS[1]
local streamKey = KEYS[2]
local redrivenKey = KEYS[3]
local newIds = {}
for i = 1, #ARGV do
  local found = redis.call('XRANGE', dlqKey, ARGV[i], ARGV[i])
  if #found == 1 then
    local original = {}
    local fields = found[1][2]
    for f = 1, #fields, 2 do
      if string.sub(fields[f], 1, 4) ~= 'dlq.' then
        original[#original + 1] = fields[f]
        original[#original + 1] = fields[f + 1]
      end
    end
    newIds[i] = redis.call('XADD', streamKey, '*', unpack(original))
    local origin = found[1][2]
    for f = 1, #origin, 2 do
      if origin[f] == 'dlq.origin' then
        local id = origin[f + 1]
        redis.call('ZADD', redrivenKey, tonumber(string.match(id, '^(%d+)')), id)
      end
    end
    redis.call('XDEL', dlqKey, ARGV[i])
  else
    newIds[i] = false
  end
end
local first = redis.call('XRANGE', streamKey, '-', '+', 'COUNT', 1)
if #first == 1 then
  redis.call('ZREMRANGEBYSCORE', redrivenKey, '-inf', '(' .. string.match(first[1][1], '^(%d+)'))
end
return newIds
