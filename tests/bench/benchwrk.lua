-- wrk script of tests/bench/benchwrk.py: the bearer token from the
-- environment (OSH_BENCH_TOKEN), not from wrk's command line, and the
-- Accept-Encoding a browser or HTTP library sends when
-- OSH_BENCH_ACCEPT_ENCODING says one.
local token = os.getenv("OSH_BENCH_TOKEN")
if token ~= nil and token ~= "" then
	wrk.headers["Authorization"] = "Bearer " .. token
end
local accept = os.getenv("OSH_BENCH_ACCEPT_ENCODING")
if accept ~= nil and accept ~= "" then
	wrk.headers["Accept-Encoding"] = accept
end
