--[[
  Re-drives dead letters: appends each one's original fields (without the `dlq.*` fields) to the
  partition's stream as a new entry, and deletes it from the dead-letter stream, atomically.

  Input:
    KEYS[1] dead-letter stream key
    KEYS[2] stream key
    ARGV[1..] dead-letter entry ids

  Output: the new entry ids, in the order of ARGV (false for ids that were not found).
]]
local dlqKey = KEYS[1]
local streamKey = KEYS[2]
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
    redis.call('XDEL', dlqKey, ARGV[i])
  else
    newIds[i] = false
  end
end
return newIds
