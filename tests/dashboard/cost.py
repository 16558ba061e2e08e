#!/usr/bin/env python3
# What one /dashboard/data read costs: two `surge serve` instances on the stores of ENV_FILE, reads
# timed idle (figures reused, then recomputed once a second) and during a 2,000-user flash sale
# (wrk with bench/lua/surge.lua, 1,000 connections per instance), with the instance's CPU and
# Redis round trips per read.
#   tests/dashboard/cost.py SURGE_BINARY ENV_FILE      (the test stores: build/ci/tests/stores/surge.env)
import json, os, random, socket, subprocess, sys, tempfile, time, http.client, concurrent.futures, statistics
if len(sys.argv) != 3:
    sys.exit("usage: tests/dashboard/cost.py SURGE_BINARY ENV_FILE")
surge, env_file = os.path.abspath(sys.argv[1]), sys.argv[2]
lua = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../bench/lua/surge.lua")
env = dict(os.environ)
for line in open(env_file):
    line = line.strip()
    if line and not line.startswith("#") and "=" in line:
        k, v = line.split("=", 1); env[k] = v.strip('"').strip("'")
def fp():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
inst = {}
for n in "ab":
    pub, adm = fp(), fp()
    p = subprocess.Popen([surge, "serve", "--listen", "127.0.0.1", "--port", str(pub), "--admin-listen",
                          f"127.0.0.1:{adm}", "--workers", "2", "--instance", f"cost-{n}", "--dev-return-code",
                          "--code-per-ip-hour", "1000000", "--code-per-phone-hour", "1000", "--sale-rate", "0",
                          "--log-level", "warn"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    inst[n] = (pub, adm, p)
def get(port, path, method="GET", body=None, headers={}):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request(method, path, body, headers); r = c.getresponse(); return r.status, r.read()
for n in "ab":
    for _ in range(300):
        try:
            if get(inst[n][0], "/health")[0] == 200: break
        except OSError: pass
        time.sleep(0.1)
cpu = lambda p: sum(int(x) for x in open(f"/proc/{p.pid}/stat").read().split(")")[1].split()[11:13]) * 10  # ms
A = inst["a"]
def redis_cmds():
    for l in get(A[1], "/metrics")[1].decode().splitlines():
        if l.startswith("surge_redis_requests_total "): return float(l.split()[1])
def series(n, label, pause=0.0):
    c = http.client.HTTPConnection("127.0.0.1", A[1]); times = []
    c0, r0 = cpu(A[2]), redis_cmds()
    for _ in range(n):
        t = time.perf_counter(); c.request("GET", "/dashboard/data"); body = c.getresponse().read()
        times.append((time.perf_counter() - t) * 1000)
        if pause: time.sleep(pause)
    c1, r1 = cpu(A[2]), redis_cmds()
    times.sort()
    print(f"{label}: {n} calls, median {statistics.median(times):.2f} ms, p90 {times[int(n*0.9)]:.2f} ms, "
          f"max {times[-1]:.2f} ms; instance CPU {(c1-c0)/n:.2f} ms/call; Redis round trips {(r1-r0-1)/n:.1f}/call; "
          f"{len(body)} bytes", flush=True)
    return body
time.sleep(2)
series(300, "idle, back to back")
series(20, "idle, one a second (each starts a recomputation of the sale figures)", 1.0)
h = {"authorization": env["SURGE_ADMIN_TOKEN"], "content-type": "application/json"}
voucher = json.loads(get(A[0], "/voucher/seckill", "POST", json.dumps({"shopId": 1, "title": "measure", "subTitle": "x",
    "rules": "x", "payValue": 800, "actualValue": 1000, "type": 1, "stock": 1000, "beginTime": "2020-01-01T00:00:00",
    "endTime": "2037-12-31T00:00:00"}), h)[1])["data"]
def login(i):
    port = inst["ab"[i % 2]][0]; phone = "137%08d" % random.randrange(10**8)
    code = json.loads(get(port, f"/user/code?phone={phone}", "POST")[1])["data"]
    return json.loads(get(port, "/user/login", "POST", json.dumps({"phone": phone, "code": code}), {"content-type": "application/json"})[1])["data"]
with concurrent.futures.ThreadPoolExecutor(8) as ex: toks = list(ex.map(login, range(2000)))
tmp = tempfile.mkdtemp()
wrk = []
for k, n in enumerate("ab"):
    path = os.path.join(tmp, f"tokens-{n}.txt"); open(path, "w").write("\n".join(toks[k*1000:(k+1)*1000]) + "\n")
    e = dict(env, BENCH_MODE="seckill", BENCH_VOUCHER=str(voucher), BENCH_TOKENS=path, BENCH_USERS="1000", BENCH_THREADS="1")
    wrk.append(subprocess.Popen(["wrk", "-t1", "-c1000", "-d15s", "-s", lua,
                                 f"http://127.0.0.1:{inst[n][0]}"], env=e, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
time.sleep(1)
def timed(port, path):
    t = time.perf_counter(); get(port, path); return (time.perf_counter() - t) * 1000
rows = []
for _ in range(int(os.environ.get("POLLS", "12"))):
    rows.append((timed(A[1], "/metrics"), timed(A[1], "/health"), timed(A[1], "/dashboard/data"), timed(A[0], "/shop/1")))
    time.sleep(1)
for r in rows: print("during the sale: /metrics %.1f ms, /health %.1f ms, /dashboard/data %.1f ms, public GET /shop/1 %.1f ms" % r)
for w in wrk:
    out = w.communicate()[0]
    print([l for l in out.splitlines() if "Requests/sec" in l])
time.sleep(3)
d = json.loads(series(20, "after the sale, one a second", 1.0))
print("instances:", [i["instance"] for i in d["instances"]])
print("voucher:", [v for v in d["sale"]["vouchers"] if v["id"] == voucher])
for n in "ab": inst[n][2].terminate()
for n in "ab": inst[n][2].wait()
