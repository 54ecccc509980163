--[[
  Creates a consumer group on a stream, and the stream (MKSTREAM); a group that already exists is
  left as it is. A script so that a cluster client routes it by the stream's key (XGROUP names
  its key after a subcommand).

  Input:
    KEYS[1] stream key
    ARGV[1] group
    ARGV[2] where the group starts: an entry id, "0" or "$"

  Output: 1 when the group was created, 0 when it existed.
]]
local created = redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], ARGV[2], 'MKSTREAM')
if type(created) == 'table' and created.err then
  if string.sub(created.err, 1, 9) == 'BUSYGROUP' then
    return 0
  end
  return created
end
return 1
