-- wrk script for the bench: one request shape, rotated over N keys, with per-request bodies.
-- Arguments (after `--`): method, path, body ("" for none), n, salt, then "Name: value" header lines.
-- In path and body: {i} = request counter mod n (which pass), {u} = a number unique to the request
-- across every wrk run of one bench (salt = the run's number), e.g. a new externalId or field value.
-- done() prints one JSON line (prefix BENCHJSON) with counts and latency percentiles in microseconds.
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local method, path_t, body_t, n, salt, headers
local counter = 0

function init(args)
  method = args[1]
  path_t = args[2]
  body_t = args[3] ~= "" and args[3] or nil
  n = tonumber(args[4])
  salt = tonumber(args[5])
  headers = {}
  for k = 6, #args do
    local name, value = args[k]:match("^([^:]+):%s*(.*)$")
    headers[name] = value
  end
  -- Threads start at different offsets so they do not march over the same keys in step.
  counter = tid * 7919
end

local function fill(t, i, u)
  return (t:gsub("{i}", tostring(i)):gsub("{u}", string.format("%d", u)))
end

function request()
  counter = counter + 1
  local i = counter % n
  local u = salt * 10000000000 + tid * 1000000000 + counter
  local body = body_t and fill(body_t, i, u) or nil
  return wrk.format(method, fill(path_t, i, u), headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
end
