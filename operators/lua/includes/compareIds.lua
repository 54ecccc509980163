--[[
  Compares two stream ids ("<ms>-<seq>") numerically: -1, 0 or 1.
]]
local function compareIds(a, b)
  local aMs, aSeq = string.match(a, '^(%d+)-(%d+)$')
  local bMs, bSeq = string.match(b, '^(%d+)-(%d+)$')
  aMs, bMs = tonumber(aMs), tonumber(bMs)
  if aMs ~= bMs then
    return aMs < bMs and -1 or 1
  end
  aSeq, bSeq = tonumber(aSeq), tonumber(bSeq)
  if aSeq == bSeq then
    return 0
  end
  return aSeq < bSeq and -1 or 1
end
