--[[
  Hides a member of a group, or shows it again, in the one partition that holds it, atomically:
  its score in every window instance moves from the instance's ranking to the sorted set of hidden
  members' scores (or back), keeping its expiry, and the member joins (or leaves) the group's
  hidden set, which the apply script consults, so its later records keep counting where it is.
  Bumps the partition's state revision: merges that read before this are stale.

  Input:
    KEYS[1] the group's hidden set       {t}:hidden:<group>
    KEYS[2] checkpoint hash              {t}:ckpt
    KEYS[3..] per window instance, three keys: scores, hidden members' scores, times
    ARGV[1] member
    ARGV[2] "hide" | "show"
    ARGV[3] "1" when ties go to who reached the score first (members stored with their time)

  Output: { changed (1: it was not already so), instances whose entry moved }
]]
-- @include bumpRevision
local set, checkpoint = KEYS[1], KEYS[2]
local member, hide, earliest = ARGV[1], ARGV[2] == 'hide', ARGV[3] == '1'

local changed
if hide then
  changed = redis.call('SADD', set, member)
else
  changed = redis.call('SREM', set, member)
end

local moved = 0
for i = 3, #KEYS, 3 do
  local from, to = KEYS[i], KEYS[i + 1]
  if not hide then
    from, to = to, from
  end
  local stored = member
  if earliest then
    local ts = redis.call('HGET', KEYS[i + 2], member)
    stored = ts and (string.rep('0', 15 - #ts) .. ts .. member)
  end
  local score = stored and redis.call('ZSCORE', from, stored)
  if score then
    local expireAt = redis.call('PEXPIRETIME', from)
    redis.call('ZREM', from, stored)
    redis.call('ZADD', to, score, stored)
    if expireAt > 0 then
      redis.call('PEXPIREAT', to, expireAt)
    end
    moved = moved + 1
  end
end
bumpRevision(checkpoint)
return { changed, moved }
