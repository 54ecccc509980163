--[[
  Appends entries to one partition's stream in one call: what a pipeline of XADDs does, without
  a command, a reply and a client-side command object per entry. The stream is trimmed by time
  once per call (XTRIM MINID ~, the retention of XADD ... MINID ~), then each entry is added with
  an id chosen by Redis (*). The entries of one call are appended atomically, in order.

  The entries come as one JSON argument rather than one argument per field: the client builds
  one string (JSON.stringify) instead of hundreds of arguments, which ioredis copies one by one.

  Input:
    KEYS[1] the partition's stream ({name:p}:in)
    ARGV[1] retention bound: entries with ids below it may be trimmed (approximately)
    ARGV[2] "1" to return the new entries' ids, "0" to return their count only
    ARGV[3] the entries, a JSON array of arrays of strings: [[field1, value1, field2, ...], ...]

  Output: the ids of the appended entries, in order, or their count.
]]
local stream = KEYS[1]
local minId = ARGV[1]
local wantIds = ARGV[2] == '1'
local entries = cjson.decode(ARGV[3])

redis.call('XTRIM', stream, 'MINID', '~', minId)
local ids = {}
for i = 1, #entries do
  local id = redis.call('XADD', stream, '*', unpack(entries[i]))
  if wantIds then ids[i] = id end
end
if wantIds then return ids end
return #entries
