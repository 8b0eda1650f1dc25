-- wrk script: every request is a POST of the JSON body in the file named
-- by BENCH_BODY (the request-validation variants, post_1k and
-- validate_1k).

local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.body = f:read("*a")
f:close()

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
