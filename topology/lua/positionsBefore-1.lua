--[[
  For each of several (score, member) positions, how many entries of one partition come before
  it in ranking order. A unique rank (the `earliest` tie rule) is 1 + these counts summed over the
  partitions; the reads of one turn of the event loop send their positions together.

  Input:
    KEYS[1] the partition's sorted set
    ARGV[1] order: "desc" or "asc"
    ARGV[2..] pairs: score, member

  Output: the counts, in the order of the positions.
]]
-- @include positionOf

local key, desc = KEYS[1], ARGV[1] == 'desc'
local counts = {}
for i = 2, #ARGV, 2 do
  local before = positionOf(key, ARGV[i], ARGV[i + 1], desc)
  counts[#counts + 1] = before
end
return counts
