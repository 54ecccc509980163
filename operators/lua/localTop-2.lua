--[[
  One partition's local top-K of a (group, window instance), read together with the partition's
  state revision, in one atomic step: the revision (`rev` of the checkpoint hash, bumped by every
  change of the partition's state: each applied batch, each replay swapped in) names exactly the
  state the entries come from. A merge of the partitions' local tops records the revisions it saw,
  and a snapshot merged from older reads never replaces one merged from newer reads
  (writeSnapshot-1).

  Input:
    KEYS[1] the partition's scores  {t}:z:<group>:<window key>
    KEYS[2] the partition's checkpoint hash  {t}:ckpt
    ARGV[1] K
    ARGV[2] order: 'desc' or 'asc'

  Output: { revision ("0" when none), flat member, score, member, score, ... }
]]
local k = tonumber(ARGV[1])
local entries
if ARGV[2] == 'desc' then
  entries = redis.call('ZRANGE', KEYS[1], 0, k - 1, 'REV', 'WITHSCORES')
else
  entries = redis.call('ZRANGE', KEYS[1], 0, k - 1, 'WITHSCORES')
end
return { redis.call('HGET', KEYS[2], 'rev') or '0', entries }
