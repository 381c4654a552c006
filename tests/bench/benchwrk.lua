-- wrk script of tests/bench/benchwrk.py: the bearer token from the
-- environment (OSH_BENCH_TOKEN), not from wrk's command line.
local token = os.getenv("OSH_BENCH_TOKEN")
if token ~= nil and token ~= "" then
	wrk.headers["Authorization"] = "Bearer " .. token
end
