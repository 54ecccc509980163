--[[
  Moves a consumer group to an entry id (XGROUP SETID), routed by the stream's key on a cluster
  (XGROUP names its key after a subcommand). What follows the id is delivered again; entries
  already pending stay pending.

  Input:
    KEYS[1] stream key
    ARGV[1] group
    ARGV[2] entry id, or "$"

  Output: "OK", or Redis' error (NOGROUP when the group does not exist).
]]
return redis.call('XGROUP', 'SETID', KEYS[1], ARGV[1], ARGV[2])
