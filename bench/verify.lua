-- wrk script: GET /api/v1/certificates/<serial> with a serial picked at random from a file (one per line).
-- Usage: wrk ... -s bench/verify.lua http://127.0.0.1:PORT -- /path/serials.txt
local serials = {}

function init(args)
  for line in io.lines(args[1]) do
    serials[#serials + 1] = line
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 1000)
end

function request()
  return wrk.format("GET", "/api/v1/certificates/" .. serials[math.random(#serials)])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "mean_us": %.1f, ' ..
    '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
