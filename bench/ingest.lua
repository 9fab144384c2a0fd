-- wrk script for bench/ingest.py: cycles through pre-generated, distinct, pre-signed requests.
-- Usage: wrk -t N ... -s bench/ingest.lua URL -- <request file> N
-- The file has one request per line: "<app key>\t<timestamp>\t<signature>\t<json body>".
-- Thread k of n takes lines k, k+n, k+2n, ... so no two threads send the same body; "wraps"
-- counts how often a thread ran out and started over (then the server sees replays = dedupes).
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local path = args[1]
  reqs = {}
  idx = 0
  wraps = 0
  local i = 0
  for line in io.lines(path) do
    if i % tonumber(args[2]) == tid then
      local key, ts, sig, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      reqs[#reqs + 1] = wrk.format("POST", "/api/v1/events", {
        ["Content-Type"] = "application/json",
        ["X-App-Key"] = key, ["X-Timestamp"] = ts, ["X-Signature"] = sig,
      }, body)
    end
    i = i + 1
  end
end

function request()
  idx = idx + 1
  if idx > #reqs then
    idx = 1
    wraps = wraps + 1
  end
  return reqs[idx]
end

function done(summary, latency, requests)
  local w = 0
  for _, t in ipairs(threads) do w = w + (t:get("wraps") or 0) end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, "non2xx": %d, "connect_errors": %d, ' ..
    '"read_errors": %d, "write_errors": %d, "timeouts": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "mean_us": %.1f, "wraps": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean, w))
end
