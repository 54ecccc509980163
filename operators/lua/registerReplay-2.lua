--[[
  Registers a replay of one group on one partition, atomically with reading its frontier: the
  partition's checkpoint at this moment. The replay rebuilds the entries up to the frontier into
  shadow keys; every batch the workers apply from now on comes after the checkpoint, and
  applyState-n mirrors its changes of the group into the same shadow keys (the workers refuse a
  batch built without knowing of the registration, read it, and build the batch again). So when
  the replay has read up to the frontier, the shadow holds every applied entry exactly once,
  whatever the workers did meanwhile.

  Input:
    KEYS[1] registration hash  {t}:replay
    KEYS[2] checkpoint hash    {t}:ckpt
    ARGV[1] replay id
    ARGV[2] group
    ARGV[3] window names, as ",day,week,"
    ARGV[4] least window start rebuilt (older instances are left as they are), ms
    ARGV[5] registration ttl, ms (renewed by each replayed chunk)

  Output: { 1, frontier } ("" when nothing was applied yet), or { 0, id of the replay under way }.
]]
local registration, checkpointKey = KEYS[1], KEYS[2]
local current = redis.call('HGET', registration, 'id')
if current then
  return { 0, current }
end
local frontier = redis.call('HGET', checkpointKey, 'id') or ''
redis.call('HSET', registration, 'id', ARGV[1], 'group', ARGV[2], 'windows', ARGV[3],
  'minStart', ARGV[4], 'frontier', frontier)
redis.call('PEXPIRE', registration, ARGV[5])
return { 1, frontier }
