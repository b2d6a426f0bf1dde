-- The redis store's operations, run by Redis as one script (EVALSHA), so
-- that each is atomic: no other client's command runs in the middle of one.
-- redis_store.cpp sends: KEYS[1] = the store's tree key (it names the hash
-- slot every key of the store is in), ARGV[1] = the operation, ARGV[2] =
-- the key prefix ("{name}:"), then the operation's arguments ('fenced'
-- before a change: below).
--
-- Keys, after the prefix:
--   tree        sorted set of every path but "/" (score 0: sorted by bytes),
--               resources ("/a/b") and collections ("/a/"), for prefix scans
--   r:/a/b      a resource: hash b (bytes), t (media type), m (modified),
--               c (created), v (version)
--   c:/a/       a collection: when it was made; "c:/" the root's
--   p:PATH      the dead properties of a resource or collection: name -> value
--   version     the counter that numbers versions (ETags)
--   epoch       when the store was first written: ETags of a store emptied
--               by FLUSHALL never match those from before
--   locks       the WebDAV lock table, as lock_table.cpp writes it
--
-- Statuses are those of <verbd/plugin.h>: 0 OK, -1 NOT_FOUND,
-- -2 IS_COLLECTION, -3 NOT_COLLECTION, -4 EXISTS, -5 NO_SPACE, -14 NO_PARENT.

local tree = KEYS[1]
local operation, P = ARGV[1], ARGV[2]

local function names_collection(path) return string.sub(path, -1) == '/' end

-- Everything below the collection `prefix` ("/a/"), as a ZRANGEBYLEX range:
-- every path that starts with "/a/" sorts before "/a0".
local function below(prefix)
  return '[' .. prefix, '(' .. string.sub(prefix, 1, -2) .. '0'
end

local function exists(key) return redis.call('EXISTS', P .. key) == 1 end

local function is_collection(path) return path == '/' or exists('c:' .. path) end

local function epoch()
  local value = redis.call('GET', P .. 'epoch')
  if value then return value end
  local now = redis.call('TIME')
  value = now[1] .. now[2]
  redis.call('SET', P .. 'epoch', value)
  return value
end

-- What `path` is: {kind, size, media type, modified, created, ETag, bytes?}
-- (kind 1 resource, 2 collection), or a status.
local function look(path, with_bytes)
  if not names_collection(path) then
    local fields = {'t', 'm', 'c', 'v'}
    if with_bytes then fields[5] = 'b' end
    local r = redis.call('HMGET', P .. 'r:' .. path, unpack(fields))
    if r[1] then
      local size = redis.call('HSTRLEN', P .. 'r:' .. path, 'b')
      return {1, size, r[1], r[2], r[3], epoch() .. '-' .. r[4], r[5] or ''}
    end
    path = path .. '/'
  end
  local made = redis.call('GET', P .. 'c:' .. path)
  if path == '/' and not made then made = '0' end
  if not made then return -1 end
  return {2, 0, '', made, made, '', ''}
end

-- Removes the resource `path`, or the collection `path` (named with or
-- without its '/') with all below it; false when nothing was there.
local function erase(path)
  if not names_collection(path) and redis.call('DEL', P .. 'r:' .. path) == 1 then
    redis.call('DEL', P .. 'p:' .. path)
    redis.call('ZREM', tree, path)
    return true
  end
  local prefix = names_collection(path) and path or path .. '/'
  if not is_collection(prefix) then return false end
  local from, to = below(prefix)
  for _, member in ipairs(redis.call('ZRANGEBYLEX', tree, from, to)) do
    redis.call('DEL', P .. 'r:' .. member, P .. 'c:' .. member, P .. 'p:' .. member)
  end
  redis.call('ZREMRANGEBYLEX', tree, from, to)
  if prefix == '/' then redis.call('DEL', P .. 'p:/') end
  return true
end

