// The Lua scripts of the budget hashes (see budget.go), each one atomic
// round trip.

package fleet

import "github.com/redis/go-redis/v9"

// createLua makes sure the hash (KEYS[1]) exists with an epoch (ARGV[1])
// and keeps it alive (ARGV[2] ms): a new hash gets its TTL at once, so
// that no path leaves one without.
const createLua = `
redis.call('HSETNX', KEYS[1], 'epoch', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
`

// writeScript writes a replica's fields (ARGV[3] replica, [4]
// generation, [5] r:, [6] u:, [7] f:, [8] m:, [9] their start
// generation, [10] 1 when none of its reservations is on its way, [11]
// the history's TTL in ms) unless a newer generation is there already.
// The stored history is KEYS[2].
var writeScript = redis.NewScript(createLua + `
local id, gen = ARGV[3], tonumber(ARGV[4])
local function field(name) return redis.call('HGET', KEYS[1], name .. id) end
if gen <= tonumber(field('g:') or '0') then return 0 end
-- a counter since ARGV[9]: what it was at the last write, 0 if it started since
local function prior(name)
  local start, was = string.match(field(name) or '', '^(%-?%d+):(%-?%d+)$')
  if start == ARGV[9] then return tonumber(was) end
  return 0
end
local filed, moved = tonumber(ARGV[7]), tonumber(ARGV[8])
local pending = math.max(tonumber(field('p:') or '0') - (filed - prior('f:')), 0)
if ARGV[10] == '1' and tonumber(field('q:') or '0') < gen then pending = 0 end
local grown = moved - prior('m:')
if grown ~= 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local before = redis.call('HGET', KEYS[1], 'stored') or '0'
  redis.call('HINCRBY', KEYS[1], 'stored', grown)
  redis.call('ZADD', KEYS[2], now, before .. ':' .. id .. ':' .. ARGV[4])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[11]) * 1000)
  redis.call('PEXPIRE', KEYS[2], ARGV[11])
end
redis.call('HSET', KEYS[1], 'g:' .. id, ARGV[4], 'r:' .. id, math.max(tonumber(ARGV[5]), 0), 'u:' .. id, ARGV[6],
  'p:' .. id, pending, 'f:' .. id, ARGV[9] .. ':' .. filed, 'm:' .. id, ARGV[9] .. ':' .. moved)
return 1
`)

// reserveScript drops the fields of replicas no longer in the fleet
// (KEYS[3], which the heartbeat keeps), sums every replica's r:, p: and
// u: and checks them against the hard budget (ARGV[5] = 1, limit
// ARGV[6], spent ARGV[7] as of the read that noted the stored counter
// ARGV[9] in epoch ARGV[10]). Taken, the estimate (ARGV[8]) joins the
// replica's (ARGV[3]) p:, and q: notes the reservation's generation
// (ARGV[4]). It answers {taken, committed beyond the store, epoch}.
var reserveScript = redis.NewScript(createLua + `
local id = ARGV[3]
if redis.call('EXISTS', KEYS[3]) == 1 then
  for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
    local replica = string.match(f, '^%a:(.+)$')
    if replica and replica ~= id and not redis.call('ZSCORE', KEYS[3], replica) then
      redis.call('HDEL', KEYS[1], f)
    end
  end
end
local beyond, stored, epoch = 0, 0, ''
local vals = redis.call('HGETALL', KEYS[1])
for i = 1, #vals, 2 do
  local f, v = vals[i], vals[i + 1]
  local kind = string.sub(f, 1, 2)
  if kind == 'r:' or kind == 'p:' or kind == 'u:' then beyond = beyond + tonumber(v)
  elseif f == 'stored' then stored = tonumber(v)
  elseif f == 'epoch' then epoch = v end
end
local since = stored
if epoch == ARGV[10] then since = math.max(stored - (tonumber(ARGV[9]) or 0), 0) end
beyond = beyond + since
local committed = tonumber(ARGV[7]) + beyond
local limit, estimate = tonumber(ARGV[6]), tonumber(ARGV[8])
if ARGV[5] == '1' and (committed + estimate > limit or (estimate == 0 and committed >= limit)) then
  return {0, beyond, epoch}
end
redis.call('HINCRBY', KEYS[1], 'p:' .. id, estimate)
if tonumber(redis.call('HGET', KEYS[1], 'q:' .. id) or '0') < tonumber(ARGV[4]) then
  redis.call('HSET', KEYS[1], 'q:' .. id, ARGV[4])
end
return {1, beyond, epoch}
`)

// loadedScript answers {stored counter as of ARGV[1] µs ago, epoch}: the
// value before the first change since then, else the current one. A key
// without a hash gets one (epoch ARGV[2]), so that replicas reading the
// store before its first reservation agree on its epoch.
var loadedScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[2]
  redis.call('HSET', KEYS[1], 'epoch', epoch)
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
local first = redis.call('ZRANGEBYSCORE', KEYS[2], now - tonumber(ARGV[1]), '+inf', 'LIMIT', 0, 1)
if #first > 0 then
  return {string.match(first[1], '^(%-?%d+):'), epoch}
end
return {redis.call('HGET', KEYS[1], 'stored') or '0', epoch}
`)

// writeArgs are the arguments of writeScript for w.
func (l *Limits) writeArgs(w spendWrite) []any {
	return []any{l.id(), spendIdle.Milliseconds(), l.f.id, w.gen, w.reserved, w.unstored, w.filed, w.moved, w.start,
		flag(w.quiet), storedHistory.Milliseconds()}
}
