--[[
  Ends a replay on one partition, atomically. `swap`: every window instance the shadow holds
  replaces the live one (the old one is unlinked, the new one takes the live expiry), the shadow's
  de-duplication marks join the live ones, the partition's state revision is bumped (merges that
  read before the swap are stale), and the registration is removed, so the workers' next batch
  lands on the rebuilt state. `abort`: the shadow keys and the registration are removed.

  The caller lists the instances it read from the shadow's instances hash, with their keys; the
  workers may have added one since (a live batch mirrored into a new instance), so the script
  refuses (-2) unless the hash holds exactly those, and the caller reads it again.

  Input:
    KEYS[1] registration hash   {t}:replay
    KEYS[2] shadow instances    {t}:replay:<id>:instances
    KEYS[3] checkpoint hash     {t}:ckpt
    KEYS[4] live marks          {t}:dd:<group>
    KEYS[5] shadow marks        {t}:replay:<id>:dd:<group>
    KEYS[6..] per instance, six keys: live and shadow scores, live and shadow times, live and
              shadow scores of hidden members
    ARGV[1] replay id
    ARGV[2] "swap" | "abort"
    ARGV[3..] per instance: its window key (as in the instances hash)

  Output: the window keys swapped in (none on abort), -1 when the replay is not registered, -2
  when the instances differ from the shadow's.
]]
-- @include bumpRevision
local registration, instancesKey, checkpointKey, liveMarks, shadowMarks =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local id, mode = ARGV[1], ARGV[2]
if redis.call('HGET', registration, 'id') ~= id then
  return -1
end
local count = #ARGV - 2
if redis.call('HLEN', instancesKey) ~= count then
  return -2
end
local swapped = {}
for i = 1, count do
  local windowKey = ARGV[i + 2]
  local expireAt = redis.call('HGET', instancesKey, windowKey)
  if not expireAt then
    return -2
  end
  local base = 5 + (i - 1) * 6
  for kind = 0, 2 do
    local live, shadow = KEYS[base + 1 + kind * 2], KEYS[base + 2 + kind * 2]
    if mode == 'swap' then
      redis.call('UNLINK', live)
      if redis.call('EXISTS', shadow) == 1 then
        redis.call('RENAME', shadow, live)
        if expireAt == '0' then
          redis.call('PERSIST', live)
        else
          redis.call('PEXPIREAT', live, expireAt)
        end
      end
    else
      redis.call('UNLINK', shadow)
    end
  end
  if mode == 'swap' then
    swapped[#swapped + 1] = windowKey
  end
end
if mode == 'swap' then
  if redis.call('EXISTS', shadowMarks) == 1 then
    redis.call('ZUNIONSTORE', liveMarks, 2, liveMarks, shadowMarks, 'AGGREGATE', 'MAX')
  end
  bumpRevision(checkpointKey)
end
redis.call('UNLINK', shadowMarks, instancesKey, registration)
return swapped
