-- wrk script for bench/run. One script for every scenario, chosen by environment variables:
--
--   BENCH_MODE     shop     GET /shop/{id}, id uniform in [BENCH_ID_LO, BENCH_ID_HI]
--                  fixed    GET BENCH_PATH on every request
--                  seckill  POST /voucher-order/seckill/BENCH_VOUCHER, cycling through the first
--                           BENCH_USERS tokens of BENCH_TOKENS (one 32-hex token a line); each
--                           wrk thread owns a disjoint slice, so the users are distinct
--                  mixed    90% shop reads, 5% GET /shop/of/type (geo), 5% PUT /shop
--   BENCH_THREADS  the -t given to wrk (to split the tokens between threads)
--
-- Every response is classified: HTTP status class, and for 2xx bodies "success":true versus
-- "success":false (a business failure, e.g. 库存不足), so business failures are never counted
-- as successes. done() prints one machine-readable line, prefixed WRKJSON, with latency
-- percentiles (microseconds) and the summed counters of all threads.
-- Requests are pre-built in init() (building them in request() would slow wrk down).

local mode = os.getenv("BENCH_MODE") or "shop"
local lo = tonumber(os.getenv("BENCH_ID_LO") or "1")
local hi = tonumber(os.getenv("BENCH_ID_HI") or "1000")
local fixed_path = os.getenv("BENCH_PATH") or "/shop/1"
local voucher = os.getenv("BENCH_VOUCHER") or "0"
local token_file = os.getenv("BENCH_TOKENS")
local users = tonumber(os.getenv("BENCH_USERS") or "0")
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
-- Shop writes need the administrator: bench/run sources the stores' env file, which holds it.
local admin_token = os.getenv("SURGE_ADMIN_TOKEN") or ""

local COUNTERS = {
  "s2xx", "s3xx", "s4xx", "s404", "s5xx", "s503", "s_other",
  "ok", "biz_fail", "f_stock", "f_repeat", "f_absent", "f_other", "unparsed",
  "sent_read", "sent_geo", "sent_write", "sent_sale",
}

-- setup/done run in their own Lua state: keep the thread handles there.
local threads = {}
local next_tid = 0
function setup(thread)
  next_tid = next_tid + 1
  thread:set("tid", next_tid)
  table.insert(threads, thread)
end

local reqs = {}      -- pre-built requests for this thread
local nreqs = 0
local cursor = 0
local geo_reqs = {}
local write_base = nil

local function build_shop_requests()
  for id = lo, hi do
    reqs[#reqs + 1] = wrk.format("GET", "/shop/" .. id)
  end
end

function init(args)
  for _, c in ipairs(COUNTERS) do _G[c] = 0 end
  local t = tid or 1
  math.randomseed(os.time() * 1000 + t * 7919)
  for _ = 1, 10 do math.random() end
  if mode == "shop" or mode == "mixed" then
    build_shop_requests()
  elseif mode == "fixed" then
    reqs[1] = wrk.format("GET", fixed_path)
  elseif mode == "seckill" then
    local f = assert(io.open(token_file, "r"), "cannot open BENCH_TOKENS " .. tostring(token_file))
    local i = 0
    for line in f:lines() do
      i = i + 1
      if i > users then break end
      -- token i goes to thread ((i-1) mod nthreads) + 1: disjoint slices
      if (i - 1) % nthreads == t - 1 then
        reqs[#reqs + 1] = wrk.format("POST", "/voucher-order/seckill/" .. voucher,
                                     { ["authorization"] = line }, "")
      end
    end
    f:close()
    if #reqs == 0 then
      -- more threads than users: this thread sends nothing useful; keep it harmless
      reqs[1] = wrk.format("GET", "/health")
    end
  end
  if mode == "mixed" then
    for type_id = 1, 10 do
      geo_reqs[#geo_reqs + 1] = wrk.format("GET", "/shop/of/type?typeId=" .. type_id ..
                                           "&current=1&x=120.149993&y=30.334229")
    end
  end
  nreqs = #reqs
end

function request()
  if mode == "seckill" then
    cursor = cursor % nreqs + 1
    sent_sale = sent_sale + 1
    return reqs[cursor]
  elseif mode == "fixed" then
    sent_read = sent_read + 1
    return reqs[1]
  elseif mode == "mixed" then
    local r = math.random()
    if r < 0.90 then
      sent_read = sent_read + 1
      return reqs[math.random(nreqs)]
    elseif r < 0.95 then
      sent_geo = sent_geo + 1
      return geo_reqs[math.random(#geo_reqs)]
    else
      sent_write = sent_write + 1
      local body = '{"id":' .. math.random(lo, hi) .. ',"sold":' .. math.random(0, 100000) .. '}'
      return wrk.format("PUT", "/shop", { ["Content-Type"] = "application/json",
                                          ["authorization"] = admin_token }, body)
    end
  end
  sent_read = sent_read + 1
  return reqs[math.random(nreqs)]
end

local find = string.find
function response(status, headers, body)
  if status >= 200 and status < 300 then
    s2xx = s2xx + 1
    if body == nil then
      unparsed = unparsed + 1
    elseif find(body, '"success":true', 1, true) then
      ok = ok + 1
    elseif find(body, '"success":false', 1, true) then
      biz_fail = biz_fail + 1
      if find(body, "库存不足", 1, true) then
        f_stock = f_stock + 1
      elseif find(body, "不能重复下单", 1, true) then
        f_repeat = f_repeat + 1
      elseif find(body, "店铺不存在", 1, true) then
        f_absent = f_absent + 1
      else
        f_other = f_other + 1
      end
    else
      unparsed = unparsed + 1
    end
  elseif status >= 300 and status < 400 then
    s3xx = s3xx + 1
  elseif status >= 400 and status < 500 then
    s4xx = s4xx + 1
    if status == 404 then s404 = s404 + 1 end
  elseif status >= 500 and status < 600 then
    s5xx = s5xx + 1
    if status == 503 then s503 = s503 + 1 end
  else
    s_other = s_other + 1
  end
end

function done(summary, latency, requests)
  local total = {}
  for _, c in ipairs(COUNTERS) do total[c] = 0 end
  for _, th in ipairs(threads) do
    for _, c in ipairs(COUNTERS) do total[c] = total[c] + (th:get(c) or 0) end
  end
  local e = summary.errors
  local parts = {
    string.format('"requests":%d', summary.requests),
    string.format('"duration_us":%d', summary.duration),
    string.format('"bytes":%d', summary.bytes),
    string.format('"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d',
                  e.connect, e.read, e.write, e.status, e.timeout),
    string.format('"lat_min":%d,"lat_mean":%.1f,"lat_stdev":%.1f,"lat_max":%d',
                  latency.min, latency.mean, latency.stdev, latency.max),
    string.format('"p50":%d,"p90":%d,"p99":%d,"p999":%d',
                  latency:percentile(50), latency:percentile(90), latency:percentile(99),
                  latency:percentile(99.9)),
  }
  for _, c in ipairs(COUNTERS) do
    parts[#parts + 1] = string.format('"%s":%d', c, total[c])
  end
  io.write("WRKJSON {" .. table.concat(parts, ",") .. "}\n")
end
