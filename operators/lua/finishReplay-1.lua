--[[
  Ends a replay on one partition, atomically. `swap`: every window instance the shadow holds
  replaces the live one (the old one is unlinked, the new one takes the live expiry), the shadow's
  eventId marks join the live ones, and the registration is removed, so the workers' next batch
  lands on the rebuilt state. `abort`: the shadow keys and the registration are removed.

  Input:
    KEYS[1] registration hash  {lb:p}:replay
    ARGV[1] replay id
    ARGV[2] key prefix "{lb:p}:"
    ARGV[3] board
    ARGV[4] "swap" | "abort"

  Output: the window instances swapped in (none on abort), or -1 when the replay is not registered.
]]
local registration = KEYS[1]
local id, prefix, board, mode = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if redis.call('HGET', registration, 'id') ~= id then
  return -1
end
local shadow = prefix .. 'replay:' .. id .. ':'
local instances = redis.call('HGETALL', shadow .. 'instances')
local swapped = {}
for i = 1, #instances, 2 do
  local windowKey, expireAt = instances[i], instances[i + 1]
  for _, kind in ipairs({ 'z:', 't:' }) do
    local source = shadow .. kind .. board .. ':' .. windowKey
    if mode == 'swap' then
      local target = prefix .. kind .. board .. ':' .. windowKey
      redis.call('UNLINK', target)
      if redis.call('EXISTS', source) == 1 then
        redis.call('RENAME', source, target)
        if expireAt == '0' then
          redis.call('PERSIST', target)
        else
          redis.call('PEXPIREAT', target, expireAt)
        end
      end
    else
      redis.call('UNLINK', source)
    end
  end
  if mode == 'swap' then
    swapped[#swapped + 1] = windowKey
  end
end
local shadowMarks = shadow .. 'dd:' .. board
if mode == 'swap' and redis.call('EXISTS', shadowMarks) == 1 then
  local marks = prefix .. 'dd:' .. board
  redis.call('ZUNIONSTORE', marks, 2, marks, shadowMarks, 'AGGREGATE', 'MAX')
end
redis.call('UNLINK', shadowMarks, shadow .. 'instances', registration)
return swapped
