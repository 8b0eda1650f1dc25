-- wrk script: a different bearer token on every request, cycling through
-- the file named by BENCH_TOKENS (one JWT a line).  The position is kept
-- in BENCH_STATE between runs so that consecutive runs continue the cycle
-- instead of replaying the tokens the worker's cache saw last.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   tokens = {}
   for line in io.lines(os.getenv("BENCH_TOKENS")) do
      tokens[#tokens + 1] = "Bearer " .. line
   end

   pos = 0
   local f = io.open(os.getenv("BENCH_STATE") or "", "r")
   if f then
      pos = tonumber(f:read("*l") or "0") or 0
      f:close()
   end
   pos = pos % #tokens

   headers = {}
   for k, v in pairs(wrk.headers) do
      headers[k] = v
   end
end

function request()
   pos = pos + 1
   if pos > #tokens then
      pos = 1
   end
   headers["Authorization"] = tokens[pos]
   return wrk.format(nil, nil, headers)
end

function done(summary, latency, requests)
   local state = os.getenv("BENCH_STATE")
   if state and threads[1] then
      local f = io.open(state, "w")
      f:write(tostring(threads[1]:get("pos")), "\n")
      f:close()
   end
end
