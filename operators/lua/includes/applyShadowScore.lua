--[[
  Applies one value to a replay's shadow state (`shadow` is `{lb:p}:replay:<id>:`) by the board's
  policy, as applyScore does to the live state, and records the window instance in the shadow's
  `instances` hash with the expiry its live key takes when swapped in (0: none). Shadow keys of
  open windows, and the instances hash, expire after `ttl` ms unless swapped in first, so an
  abandoned replay cleans up after itself.
]]
local function applyShadowScore(shadow, board, windowKey, userId, policy, value, ts, expireAt, expired, ttl)
  local score = applyScore(shadow, board, windowKey, userId, policy, value, ts, expireAt, expired)
  local instances = shadow .. 'instances'
  local seen = instances .. ' ' .. board .. ':' .. windowKey
  if not expired[seen] then
    redis.call('HSET', instances, windowKey, expireAt)
    redis.call('PEXPIRE', instances, ttl, 'NX')
    if expireAt == '0' then
      redis.call('PEXPIRE', shadow .. 'z:' .. board .. ':' .. windowKey, ttl, 'NX')
      if policy == 'last' then
        redis.call('PEXPIRE', shadow .. 't:' .. board .. ':' .. windowKey, ttl, 'NX')
      end
    end
    expired[seen] = true
  end
  return score
end
