-- wrk script for soak/soak.t: every request names its kind in X-Kind;
-- the gateway echoes it back (add_header X-Kind), so each response is
-- checked against the statuses its kind may have.  Counts are kept per
-- thread and printed by done() as one "SOAK ..." line.

local kinds = {
   { "key",     "/api/orders",            "X-API-Key", "KEY",   "200" },
   { "badkey",  "/api/orders",            "X-API-Key", "BAD",   "401" },
   { "jwt",     "/api/orders",            "Authorization", "JWT", "200" },
   { "limited", "/limited/x",             "X-API-Key", "KEY",   "200 429" },
   { "proxy",   "/proxy/x",               "X-API-Key", "KEY",   "200" },
   { "public",  "/pub/x",                 nil,         nil,     "200" },
   { "url",     "/api/orders?api_key=x",  nil,         nil,     "401" },
}

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   local values = {
      KEY = os.getenv("SOAK_KEY"),
      BAD = os.getenv("SOAK_BAD_KEY"),
      JWT = "Bearer " .. os.getenv("SOAK_JWT"),
   }

   reqs = {}
   expect = {}

   for i, k in ipairs(kinds) do
      local h = { ["X-Kind"] = k[1] }
      if k[3] then
         h[k[3]] = values[k[4]]
      end
      reqs[i] = wrk.format("GET", k[2], h)
      expect[k[1]] = {}
      for s in string.gmatch(k[5], "%d+") do
         expect[k[1]][tonumber(s)] = true
      end
   end

   pos = 0
   responses = 0
   unexpected = 0
   first = ""
   s200 = 0
   s401 = 0
   s429 = 0
   other = 0
end

function request()
   pos = pos % #reqs + 1
   return reqs[pos]
end

function response(status, headers, body)
   responses = responses + 1

   if status == 200 then
      s200 = s200 + 1
   elseif status == 401 then
      s401 = s401 + 1
   elseif status == 429 then
      s429 = s429 + 1
   else
      other = other + 1
   end

   local kind = headers["X-Kind"]
   local ok = kind and expect[kind] and expect[kind][status]

   if not ok then
      unexpected = unexpected + 1
      if first == "" then
         first = tostring(kind) .. ":" .. status
      end
   end
end

function done(summary, latency, requests)
   local r, u, a, b, c, o = 0, 0, 0, 0, 0, 0
   local f = ""

   for _, t in ipairs(threads) do
      r = r + t:get("responses")
      u = u + t:get("unexpected")
      a = a + t:get("s200")
      b = b + t:get("s401")
      c = c + t:get("s429")
      o = o + t:get("other")
      if f == "" then
         f = t:get("first")
      end
   end

   local e = summary.errors
   io.write(string.format("SOAK responses=%d unexpected=%d s200=%d " ..
      "s401=%d s429=%d other=%d connect=%d read=%d write=%d timeout=%d " ..
      "first=%s\n", r, u, a, b, c, o, e.connect, e.read, e.write,
      e.timeout, f == "" and "-" or f))
end
