-- wrk script: POST /v1/messages to Herald (or any endpoint) with a unique `to` per request.
--
-- Environment:
--   HB_AUTH      Authorization header value (e.g. "Basic ...")
--   HB_KIND      "sms" (default) or "failover" (RCS -> SMS)
--   HB_DELAY_MS  per-connection pause between requests (0 = as fast as possible); with C
--                connections the offered rate is about C * 1000 / HB_DELAY_MS requests/s
--   HB_MAX_REQ   hard cap on requests per wrk thread (default 2,000,000)
-- Prints one line: HB_RESULT key=value ...
local auth    = os.getenv("HB_AUTH") or ""
local kind    = os.getenv("HB_KIND") or "sms"
local pause   = tonumber(os.getenv("HB_DELAY_MS") or "0") or 0
local maxreq  = tonumber(os.getenv("HB_MAX_REQ") or "2000000") or 2000000
local threads = {}
local nthreads = 0

function setup(thread)
   nthreads = nthreads + 1
   thread:set("tid", nthreads)
   table.insert(threads, thread)
end

function init(args)
   n = 0
   s202 = 0
   sother = 0
   firstbad = ""
   tobase = 44770000000 + tid * 10000000
end

function delay()
   return pause
end

function request()
   n = n + 1
   if n > maxreq then wrk.thread:stop() end
   local to = string.format("%.0f", tobase + n)
   local body
   if kind == "failover" then
      body = '{"channel":"rcs","message_type":"text","to":"' .. to ..
             '","from":"HeraldRCS","text":"Benchmark message","client_ref":"b' .. n ..
             '","failover":[{"channel":"sms","message_type":"text","to":"' .. to ..
             '","from":"Herald","text":"Benchmark message"}]}'
   else
      body = '{"channel":"sms","message_type":"text","to":"' .. to ..
             '","from":"Herald","text":"Benchmark message","client_ref":"b' .. n .. '"}'
   end
   return wrk.format("POST", "/v1/messages",
                     {["Content-Type"] = "application/json", ["Authorization"] = auth}, body)
end

function response(status, headers, body)
   if status == 202 then
      s202 = s202 + 1
   else
      sother = sother + 1
      if firstbad == "" then firstbad = status .. " " .. string.sub(body, 1, 200) end
   end
end

function done(summary, latency, requests)
   local ok, other, bad = 0, 0, ""
   for _, th in ipairs(threads) do
      ok = ok + th:get("s202")
      other = other + th:get("sother")
      if bad == "" then bad = th:get("firstbad") end
   end
   local secs = summary.duration / 1e6
   local e = summary.errors
   io.write(string.format(
      "HB_RESULT duration_s=%.3f requests=%d rps=%.1f accepted=%d other=%d " ..
      "errors=%d lat_p50_ms=%.3f lat_p90_ms=%.3f lat_p99_ms=%.3f lat_max_ms=%.3f\n",
      secs, summary.requests, ok / secs, ok, other,
      e.connect + e.read + e.write + e.status + e.timeout,
      latency:percentile(50) / 1000, latency:percentile(90) / 1000,
      latency:percentile(99) / 1000, latency.max / 1000))
   if bad ~= "" then io.write("HB_FIRST_BAD " .. string.gsub(bad, "\n", " ") .. "\n") end
end
