--[[
  Registers a replay of one board on one partition, atomically with reading its frontier: the
  partition's checkpoint at this moment. The replay rebuilds the entries up to the frontier into
  shadow keys; every batch the workers apply from now on comes after the checkpoint, and
  applyBatch-5 mirrors its changes of the board into the same shadow keys. So when the replay has
  read up to the frontier, the shadow holds every applied entry exactly once, whatever the workers
  did meanwhile.

  Input:
    KEYS[1] registration hash  {lb:p}:replay
    KEYS[2] checkpoint hash    {lb:p}:ckpt
    ARGV[1] replay id
    ARGV[2] board
    ARGV[3] windows, as ",day,week,"
    ARGV[4] least window start mirrored (older instances are left as they are), ms
    ARGV[5] registration ttl, ms (renewed by each replayBatch call)

  Output: { 1, frontier } ("" when nothing was applied yet), or { 0, id of the replay under way }.
]]
local registration, checkpointKey = KEYS[1], KEYS[2]
local current = redis.call('HGET', registration, 'id')
if current then
  return { 0, current }
end
local frontier = redis.call('HGET', checkpointKey, 'id') or ''
redis.call('HSET', registration, 'id', ARGV[1], 'board', ARGV[2], 'windows', ARGV[3],
  'minStart', ARGV[4], 'frontier', frontier)
redis.call('PEXPIRE', registration, ARGV[5])
return { 1, frontier }
