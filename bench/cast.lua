-- wrk script for bench/bench_cast.py: every request casts a ballot with a slip never sent
-- before. The bodies file holds one JSON body per line, each with its own unused token;
-- wrk thread i of n sends lines i, i + n, i + 2n, ... so no two requests share a token.
-- When a thread runs out of lines it stops, and its last request carries a code with a
-- typo (answered 422 "mistyped_code", spending nothing), which done() reports as
-- "exhausted": a run that exhausts its bodies is too short to trust and says so.
-- With CAST_CYCLE=1 (the bare endpoint, which stores nothing) a thread starts its lines
-- again instead: its rate must not be capped by the size of the file.
--
-- Usage: CAST_RECEIPTS=receipts.txt wrk -t2 -c100 -d20s -s bench/cast.lua URL -- BODIES 2

local threads = {}
local counter = 0
-- done() runs in the main state, which saw no init(): it learns the path here.
receipts_path = os.getenv("CAST_RECEIPTS") or "/dev/null"
local cycle = os.getenv("CAST_CYCLE") == "1"

function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local bodies = {}
local next_body = 1
statuses = {}  -- globals: done() reads them from each thread
exhausted = 0
issued = 0
receipts = {}
local headers = {["Content-Type"] = "application/json"}
local path = "/api/v1/vote/cast"
-- A token with a wrong check character: refused before any database work.
local spent_out = '{"token":"0000000000000000000000000000","answers":{}}'

function init(args)
  -- args: the bodies file, and wrk's thread count (-t), which each thread's state lacks.
  local total = tonumber(args[2])
  local file = assert(io.open(args[1], "r"))
  local line_number = 0
  for line in file:lines() do
    if line_number % total == index then
      table.insert(bodies, line)
    end
    line_number = line_number + 1
  end
  file:close()
end

function request()
  local body = bodies[next_body]
  if body == nil and cycle then
    next_body = 1
    body = bodies[next_body]
  end
  if body == nil then
    exhausted = exhausted + 1
    wrk.thread:stop()
    return wrk.format("POST", path, headers, spent_out)
  end
  next_body = next_body + 1
  issued = issued + 1
  return wrk.format("POST", path, headers, body)
end

function response(status, response_headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 201 then
    table.insert(receipts, string.match(body, '"receipt":"(%w+)"'))
  end
end

function done(summary, latency, requests)
  local totals = {}
  local out_of_bodies = 0
  local sent = 0
  -- The receipts of the 201 replies, one a line: the bench finds each in the database.
  local receipts_file = assert(io.open(receipts_path, "w"))
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    for status, count in pairs(counts) do
      totals[status] = (totals[status] or 0) + count
    end
    out_of_bodies = out_of_bodies + thread:get("exhausted")
    sent = sent + thread:get("issued")
    for _, receipt in ipairs(thread:get("receipts")) do
      receipts_file:write(receipt, "\n")
    end
  end
  receipts_file:close()
  local parts = {}
  for status, count in pairs(totals) do
    table.insert(parts, string.format('"%d": %d', status, count))
  end
  io.write("BENCH_JSON {")
  io.write(string.format('"statuses": {%s}, ', table.concat(parts, ", ")))
  io.write(string.format('"exhausted": %d, ', out_of_bodies))
  -- Casts sent but not answered when wrk stopped: they still land on the server.
  io.write(string.format('"sent": %d, ', sent))
  io.write(string.format('"requests": %d, ', summary.requests))
  io.write(string.format('"duration_us": %d, ', summary.duration))
  io.write(string.format('"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ',
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status,
    summary.errors.timeout))
  io.write(string.format('"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}',
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
  io.write("}\n")
end