-- The collections above `path`, outermost first; NOT_COLLECTION where a
-- resource is in the way.
local function parents(path)
  local found = {}
  local at = 2
  while true do
    local slash = string.find(path, '/', at, true)
    if not slash then return found end
    if exists('r:' .. string.sub(path, 1, slash - 1)) then return nil end
    found[#found + 1] = string.sub(path, 1, slash)
    at = slash + 1
  end
end

local function make_collection(path, now)
  if redis.call('SETNX', P .. 'c:' .. path, now) == 1 then redis.call('ZADD', tree, 0, path) end
end

local function write(path, body, media_type, mode, now, guessed)
  if exists('c:' .. path .. '/') then return -2 end
  local above = parents(path)
  if not above then return -3 end
  local key = P .. 'r:' .. path
  local old = redis.call('HMGET', key, 'b', 't', 'c')
  local created = not old[1]
  if not created and mode == '2' then return -4 end
  for _, collection in ipairs(above) do make_collection(collection, now) end
  local bytes = body
  if not created and mode == '1' then bytes = old[1] .. body end
  local type = media_type
  if type == '' then type = created and guessed or old[2] end
  local made = created and now or old[3]
  local version = redis.call('INCR', P .. 'version')
  redis.call('HSET', key, 'b', bytes, 't', type, 'm', now, 'c', made, 'v', version)
  if created then redis.call('ZADD', tree, 0, path) end
  return {created and 1 or 0, string.len(bytes), type, now, made, epoch() .. '-' .. version}
end

local function list(path)
  local prefix = names_collection(path) and path or path .. '/'
  if not is_collection(prefix) then return -1 end
  local from, to = below(prefix)
  local names, seen = {}, {}
  for _, member in ipairs(redis.call('ZRANGEBYLEX', tree, from, to)) do
    local rest = string.sub(member, string.len(prefix) + 1)
    local slash = string.find(rest, '/', 1, true)
    local name = slash and string.sub(rest, 1, slash) or rest
    if name ~= '' and not seen[name] then
      seen[name] = true
      names[#names + 1] = name
    end
  end
  return names
end

local function mkcol(path, now)
  if exists('c:' .. path) or exists('r:' .. string.sub(path, 1, -2)) then return -4 end
  local parent = string.match(string.sub(path, 1, -2), '^(.*/)')
  if not is_collection(parent) then return -14 end
  make_collection(path, now)
  return 0
end

-- Copies `from` to `to` (and with `move`, removes `from`): the resource, or
-- the collection with all below it (only itself when `shallow`). A copy is
-- a new resource: new version, new creation time. Properties go along.
local function copy_tree(from, to, shallow, move, now)
  local members = {from}
  if names_collection(from) and not shallow then
    local low, high = below(from)
    members = redis.call('ZRANGEBYLEX', tree, low, high)
  end
  local renamed = {}
  for i, member in ipairs(members) do
    renamed[i] = to .. string.sub(member, string.len(from) + 1)
    local target = renamed[i]
    if names_collection(member) then
      local made = redis.call('GET', P .. 'c:' .. member)
      redis.call('SET', P .. 'c:' .. target, move and made or now)
    else
      local r = redis.call('HMGET', P .. 'r:' .. member, 'b', 't', 'm', 'c', 'v')
      local version = move and r[5] or redis.call('INCR', P .. 'version')
      redis.call('HSET', P .. 'r:' .. target, 'b', r[1], 't', r[2], 'm', r[3], 'c', move and r[4] or now,
                 'v', version)
    end
    local properties = redis.call('HGETALL', P .. 'p:' .. member)
    if #properties > 0 then redis.call('HSET', P .. 'p:' .. target, unpack(properties)) end
    redis.call('ZADD', tree, 0, target)
  end
end

local function transfer(from, to, overwrite, shallow, move, now)
  local collection = names_collection(from)
  if collection and not exists('c:' .. from) or not collection and not exists('r:' .. from) then return -1 end
  local parent = string.match(collection and string.sub(to, 1, -2) or to, '^(.*/)')
  if not is_collection(parent) then return -14 end
  local bare = collection and string.sub(to, 1, -2) or to
  local created = not exists('r:' .. bare) and not exists('c:' .. bare .. '/')
  if not created and not overwrite then return -4 end
  erase(bare)
  erase(bare .. '/')
  copy_tree(from, to, shallow and not move, move, now)
  if move then erase(from) end
  return created and 1 or 0
end

-- The key of what `path` names: a collection named without its '/' is the
-- collection.
local function properties_key(path)
  local found = look(path, false)
  if type(found) == 'number' then return nil end
  if found[1] == 2 and not names_collection(path) then path = path .. '/' end
  return P .. 'p:' .. path
end

-- ARGV after the path: the most bytes, then (remove, name, value) for each change.
local function change_properties(path, most, changes)
  local key = properties_key(path)
  if not key then return -1 end
  local properties = {}
  local current = redis.call('HGETALL', key)
  for i = 1, #current, 2 do properties[current[i]] = current[i + 1] end
  for i = 1, #changes, 3 do
    if changes[i] == '1' then properties[changes[i + 1]] = nil else properties[changes[i + 1]] = changes[i + 2] end
  end
  local flat, bytes = {}, 0
  for name, value in pairs(properties) do
    flat[#flat + 1] = name
    flat[#flat + 1] = value
    bytes = bytes + string.len(name) + string.len(value)
  end
  if bytes > most then return -5 end
  redis.call('DEL', key)
  if #flat > 0 then redis.call('HSET', key, unpack(flat)) end
  return 0
end

local function swap_locks(expected, text)
  if (redis.call('GET', P .. 'locks') or '') ~= expected then return 0 end
  if text == '' then redis.call('DEL', P .. 'locks') else redis.call('SET', P .. 'locks', text) end
  return 1
end

-- A change the host checked against the lock table (LockTable::admit)
-- comes as 'fenced', the table's text as checked, then the change: -13
-- (LOCKED) when the table is no longer that text, and the host checks the
-- change again against the new one.
if operation == 'fenced' then
  if (redis.call('GET', P .. 'locks') or '') ~= ARGV[3] then return -13 end
  operation = ARGV[4]
  table.remove(ARGV, 4)
  table.remove(ARGV, 3)
end

local path = ARGV[3]
if operation == 'look' then return look(path, ARGV[4] == '1') end
if operation == 'write' then return write(path, ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]) end
if operation == 'remove' then return erase(path) and 0 or -1 end
if operation == 'list' then return list(path) end
if operation == 'mkcol' then return mkcol(path, ARGV[4]) end
if operation == 'transfer' then
  return transfer(path, ARGV[4], ARGV[5] == '1', ARGV[6] == '1', ARGV[7] == '1', ARGV[8])
end
if operation == 'properties' then
  local key = properties_key(path)
  if not key then return -1 end
  return redis.call('HGETALL', key)
end
if operation == 'change_properties' then
  return change_properties(path, tonumber(ARGV[4]), {unpack(ARGV, 5)})
end
if operation == 'locks' then return redis.call('GET', P .. 'locks') or '' end
if operation == 'swap_locks' then return swap_locks(ARGV[3], ARGV[4]) end
return redis.error_reply('verbd: unknown operation ' .. tostring(operation))
