--[[
  Counts, for each of several scores, the members of one partition's sorted set with a better
  score: strictly higher on a desc board, strictly lower on an asc board. A rank is 1 + these
  counts summed over the partitions; the rank reads of one turn of the edge's event loop send
  their scores together, one call per partition, instead of one ZCOUNT per read and partition.

  Input:
    KEYS[1] the partition's scores ({lb:p}:z:<board>:<window>)
    ARGV[1] the board's order: 'desc' or 'asc'
    ARGV[2..] the scores, as ZSCORE printed them

  Output: the counts, in the order of the scores.
]]
local scores = KEYS[1]
local desc = ARGV[1] == 'desc'

local counts = {}
for i = 2, #ARGV do
  if desc then
    counts[i - 1] = redis.call('ZCOUNT', scores, '(' .. ARGV[i], '+inf')
  else
    counts[i - 1] = redis.call('ZCOUNT', scores, '-inf', '(' .. ARGV[i])
  end
end
return counts
