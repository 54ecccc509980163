--[[
  One partition's local top-K of a (board, window instance), read together with the partition's
  checkpoint, in one atomic step: the checkpoint names exactly the state the entries come from
  (the apply script moves it in the same step as the scores). A merge of the partitions' local
  tops records the checkpoints it saw, and a snapshot merged from older reads never replaces one
  merged from newer reads (writeSnapshot-1).

  Input:
    KEYS[1] the partition's scores  {lb:p}:z:<board>:<window>
    KEYS[2] the partition's checkpoint hash  {lb:p}:ckpt
    ARGV[1] K
    ARGV[2] order: 'desc' or 'asc'

  Output: { checkpoint id ("0-0" when none), flat member, score, member, score, ... }
]]
local k = tonumber(ARGV[1])
local entries
if ARGV[2] == 'desc' then
  entries = redis.call('ZRANGE', KEYS[1], 0, k - 1, 'REV', 'WITHSCORES')
else
  entries = redis.call('ZRANGE', KEYS[1], 0, k - 1, 'WITHSCORES')
end
return { redis.call('HGET', KEYS[2], 'id') or '0-0', entries }
