--[[
  The group's position in a stream: its last-delivered-id, from XINFO GROUPS, or nil when the
  stream or the group does not exist.
]]
local function groupPosition(streamKey, group)
  local groups = redis.pcall('XINFO', 'GROUPS', streamKey)
  if groups.err then
    return nil
  end
  for _, info in ipairs(groups) do
    local found, position = false, nil
    for i = 1, #info, 2 do
      if info[i] == 'name' and info[i + 1] == group then
        found = true
      elseif info[i] == 'last-delivered-id' then
        position = info[i + 1]
      end
    end
    if found then
      return position
    end
  end
  return nil
end
