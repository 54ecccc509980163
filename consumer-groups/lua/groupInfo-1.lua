--[[
  A group's figures on one partition's stream, in one command routed by the stream's key
  (XINFO names its key after a subcommand, so a cluster client cannot route it: it would go to a
  random node and come back MOVED).

  Input:
    KEYS[1] stream key
    ARGV[1] group

  Output: { length, found, pending, lag, lastDeliveredId }: the stream's length (0 when it does
  not exist); found 1 when the group exists, else 0 (and the figures after it are 0, -1, "0-0");
  lag -1 when Redis cannot tell (after deletes, or before Redis 7.0).
]]
local streamKey = KEYS[1]
local group = ARGV[1]
local length = redis.call('XLEN', streamKey)
local groups = redis.pcall('XINFO', 'GROUPS', streamKey)
if groups.err then
  return { length, 0, 0, -1, '0-0' }
end
for _, info in ipairs(groups) do
  local fields = {}
  for i = 1, #info, 2 do
    fields[info[i]] = info[i + 1]
  end
  if fields['name'] == group then
    local lag = fields['lag']
    if type(lag) ~= 'number' then
      lag = -1
    end
    return { length, 1, fields['pending'], lag, fields['last-delivered-id'] }
  end
end
return { length, 0, 0, -1, '0-0' }
