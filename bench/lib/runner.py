#!/usr/bin/env python3
"""Scenario runner for bench/run (stdlib only).

bench/run starts the servers (private Redis + MariaDB, Surge, nginx; for the scale-out rows more
Surge instances and an nginx balancer) and hands their addresses to this program, which prepares
data (ceiling files for nginx, login tokens), runs every scenario with wrk and redis-benchmark,
verifies flash-sale orders in MariaDB, and writes results.json, results.md and the gnuplot PNGs.
Every number in the output comes from this run.
"""
import argparse
import concurrent.futures
import csv
import datetime
import http.client
import io
import json
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
WRK_THREADS = 2
ABSENT_LO, ABSENT_HI = 1_000_001, 1_100_000  # 100,000 ids that no shop has
STORM_SHOP = 7


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


# --- small clients ---------------------------------------------------------------------------

class Env:
    def __init__(self, a):
        self.a = a
        self.surge = ("127.0.0.1", a.surge_port)
        self.nginx = ("127.0.0.1", a.nginx_port) if a.nginx_port else None
        self.balancer = ("127.0.0.1", a.balancer_port) if a.balancer_port else None
        self.cluster = ("127.0.0.1", a.cluster_port) if a.cluster_port else None
        # /metrics is answered only on each instance's admin listener.
        self.admin_port = dict(zip(a.instance_ports, a.admin_ports))
        if a.cluster_port:
            self.admin_port[a.cluster_port] = a.cluster_admin_port

    def address(self, target):
        return {"surge": self.surge, "nginx": self.nginx, "balancer": self.balancer,
                "cluster": self.cluster}[target]

    # Redis through redis-cli (few calls; bulk loads go through --pipe)
    def redis(self, *args, check=True):
        r = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(self.a.redis_port), *map(str, args)],
                           capture_output=True, text=True, timeout=30)
        if check and r.returncode != 0:
            raise RuntimeError(f"redis-cli {args[0]} failed: {r.stderr.strip()}")
        return r.stdout.strip()

    def redis_pipe(self, resp_bytes):
        r = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(self.a.redis_port), "--pipe"],
                           input=resp_bytes, capture_output=True, timeout=120)
        out = r.stdout.decode(errors="replace")
        m = re.search(r"errors:\s*(\d+),\s*replies:\s*(\d+)", out)
        if r.returncode != 0 or not m or int(m.group(1)) != 0:
            raise RuntimeError(f"redis-cli --pipe failed: {out.strip()} {r.stderr.decode(errors='replace').strip()}")
        return int(m.group(2))

    def sql(self, query):
        """Rows of a query (tab-separated text, no header)."""
        cmd = ["mariadb", "--no-defaults", f"--socket={self.a.mysql_socket}", f"--user={self.a.mysql_user}",
               f"--password={self.a.mysql_password}", "--batch", "--skip-column-names",
               "-D", self.a.mysql_database, "-e", query]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"mariadb query failed ({query}): {r.stderr.strip()}")
        return [line.split("\t") for line in r.stdout.splitlines() if line]

    def sql_int(self, query):
        rows = self.sql(query)
        return int(rows[0][0]) if rows and rows[0][0] not in ("NULL", "") else 0

    def http(self, method, path, body=None, headers=None, target=None):
        host, port = target or self.surge
        c = http.client.HTTPConnection(host, port, timeout=10)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def metrics(self, port=None):
        """/metrics of the Surge instance on port (default: the direct one), read from its admin
        listener, as {series: value}; {} if unavailable."""
        admin = self.admin_port.get(port or self.a.surge_port)
        if not admin:
            return {}
        try:
            status, _, body = self.http("GET", "/metrics", target=("127.0.0.1", admin))
        except OSError:
            return {}
        if status != 200:
            return {}
        out = {}
        for line in body.decode(errors="replace").splitlines():
            if not line or line.startswith("#"):
                continue
            name, _, value = line.rpartition(" ")
            try:
                out[name] = float(value)
            except ValueError:
                pass
        return out


def delta(after, before, key):
    return after.get(key, 0.0) - before.get(key, 0.0)


def sum_metrics(snapshots):
    """Several instances' /metrics added up series by series (counters of one topology)."""
    out = {}
    for snap in snapshots:
        for k, v in snap.items():
            out[k] = out.get(k, 0.0) + v
    return out


def requests_answered(before, after):
    """HTTP requests an instance answered between two /metrics snapshots, scrapes and probes
    excluded."""
    return int(sum(v - before.get(k, 0.0) for k, v in after.items()
                   if k.startswith("surge_http_requests_total{")
                   and '/metrics"' not in k and '/health"' not in k))


def cache_stats(before, after, cls="shop"):
    def req(result):
        return delta(after, before, f'surge_cache_requests_total{{class="{cls}",result="{result}"}}')
    near, rhit, null, miss, bloom, stale = (req(r) for r in
                                            ("near_hit", "redis_hit", "null_hit", "miss", "bloom_reject", "stale"))
    lookups = near + rhit + null + miss + bloom
    total = lambda n: delta(after, before, f'surge_cache_{n}_total{{class="{cls}"}}')
    return {
        "lookups": int(lookups),
        "near_hit": int(near), "redis_hit": int(rhit), "null_hit": int(null), "miss": int(miss),
        "bloom_reject": int(bloom), "stale": int(stale),
        "hit_rate": (near + rhit + null) / lookups if lookups else None,
        "near_share": near / lookups if lookups else None,
        "db_loads": int(total("db_loads")), "lock_waits": int(total("lock_waits")),
        "wait_timeouts": int(total("wait_timeouts")), "invalidations": int(total("invalidations")),
    }


# --- CPU accounting (who used the 2 cores during a row) --------------------------------------

def proc_children():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def cpu_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0


class CpuProbe:
    def __init__(self, groups):
        self.groups = groups  # name -> [root pids]; children are included (nginx workers)

    def snapshot(self):
        kids = proc_children()
        snap = {}
        for name, roots in self.groups.items():
            pids, stack = set(), list(roots)
            while stack:
                p = stack.pop()
                if p in pids:
                    continue
                pids.add(p)
                stack.extend(kids.get(p, []))
            snap[name] = sum(cpu_ticks(p) for p in pids)
        with open("/proc/stat") as f:
            total = f.readline().split()[1:]
        snap["_machine_busy"] = sum(int(x) for x in total) - int(total[3]) - int(total[4])
        return snap

    @staticmethod
    def percent(before, after, seconds):
        """CPU used per process group in % of one core; _machine_busy is the whole machine."""
        if seconds <= 0:
            return {}
        return {k: round(100.0 * (after[k] - before[k]) / CLK_TCK / seconds, 1) for k in after}

    @staticmethod
    def ms_per_1k(before, after, groups, requests):
        """CPU-milliseconds the named groups used together per 1,000 requests. Unlike req/s this
        hardly moves when other load shares the machine, so it compares servers on a noisy one.
        /proc counts in clock ticks (10 ms): a row needs a few hundred of them to be precise."""
        if requests <= 0 or not groups:
            return None
        ticks = sum(after[g] - before[g] for g in groups if g in after)
        return 1000.0 * ticks / CLK_TCK / (requests / 1000.0)


def listen_overflows():
    """TcpExt ListenOverflows: connections dropped because an accept queue was full."""
    try:
        with open("/proc/net/netstat") as f:
            lines = f.read().splitlines()
        for head, vals in zip(lines[::2], lines[1::2]):
            if head.startswith("TcpExt:"):
                return int(dict(zip(head.split()[1:], vals.split()[1:])).get("ListenOverflows", 0))
    except (OSError, ValueError):
        pass
    return 0


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


# --- load generators -------------------------------------------------------------------------

class Runner:
    def __init__(self, a):
        self.a = a
        self.env = Env(a)
        self.rows = []
        self.checks = []
        # Instance 1 is the direct one ("surge"); the balancer's others are "surge-2", "surge-3"...
        self.instances = ["surge"] + [f"surge-{k}" for k in range(2, len(a.instance_pids) + 1)]
        groups = {"redis": [a.redis_pid], "mariadb": [a.mysql_pid],
                  "nginx": [a.nginx_pid] if a.nginx_pid else [],
                  "balancer": [a.balancer_pid] if a.balancer_pid else []}
        groups.update({name: [pid] for name, pid in zip(self.instances, a.instance_pids)})
        if a.cluster_pid:
            groups["cluster"] = [a.cluster_pid]
            groups["redis-cluster"] = a.cluster_redis_pids
        self.cpu = CpuProbe({k: v for k, v in groups.items() if v and v[0]})
        self.raw = a.raw
        os.makedirs(self.raw, exist_ok=True)
        self.seq = 0

    def check(self, scenario, what, ok, detail):
        self.checks.append({"scenario": scenario, "check": what, "ok": bool(ok), "detail": detail})
        log(f"  check {'PASS' if ok else 'FAIL'}: {scenario}: {what} ({detail})")

    def topology(self, target):
        """(Surge instances, front process) a target's requests pass through."""
        return {"surge": (["surge"], None), "balancer": (self.instances, "balancer"),
                "nginx": ([], "nginx"), "cluster": (["cluster"], None)}[target]

    def wrk(self, name, conns, duration, env, target="surge", on_running=None):
        """Runs wrk against target (surge = the direct instance, balancer = nginx in front of
        every instance, nginx = the ceiling); returns the parsed WRKJSON counters plus rates,
        CPU and the Surge instances' metric deltas."""
        self.seq += 1
        host, port = self.env.address(target)
        url = f"http://{host}:{port}"
        surges, front = self.topology(target)
        ports = [self.a.cluster_port] if target == "cluster" else self.a.instance_ports[:len(surges)]
        rawfile = os.path.join(self.raw, f"{self.seq:02d}-{name}.txt")
        cmd = ["wrk", "-t", str(WRK_THREADS), "-c", str(max(conns, WRK_THREADS)), "-d", f"{int(duration)}s",
               "--timeout", "10s", "--latency", "-s", self.a.lua, url]
        wenv = dict(os.environ, BENCH_THREADS=str(WRK_THREADS), **{k: str(v) for k, v in env.items()})
        m0 = [self.env.metrics(p) for p in ports]
        c0 = self.cpu.snapshot()
        la = loadavg()
        lo0 = listen_overflows()
        t0 = time.monotonic()
        with open(rawfile, "w") as out:
            out.write(f"# {' '.join(cmd)}\n# env: {json.dumps(env)}\n")
            out.flush()
            p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=wenv)
            # on_running(stop_event) runs beside wrk (e.g. expiring a key) and returns a summary.
            stop, side, extra = threading.Event(), None, {}
            if on_running:
                side = threading.Thread(target=lambda: extra.update(on_running(stop) or {}), daemon=True)
                side.start()
            try:
                _, status, ru = os.wait4(p.pid, 0)
                p.returncode = os.waitstatus_to_exitcode(status)
            finally:
                stop.set()
                if side:
                    side.join()
                if p.returncode is None:
                    p.kill()
                    p.wait()
        elapsed = time.monotonic() - t0
        c1 = self.cpu.snapshot()
        m1 = [self.env.metrics(p) for p in ports]
        with open(rawfile) as f:
            text = f.read()
        res = {"name": name, "target": target, "connections": conns, "raw": os.path.basename(rawfile),
               "loadavg_before": la, "listen_overflows": listen_overflows() - lo0}
        m = re.search(r"^WRKJSON (\{.*\})$", text, re.M)
        if not m or os.waitstatus_to_exitcode(status) != 0:
            res["error"] = f"wrk failed (exit {os.waitstatus_to_exitcode(status)}): " + text.strip().splitlines()[-1][:200]
            log(f"  {name}: {res['error']}")
            return res
        w = json.loads(m.group(1))
        if w["requests"] == 0:
            res["error"] = "no response at all (server down or out of file descriptors?)"
            log(f"  {name}: {res['error']}")
            return res
        secs = w["duration_us"] / 1e6
        res.update(w)
        res["duration_s"] = round(secs, 2)
        res["rps"] = w["requests"] / secs if secs else 0.0
        res["sock_errors"] = w["err_connect"] + w["err_read"] + w["err_write"] + w["err_timeout"]
        res["non2xx"] = w["s3xx"] + w["s4xx"] + w["s5xx"] + w["s_other"]
        res["http_errors"] = res["non2xx"] + res["sock_errors"]
        res["lat_ms"] = {k: round(w[src] / 1000.0, 2) for k, src in
                         (("avg", "lat_mean"), ("p50", "p50"), ("p90", "p90"), ("p99", "p99"),
                          ("p999", "p999"), ("max", "lat_max"))}
        cpu = CpuProbe.percent(c0, c1, elapsed)
        cpu["wrk"] = round(100.0 * (ru.ru_utime + ru.ru_stime) / elapsed, 1)
        # Whatever else ran on the machine meanwhile (other users, builds): it took CPU from us.
        cpu["others"] = round(max(0.0, cpu["_machine_busy"] - sum(v for k, v in cpu.items()
                                                                  if not k.startswith("_"))), 1)
        res["cpu_percent"] = cpu
        # CPU per 1,000 answered requests: Surge summed over the instances of this topology, the
        # nginx in front (ceiling or balancer), and the stores behind.
        per1k = {"surge": CpuProbe.ms_per_1k(c0, c1, surges, w["requests"]),
                 "redis": CpuProbe.ms_per_1k(c0, c1, ["redis-cluster" if target == "cluster" else "redis"],
                                             w["requests"]),
                 "mariadb": CpuProbe.ms_per_1k(c0, c1, ["mariadb"], w["requests"])}
        if front:
            per1k[front] = CpuProbe.ms_per_1k(c0, c1, [front], w["requests"])
        res["cpu_ms_per_1k"] = {k: round(v, 3) for k, v in per1k.items() if v is not None}
        if m0 and all(m0) and all(m1):
            before, after = sum_metrics(m0), sum_metrics(m1)
            res["cache"] = cache_stats(before, after)
            res["metrics_delta"] = {k: after[k] - before.get(k, 0.0) for k in after
                                    if k.startswith("surge_orders_") and after[k] != before.get(k, 0.0)}
            if len(ports) > 1:
                res["per_instance_requests"] = [requests_answered(b, a) for b, a in zip(m0, m1)]
        if on_running:
            res["during"] = extra
        log(f"  {name}: {res['rps']:,.0f} req/s  p99 {res['lat_ms']['p99']} ms  "
            f"http errors {res['http_errors']}  business failures {res['biz_fail']}  "
            f"(cpu {', '.join(f'{k} {v}%' for k, v in cpu.items() if not k.startswith('_'))})")
        return res

    def redis_benchmark(self, name, conns, pipeline, args, seconds, cluster=False):
        """redis-benchmark for about `seconds`: a short probe sizes -n from the measured rate. With
        cluster, against the cluster (--cluster: each client on one master, "{tag}" in a key
        replaced by a tag of that master's slots)."""
        node = self.a.cluster_seeds[0] if cluster else ("127.0.0.1", self.a.redis_port)
        group = "redis-cluster" if cluster else "redis"

        def run(n):
            cmd = ["redis-benchmark", "-h", node[0], "-p", str(node[1]), *(["--cluster"] if cluster else []),
                   "-c", str(conns),
                   "-P", str(pipeline), "-n", str(n), "--threads", str(WRK_THREADS), "--csv", *map(str, args)]
            c0, t0 = self.cpu.snapshot(), time.monotonic()
            u0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=max(120, seconds * 6))
            u1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            elapsed = time.monotonic() - t0
            c1 = self.cpu.snapshot()
            cpu = CpuProbe.percent(c0, c1, elapsed)
            cpu["redis-benchmark"] = round(100.0 * (u1.ru_utime + u1.ru_stime - u0.ru_utime - u0.ru_stime)
                                           / elapsed, 1)
            cpu["others"] = round(max(0.0, cpu["_machine_busy"] - sum(v for k, v in cpu.items()
                                                                      if not k.startswith("_"))), 1)
            # In cluster mode the CSV follows a list of the masters.
            text = r.stdout[max(0, r.stdout.find('"test"')):]
            rows = list(csv.DictReader(io.StringIO(text)))
            if r.returncode != 0 or not rows:
                raise RuntimeError(f"redis-benchmark failed: {r.stderr.strip()[:300]} {r.stdout.strip()[:300]}")
            return rows[0], cmd, cpu, CpuProbe.ms_per_1k(c0, c1, [group], n)
        self.seq += 1
        la = loadavg()
        probe, _, _, _ = run(max(conns * pipeline * 20, 20000))
        rate = float(probe["rps"])
        # A whole number of rounds of every client's pipeline: redis-benchmark --cluster was seen
        # to hang on the last requests of a count that does not divide evenly.
        per_round = conns * pipeline
        n = -(-max(int(rate * seconds), per_round * 4) // per_round) * per_round
        row, cmd, cpu, redis_per1k = run(n)
        with open(os.path.join(self.raw, f"{self.seq:02d}-{name}.txt"), "w") as f:
            f.write("# " + " ".join(cmd) + "\n" + json.dumps(row) + "\n")
        res = {"name": name, "target": "redis-benchmark" + (" --cluster" if cluster else ""),
               "connections": conns, "pipeline": pipeline,
               "requests": n, "rps": float(row["rps"]), "loadavg_before": la, "cpu_percent": cpu,
               "cpu_ms_per_1k": {"redis": round(redis_per1k, 3)},
               "lat_ms": {k: float(row.get(f"{k}_latency_ms", "nan")) for k in ("avg", "p50", "p95", "p99", "max")}}
        log(f"  {name}: {res['rps']:,.0f} req/s  p99 {res['lat_ms']['p99']} ms")
        return res


# --- preparation -----------------------------------------------------------------------------

def fetch_bodies(env, root, hi, target=None):
    """Reads /shop/1..hi once from target (default: the direct instance) as the cache warm-up
    and, when root is set, stores Surge's exact response bodies (and an absent id's) as the files
    nginx serves."""
    if root:
        os.makedirs(os.path.join(root, "shop"), exist_ok=True)
    ctype = None
    target = target or env.surge

    def worker(ids):
        nonlocal ctype
        c = http.client.HTTPConnection(*target, timeout=10)
        bad = 0
        for i in ids:
            c.request("GET", f"/shop/{i}")
            r = c.getresponse()
            body = r.read()
            if r.status != 200 or b'"success":true' not in body:
                bad += 1
            ctype = ctype or r.getheader("Content-Type")
            if root:
                with open(os.path.join(root, "shop", str(i)), "wb") as f:
                    f.write(body)
        c.close()
        return bad

    ids = list(range(1, hi + 1))
    chunks = [ids[k::4] for k in range(4)]
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        bad = sum(ex.map(worker, chunks))
    status, headers, body = env.http("GET", f"/shop/{ABSENT_LO}", target=target)
    if root:
        with open(os.path.join(root, "absent.json"), "wb") as f:
            f.write(body)
    return {"shops": hi, "not_ok": bad, "content_type": ctype, "absent_body": body.decode(errors="replace")}


def prepare_tokens(env, n, path):
    """n distinct logged-in users (ids 1..n from tb_user): login:token:{t} hashes via --pipe."""
    rows = env.sql(f"SELECT id, nick_name, IFNULL(icon,'') FROM tb_user WHERE id <= {int(n)} ORDER BY id")
    if len(rows) < n:
        raise RuntimeError(f"only {len(rows)} users with id <= {n} in tb_user")

    def resp(*parts):
        out = [f"*{len(parts)}\r\n".encode()]
        for p in parts:
            b = p.encode() if isinstance(p, str) else p
            out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        return b"".join(out)

    def quoted(v):
        return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'

    buf, lines, tokens = [], [], []
    for uid, nick, icon in (r + [""] * (3 - len(r)) for r in rows):
        t = secrets.token_hex(16)
        tokens.append(t)
        key = f"login:token:{t}"
        buf.append(resp("HSET", key, "id", uid, "nickName", nick, "icon", icon))
        buf.append(resp("EXPIRE", key, "14400"))
        lines.append(" ".join(["HSET", key, "id", str(uid), "nickName", quoted(nick), "icon", quoted(icon)]))
        lines.append(f"EXPIRE {key} 14400")
    env.redis_pipe(b"".join(buf))
    if env.a.cluster_port:
        # The cluster instance looks the same sessions up on the cluster: redis-cli -c follows each
        # key to its master (--pipe cannot).
        host, port = env.a.cluster_seeds[0]
        r = subprocess.run(["redis-cli", "-c", "-h", host, "-p", str(port)], input="\n".join(lines) + "\n",
                           capture_output=True, text=True, timeout=300)
        answers = r.stdout.split("\n")
        if r.returncode != 0 or any(x.startswith("(error)") or x.startswith("ERR") for x in answers):
            raise RuntimeError(f"writing sessions to the cluster failed: {r.stdout[-300:]} {r.stderr[-300:]}")
    with open(path, "w") as f:
        f.write("\n".join(tokens) + "\n")
    return tokens


def machine_info(a):
    def cmd(*c):
        try:
            r = subprocess.run(c, capture_output=True, text=True, timeout=10)
            return (r.stdout + r.stderr).strip()
        except OSError:
            return ""
    model = ""
    for line in cmd("lscpu").splitlines():
        if line.startswith("Model name:"):
            model = line.split(":", 1)[1].strip()
    mem = ""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    os_name = ""
    if os.path.exists("/etc/os-release"):
        for line in open("/etc/os-release"):
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip().strip('"')
    git = cmd("git", "-C", a.repo, "rev-parse", "--short", "HEAD")
    dirty = cmd("git", "-C", a.repo, "status", "--porcelain", "--untracked-files=no")
    return {
        "cpu_model": model, "cpus": os.cpu_count(), "memory": mem, "os": os_name,
        "kernel": platform.release(), "virtualization": cmd("systemd-detect-virt") or "unknown",
        "surge_commit": git + ("-dirty" if dirty else ""),
        "surge_workers": a.workers, "shop_cache": a.shop_cache,
        "redis": cmd("redis-server", "--version").split(" sha=")[0],
        "mariadb": cmd("mariadbd", "--version"),
        "nginx": cmd("nginx", "-v"),
        "wrk": cmd("sh", "-c", "wrk --version 2>&1 | head -1").split(" Copyright")[0],
        "gnuplot": cmd("gnuplot", "--version"),
        "loadavg_at_start": loadavg(),
    }


# --- scenarios -------------------------------------------------------------------------------

def nginx_ceiling(s, n):
    """Surge row s against nginx row n (same load, same bytes); None if either failed. The CPU
    ratio is Surge's CPU per request (all instances of s's topology) over nginx's; for a row
    through the balancer, cpu_ratio_with_balancer adds the balancer's CPU to Surge's."""
    if not s.get("rps") or not n.get("rps"):
        return None
    p99s, p99n = s["lat_ms"]["p99"], n["lat_ms"]["p99"]
    out = {"what": "nginx, identical bytes", "rps": n["rps"], "ratio": s["rps"] / n["rps"],
           "p99_ms": p99n, "p99_ratio": p99s / p99n if p99n else None}
    sc, nc = s.get("cpu_ms_per_1k", {}), n.get("cpu_ms_per_1k", {})
    if sc.get("surge") is not None and nc.get("nginx"):
        out["cpu_ms_per_1k"] = nc["nginx"]
        out["cpu_ratio"] = sc["surge"] / nc["nginx"]
        if "balancer" in sc:
            out["cpu_ratio_with_balancer"] = (sc["surge"] + sc["balancer"]) / nc["nginx"]
    return out


def scenario_shop(R, res):
    a = R.a
    ranges = [(1, 1000)] if a.quick else [(1, 1000), (1, 50114)]
    for lo, hi in ranges:
        log(f"shop read, ids {lo}-{hi:,}")
        for c in a.connections:
            env = {"BENCH_MODE": "shop", "BENCH_ID_LO": lo, "BENCH_ID_HI": hi}
            s = R.wrk(f"shop-{hi}-c{c}-surge", c, a.duration, env)
            s.update(scenario="shop", ids=f"{lo}-{hi}")
            res["rows"].append(s)
            if a.ceilings:
                n = R.wrk(f"shop-{hi}-c{c}-nginx", c, a.duration, env, target="nginx")
                n.update(scenario="shop", ids=f"{lo}-{hi}")
                res["rows"].append(n)
                s["ceiling"] = nginx_ceiling(s, n)
            if "error" in s:
                R.check(s["name"], "wrk ran", False, s["error"])
                continue
            R.check(s["name"], "no HTTP errors", s["http_errors"] == 0, f"{s['http_errors']} errors")
            R.check(s["name"], "every answer success:true", s["ok"] == s["requests"],
                    f"{s['ok']} of {s['requests']}; {s['biz_fail']} business failures")


def probe_sale_route(R, res):
    """Is the flash-sale route there at all? A missing route answers 404 before any handler."""
    if "seckill_route" in res:
        return
    status, _, body = R.env.http("POST", "/voucher-order/seckill/999999999",
                                 headers={"authorization": R.tokens[0]})
    res["seckill_route"] = {"probe_status": status, "probe_body": body.decode(errors="replace")[:200]}
    if status == 404:
        log(f"flash sale: POST /voucher-order/seckill/{{id}} answers 404: the route is missing in this build")


def sale_env(a, users, voucher):
    """surge.lua's settings for a flash-sale row: `users` distinct logged-in users buy `voucher`."""
    return {"BENCH_MODE": "seckill", "BENCH_VOUCHER": voucher, "BENCH_TOKENS": a.tokens, "BENCH_USERS": users}


def sale_row(R, res, scenario, users, voucher, target="surge"):
    """One flash-sale row: `users` distinct users buy voucher through target, then the orders in
    MariaDB are verified (no HTTP errors, orders == accepted, no oversell, no user twice, every
    user who could buy did, DB stock deducted == orders). Returns the row."""
    a = R.a
    env = R.env
    name = f"{scenario}-{users}u-v{voucher}" + ("" if target == "surge" else f"-{target}")
    log(f"flash sale, {users} users on voucher {voucher}" + ("" if target == "surge" else f" through the {target}"))
    stock0 = env.sql_int(f"SELECT stock FROM tb_seckill_voucher WHERE voucher_id = {voucher}")
    orders0 = env.sql_int(f"SELECT COUNT(*) FROM tb_voucher_order WHERE voucher_id = {voucher}")
    w = R.wrk(name, users, a.sale_duration, sale_env(a, users, voucher), target=target)
    w.update(scenario=scenario, kind="sale", users=users, voucher=voucher, stock_before=stock0,
             orders_before=orders0)
    res["rows"].append(w)
    if "error" in w:
        R.check(name, "wrk ran", False, w["error"])
        return w
    accepted = w["ok"]
    # Wait for the order writer: until MariaDB holds every accepted order, or 10 s of no change.
    t_end = time.monotonic()
    last, last_change, orders = None, t_end, orders0
    while True:
        orders = env.sql_int(f"SELECT COUNT(*) FROM tb_voucher_order WHERE voucher_id = {voucher}") - orders0
        now = time.monotonic()
        if orders != last:
            last, last_change = orders, now
        if orders >= accepted and (accepted > 0 or now - t_end > 1):
            break
        if now - last_change > 10 or now - t_end > 60:
            break
        time.sleep(0.1)
    lag = time.monotonic() - t_end
    distinct = env.sql_int(f"SELECT COUNT(DISTINCT user_id) FROM tb_voucher_order WHERE voucher_id = {voucher}") \
        - orders0
    stock1 = env.sql_int(f"SELECT stock FROM tb_seckill_voucher WHERE voucher_id = {voucher}")
    w["verify"] = {
        "accepted": accepted, "orders_in_db": orders, "persist_wait_s": round(lag, 2),
        "oversell": max(0, orders - stock0), "duplicate_users": orders - distinct,
        "stock_after": stock1, "stock_deducted": stock0 - stock1,
        "expected_accepted": min(users, stock0),
    }
    v = w["verify"]
    if w["s404"] == w["requests"] and w["requests"] > 0:
        w["verdict"] = "FAIL: route missing (every request answered HTTP 404)"
        w["route_missing"] = True
        R.check(name, "flash-sale route exists", False, "HTTP 404 on all requests; merge the flash sale first")
        return w
    checks = [
        ("no HTTP errors", w["http_errors"] == 0, f"{w['http_errors']} errors ({w['s4xx']} 4xx, {w['s5xx']} 5xx)"),
        ("orders in MariaDB == accepted", orders == accepted, f"{orders} orders, {accepted} accepted"),
        ("no oversell", v["oversell"] == 0, f"{orders} orders for stock {stock0}"),
        ("no user twice", v["duplicate_users"] == 0, f"{v['duplicate_users']} duplicates"),
        ("every user who could buy did", accepted == v["expected_accepted"],
         f"{accepted} accepted, min(users, stock) = {v['expected_accepted']}"),
        ("DB stock deducted == orders", v["stock_deducted"] == orders, f"deducted {v['stock_deducted']}"),
    ]
    for what, ok, detail in checks:
        R.check(name, what, ok, detail)
    failed = [c[0] for c in checks if not c[1]]
    w["verdict"] = "ok" if not failed else "FAIL: " + "; ".join(failed)
    return w


def scenario_seckill(R, res):
    a = R.a
    probe_sale_route(R, res)
    for users, voucher in zip(a.sale_users, a.sale_vouchers):
        w = sale_row(R, res, "seckill", users, voucher)
        if a.ceilings and "error" not in w and not w.get("route_missing"):
            w["http_ceiling"] = sale_http_ceiling(R, res, w)


def sale_http_ceiling(R, res, w):
    """nginx answering the same requests (the row's users, tokens and paths) with the bytes Surge
    gives a repeat purchase: what HTTP alone costs on this machine at this connection count.
    Once the stock is gone Surge answers 库存不足 instead (the script checks stock first): the
    same envelope, 6 bytes shorter."""
    path = f"/voucher-order/seckill/{w['voucher']}"
    buyer = R.env.sql_int(f"SELECT MIN(user_id) FROM tb_voucher_order WHERE voucher_id = {w['voucher']}")
    auth = {"authorization": R.tokens[buyer - 1]}
    surge = R.env.http("POST", path, headers=auth)[2]
    nginx = R.env.http("POST", path, headers=auth, target=R.env.nginx)[2]
    repeat = ['{"success":false,"errorMsg":"%s"}' % m for m in ("不能重复下单", "库存不足")]
    R.check(w["name"], "nginx answers a repeat purchase as Surge does",
            nginx.decode() == repeat[0] and surge.decode() in repeat,
            f"Surge {surge.decode(errors='replace')}, nginx {nginx.decode(errors='replace')}")
    n = R.wrk(w["name"] + "-nginx", w["users"], R.a.sale_duration, sale_env(R.a, w["users"], w["voucher"]),
              target="nginx")
    n.update(scenario="seckill-nginx", users=w["users"])
    res["rows"].append(n)
    return nginx_ceiling(w, n)


def scenario_storm(R, res):
    """Breakdown: one hot key expires again and again under load; each expiry must cost 1 DB load."""
    a = R.a
    env = R.env
    c = a.storm_connections
    shop = STORM_SHOP
    env.http("GET", f"/shop/{shop}")
    log(f"breakdown storm: /shop/{shop} at {c} connections, the key expires every {a.storm_interval}s")

    def expire_repeatedly(stop):
        times = []
        t0 = time.monotonic()
        if stop.wait(1.0):
            return {"expiries": 0}
        while not stop.is_set():
            # What an expiry looks like to every instance: the Redis entry goes away and the near
            # caches drop it (the same DEL + invalidation broadcast PUT /shop performs).
            env.redis("DEL", f"cache:shop:{shop}")
            env.redis("PUBLISH", "cache:invalidate:shop", shop)
            times.append(time.monotonic())
            # stop at least 0.5 s before wrk does, so the last expiry's load is counted
            if stop.wait(a.storm_interval) or time.monotonic() - t0 > a.duration - 0.5 - a.storm_interval:
                break
        return {"expiries": len(times)}

    env_ = {"BENCH_MODE": "fixed", "BENCH_PATH": f"/shop/{shop}"}
    w = R.wrk(f"storm-c{c}-surge", c, a.duration, env_, on_running=expire_repeatedly)
    w.update(scenario="storm")
    res["rows"].append(w)
    if a.ceilings:
        n = R.wrk(f"storm-c{c}-nginx", c, a.duration, env_, target="nginx")
        n.update(scenario="storm")
        res["rows"].append(n)
        w["ceiling"] = nginx_ceiling(w, n)
    if "error" in w:
        R.check(w["name"], "wrk ran", False, w["error"])
        return
    k = w["during"]["expiries"]
    loads = w["cache"]["db_loads"] if "cache" in w else -1
    R.check(w["name"], "no HTTP errors", w["http_errors"] == 0, f"{w['http_errors']} errors")
    R.check(w["name"], "exactly one DB load per expiry", loads == k, f"{loads} DB loads for {k} expiries")


def scenario_penetration(R, res):
    """Penetration: random ids no shop has; the Bloom filter should keep them from MariaDB."""
    a = R.a
    c = a.storm_connections
    log(f"penetration storm: ids {ABSENT_LO:,}-{ABSENT_HI:,} (all absent) at {c} connections")
    env_ = {"BENCH_MODE": "shop", "BENCH_ID_LO": ABSENT_LO, "BENCH_ID_HI": ABSENT_HI}
    w = R.wrk(f"penetration-c{c}-surge", c, a.duration, env_)
    w.update(scenario="penetration", ids=f"{ABSENT_LO}-{ABSENT_HI}")
    res["rows"].append(w)
    if a.ceilings:
        n = R.wrk(f"penetration-c{c}-nginx", c, a.duration, env_, target="nginx")
        n.update(scenario="penetration")
        res["rows"].append(n)
        w["ceiling"] = nginx_ceiling(w, n)
    if "error" in w:
        R.check(w["name"], "wrk ran", False, w["error"])
        return
    distinct = ABSENT_HI - ABSENT_LO + 1
    loads = w["cache"]["db_loads"] if "cache" in w else -1
    R.check(w["name"], "no HTTP errors", w["http_errors"] == 0, f"{w['http_errors']} errors")
    R.check(w["name"], "every answer is 店铺不存在", w["f_absent"] == w["requests"],
            f"{w['f_absent']} of {w['requests']}")
    # The filter is sized for a 0.1% false-positive rate; each false positive costs one load.
    R.check(w["name"], "DB loads within the Bloom filter's false positives (<= 0.5% of ids)",
            0 <= loads <= distinct * 0.005, f"{loads} DB loads for up to {distinct:,} distinct ids")


def scenario_mixed(R, res):
    a = R.a
    c = a.mixed_connections
    log(f"mixed: 90% GET /shop/{{1..1000}}, 5% GET /shop/of/type (geo), 5% PUT /shop, {c} connections")
    # PUT /shop is an administrator's write: surge.lua sends SURGE_ADMIN_TOKEN, which bench/run
    # exports from the stores' env file (scripts/services writes it there).
    if not os.environ.get("SURGE_ADMIN_TOKEN"):
        log("mixed: SURGE_ADMIN_TOKEN is not set; every PUT /shop will be refused (401)")
    env = {"BENCH_MODE": "mixed", "BENCH_ID_LO": 1, "BENCH_ID_HI": 1000}
    w = R.wrk(f"mixed-c{c}-surge", c, a.duration, env)
    w.update(scenario="mixed")
    res["rows"].append(w)
    if "error" in w:
        R.check(w["name"], "wrk ran", False, w["error"])
        return
    R.check(w["name"], "no HTTP errors", w["http_errors"] == 0, f"{w['http_errors']} errors")
    R.check(w["name"], "every answer success:true", w["ok"] == w["requests"],
            f"{w['ok']} of {w['requests']}")
    if not a.ceilings:
        return
    # The ceiling: nginx answering the same mix with Surge's bytes (shop files, the ten geo
    # answers as files, PUT /shop with the fixed answer of an accepted write).
    os.makedirs(os.path.join(a.nginx_root, "of-type"), exist_ok=True)
    for type_id in range(1, 11):
        path = f"/shop/of/type?typeId={type_id}&current=1&x=120.149993&y=30.334229"
        with open(os.path.join(a.nginx_root, "of-type", str(type_id)), "wb") as f:
            f.write(R.env.http("GET", path)[2])
    # (The shop files are the warm-up's: the row's writes have changed some `sold` figures since.)
    geo = "/shop/of/type?typeId=3&current=1&x=120.149993&y=30.334229"
    same = R.env.http("GET", geo)[2] == R.env.http("GET", geo, target=R.env.nginx)[2]
    put = '{"id":1,"sold":1}'
    put_s = R.env.http("PUT", "/shop", body=put, headers={"Content-Type": "application/json",
                                                         "authorization": os.environ.get("SURGE_ADMIN_TOKEN", "")})
    put_n = R.env.http("PUT", "/shop", body=put, target=R.env.nginx)
    R.check("mixed", "nginx answers the mix with Surge's bytes", same and put_s[2] == put_n[2],
            f"geo bodies {'equal' if same else 'differ'}; PUT: Surge {put_s[2][:40]!r}, "
            f"nginx {put_n[2][:40]!r}")
    n = R.wrk(f"mixed-c{c}-nginx", c, a.duration, env, target="nginx")
    n.update(scenario="mixed")
    res["rows"].append(n)
    w["ceiling"] = nginx_ceiling(w, n)


def relative_to(row, ref, key):
    """row[key] = row's req/s and Surge CPU per request over ref's (when both were measured)."""
    if not row.get("rps") or not ref.get("rps"):
        return
    rc, fc = row.get("cpu_ms_per_1k", {}), ref.get("cpu_ms_per_1k", {})
    row[key] = {"ratio": row["rps"] / ref["rps"],
                "cpu_ratio": rc["surge"] / fc["surge"] if rc.get("surge") and fc.get("surge") else None}


def scenario_scaleout(R, res):
    """The original's topology: shop reads (ids 1-1,000) and the flash sale at each connection
    count through nginx (deploy/nginx/surge.conf.in) to every instance, beside the direct
    instance and the nginx ceiling, measured one after the other. On a machine whose cores all
    instances share, this shows the balancer's overhead and that correctness holds across
    instances, not a speed-up."""
    a = R.a
    n = len(a.instance_ports)
    log(f"scale-out: nginx balancer (deploy/nginx/surge.conf.in) in front of {n} instances")
    # The other instances start with cold near caches; Redis is already warm.
    for port in a.instance_ports[1:]:
        fetch_bodies(R.env, None, 1000, target=("127.0.0.1", port))
    s1 = R.env.http("GET", "/shop/1")
    b1 = R.env.http("GET", "/shop/1", target=R.env.balancer)
    R.check("scaleout", "the balancer passes Surge's exact bytes", s1[2] == b1[2] and
            b1[1].get("Content-Type") == s1[1].get("Content-Type"),
            f"{len(b1[2])} bytes, Content-Type {b1[1].get('Content-Type')}")

    def every_instance(row):
        share = row.get("per_instance_requests")
        if share is not None:
            R.check(row["name"], f"all {n} instances answered", len(share) == n and min(share) > 0,
                    " / ".join(f"{x:,}" for x in share) + " requests")

    def compare(b, d):
        """The balanced row against the direct one."""
        relative_to(b, d, "vs_direct")

    shop = {"BENCH_MODE": "shop", "BENCH_ID_LO": 1, "BENCH_ID_HI": 1000}
    for c in a.connections:
        log(f"scale-out shop read, ids 1-1,000, {c} connections")
        rows = {}
        for target in ("surge", "balancer") + (("nginx",) if a.ceilings else ()):
            r = R.wrk(f"scaleout-shop-c{c}-{target}", c, a.duration, shop, target=target)
            r.update(scenario="scaleout", kind="shop", ids="1-1000",
                     instances={"surge": 1, "balancer": n, "nginx": 0}[target])
            res["rows"].append(r)
            rows[target] = r
        d, b = rows["surge"], rows["balancer"]
        if "nginx" in rows:
            d["ceiling"] = nginx_ceiling(d, rows["nginx"])
            b["ceiling"] = nginx_ceiling(b, rows["nginx"])
        compare(b, d)
        for r in (d, b):
            if "error" in r:
                R.check(r["name"], "wrk ran", False, r["error"])
                continue
            R.check(r["name"], "no HTTP errors", r["http_errors"] == 0, f"{r['http_errors']} errors")
            R.check(r["name"], "every answer success:true", r["ok"] == r["requests"],
                    f"{r['ok']} of {r['requests']}; {r['biz_fail']} business failures")
        every_instance(b)

    probe_sale_route(R, res)
    for i, c in enumerate(a.connections):
        d = sale_row(R, res, "scaleout", c, a.scaleout_vouchers[2 * i])
        b = sale_row(R, res, "scaleout", c, a.scaleout_vouchers[2 * i + 1], target="balancer")
        b["instances"], d["instances"] = n, 1
        compare(b, d)
        every_instance(b)


def scenario_cluster(R, res):
    """The hot shop read (ids 1-1,000) at each connection count and the flash sale at each user
    count on a second instance with every feature on a 3-master, 3-replica Redis Cluster
    (purchases acknowledged after a replica has them). Each shop row runs right after the same row
    on the single-Redis instance; each sale row is compared with the seckill scenario's row for
    as many users (run earlier, same stock). With ceilings, redis-benchmark --cluster runs the
    same script on the cluster."""
    a = R.a
    cluster = R.env.cluster
    log("cluster: every feature on a 3-master Redis Cluster, beside the single Redis")
    fetch_bodies(R.env, None, 1000, target=cluster)
    s1 = R.env.http("GET", "/shop/1")
    c1 = R.env.http("GET", "/shop/1", target=cluster)
    R.check("cluster", "the cluster instance answers the same bytes", s1[2] == c1[2],
            f"{len(c1[2])} bytes")

    shop = {"BENCH_MODE": "shop", "BENCH_ID_LO": 1, "BENCH_ID_HI": 1000}
    for c in a.connections:
        log(f"cluster shop read, ids 1-1,000, {c} connections")
        single = R.wrk(f"cluster-shop-c{c}-single", c, a.duration, shop)
        on = R.wrk(f"cluster-shop-c{c}-cluster", c, a.duration, shop, target="cluster")
        for r, where in ((single, "single"), (on, "cluster")):
            r.update(scenario="cluster", kind="shop", ids="1-1000", redis=where)
            res["rows"].append(r)
            if "error" in r:
                R.check(r["name"], "wrk ran", False, r["error"])
                continue
            R.check(r["name"], "no HTTP errors", r["http_errors"] == 0, f"{r['http_errors']} errors")
            R.check(r["name"], "every answer success:true", r["ok"] == r["requests"],
                    f"{r['ok']} of {r['requests']}; {r['biz_fail']} business failures")
        relative_to(on, single, "vs_single")

    probe_sale_route(R, res)
    for users, voucher in zip(a.sale_users, a.cluster_vouchers):
        w = sale_row(R, res, "cluster", users, voucher, target="cluster")
        w["redis"] = "cluster"
        single = next((r for r in res["rows"] if r.get("scenario") == "seckill" and r.get("users") == users), None)
        if single:
            relative_to(w, single, "vs_single")

    if not a.ceilings:
        return
    # The same flash-sale-shaped script, each client on one master with keys in that master's slots.
    host, port = a.cluster_seeds[0]
    sha = subprocess.run(["redis-cli", "-h", host, "-p", str(port), "SCRIPT", "LOAD", a.sale_script],
                         capture_output=True, text=True, timeout=30).stdout.strip()
    for node_host, node_port in a.cluster_seeds:  # whichever are masters now
        subprocess.run(["redis-cli", "-h", node_host, "-p", str(node_port), "SCRIPT", "LOAD", a.sale_script],
                       capture_output=True, text=True, timeout=30)
    # Stock on every master, under the tag redis-benchmark gives that master's clients.
    subprocess.run(["redis-benchmark", "-h", host, "-p", str(port), "--cluster", "-c", "6", "-n", "600",
                    "SET", "{tag}:bench-stock", "1000000000"], capture_output=True, text=True, timeout=60)
    keys = ["{tag}:bench-stock", "{tag}:bench-buyers", "{tag}:bench-orders", "{tag}:bench-users"]
    for c in a.sale_users:
        for pl in (1, 16):
            r = R.redis_benchmark(f"redis-cluster-sale-c{c}-P{pl}", c, pl, ["EVALSHA", sha, 4, *keys],
                                  a.rb_duration, cluster=True)
            r.update(scenario="redis-cluster-sale", command="EVALSHA <flash-sale script> 4 {tag}:bench-stock ...")
            res["rows"].append(r)
    attach_sale_ceilings(res, lambda row: row.get("scenario") == "cluster" and row.get("kind") == "sale",
                         "redis-cluster-sale", "redis-benchmark --cluster EVALSHA -P 16")


def scenario_redis_ceilings(R, res):
    a = R.a
    env = R.env
    script = a.sale_script
    sha = env.redis("SCRIPT", "LOAD", script)
    keys = ["{bench}:stock", "{bench}:buyers", "{bench}:orders", "{bench}:users"]

    def reset():
        env.redis("DEL", *keys)
        env.redis("SET", "{bench}:stock", 1_000_000_000)

    log("ceilings: redis-benchmark GET of the cached shop value, and EVALSHA of a flash-sale-shaped script")
    get_key = f"cache:shop:1"
    env.http("GET", "/shop/1")
    for c in a.connections:
        for pl in (1, 16):
            r = R.redis_benchmark(f"redis-get-c{c}-P{pl}", c, pl, ["GET", get_key], a.rb_duration)
            r.update(scenario="redis-get", command=f"GET {get_key}")
            res["rows"].append(r)
    for c in a.sale_users:
        for pl in (1, 16):
            reset()
            r = R.redis_benchmark(f"redis-sale-c{c}-P{pl}", c, pl, ["EVALSHA", sha, 4, *keys], a.rb_duration)
            r.update(scenario="redis-sale", command="EVALSHA <flash-sale script> 4 {bench}:stock ...")
            res["rows"].append(r)
    env.redis("DEL", *keys)
    attach_sale_ceilings(res, lambda row: row.get("scenario") == "seckill", "redis-sale",
                         "redis-benchmark EVALSHA -P 16")


def attach_sale_ceilings(res, is_sale_row, ceiling_scenario, what):
    """Each flash-sale row's ceiling: the redis-benchmark row of `ceiling_scenario` with as many
    connections as the row had users, -P 16 the target's reference, -P 1 shown too."""
    for row in res["rows"]:
        if is_sale_row(row) and "rps" in row and not row.get("route_missing"):
            ref = {r["pipeline"]: r for r in res["rows"]
                   if r.get("scenario") == ceiling_scenario and r["connections"] == row["users"]}
            if 16 in ref:
                row["ceiling"] = {"what": what, "rps": ref[16]["rps"], "ratio": row["rps"] / ref[16]["rps"],
                                  "ratio_p1": row["rps"] / ref[1]["rps"] if 1 in ref else None}


SCENARIOS = {"shop": scenario_shop, "seckill": scenario_seckill, "storm": scenario_storm,
             "penetration": scenario_penetration, "mixed": scenario_mixed, "scaleout": scenario_scaleout,
             "cluster": scenario_cluster}


# --- output ----------------------------------------------------------------------------------

def fmt_int(x):
    return "—" if x is None else f"{x:,.0f}"


def fmt_ms(x):
    if x is None:
        return "—"
    return f"{x:.2f}" if x < 10 else f"{x:.1f}" if x < 100 else f"{x:,.0f}"


def fmt_pct(x):
    return "—" if x is None else f"{100 * x:.1f}%"


def fmt_ratio(row):
    c = row.get("ceiling")
    return "—" if not c else f"{c['ratio']:.2f}×"


def lat_cells(r):
    l = r.get("lat_ms", {})
    return [fmt_ms(l.get(k)) for k in ("avg", "p50", "p90", "p99", "max")]


def cpu_cell(r):
    c = dict(r.get("cpu_percent", {}))
    if r["target"] == "cluster":  # the instance on the cluster, and the cluster's nodes
        c["surge"], c["redis"] = c.get("cluster", 0.0), c.get("redis-cluster", 0.0)
    elif "surge" in c:  # every Surge instance together
        c["surge"] = sum(v for k, v in c.items() if k == "surge" or k.startswith("surge-"))
    keys = [("surge", "S"), ("balancer", "L"), ("nginx", "N"), ("redis", "R"), ("mariadb", "M"), ("wrk", "W"),
            ("others", "O")]
    if r["target"] == "nginx":
        keys = [("nginx", "N"), ("wrk", "W"), ("others", "O")]
    return " ".join(f"{tag}{c[k]:.0f}" for k, tag in keys if k in c and c[k] >= 0.5) or "—"


def fmt_cpu(x):
    if x is None:
        return "—"
    return f"{x:.2f}" if x < 10 else f"{x:.1f}" if x < 1000 else f"{x:,.0f}"


def cpu1k_cell(r):
    """CPU-ms per 1,000 requests of the server side of the row: Surge (all its instances), the
    nginx ceiling, or Surge + L(balancer)."""
    c = r.get("cpu_ms_per_1k", {})
    if r["target"] == "nginx":
        return fmt_cpu(c.get("nginx"))
    if r["target"] == "balancer":
        return f"{fmt_cpu(c.get('surge'))} + L {fmt_cpu(c.get('balancer'))}"
    return fmt_cpu(c.get("surge"))


def cpu_ratio_cell(r):
    c = r.get("ceiling") or {}
    return "—" if c.get("cpu_ratio") is None else f"{c['cpu_ratio']:.2f}×"


def sale_lead_cells(r):
    """A flash-sale row's first cells: users, voucher (stock), req/s, latencies, HTTP errors, accepted."""
    return [f"{r['users']:,}", f"{r['voucher']} ({r['stock_before']:,})", fmt_int(r["rps"]), *lat_cells(r),
            fmt_int(r["http_errors"]), fmt_int(r["ok"])]


def sale_error_row(r, empty_cells):
    return f"| {r['users']:,} | {r['voucher']} | error: {r['error']} |" + " |" * empty_cells


def write_markdown(res, path):
    m = res["machine"]
    rows = res["rows"]
    L = []
    if res.get("quick"):
        # --quick checks correctness only: no timing figures are written.
        L.append(f"# Surge benchmark --quick (correctness only) — {res['started']}")
        L.append("")
        L.append(f"Surge {m['surge_commit']}. No throughput or latency is reported in quick mode.")
        L.append("")
        rows = []
    else:
        L += _markdown_tables(res, m, rows)
    L.append("## Checks")
    L.append("")
    L.append("| scenario | check | result | detail |")
    L.append("|---|---|---|---|")
    for c in res["checks"]:
        L.append(f"| {c['scenario']} | {c['check']} | {'pass' if c['ok'] else '**FAIL**'} | {c['detail']} |")
    L.append("")
    if res.get("plots"):
        L.append("## Plots")
        L.append("")
        for p in res["plots"]:
            L.append(f"![{p}]({p})")
        L.append("")
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


def _markdown_tables(res, m, rows):
    L = []
    L.append(f"# Surge benchmark — {res['started']}")
    L.append("")
    L.append(f"Produced by `{res['command']}` in {res['elapsed_s'] / 60:.1f} min. Every number below comes "
             "from this one run; ratios compare figures measured in this run on this machine only.")
    L.append("")
    L.append(f"- Machine: {m['cpu_model']}, {m['cpus']} CPUs, {m['memory']} RAM, {m['os']}, kernel {m['kernel']} "
             f"(virtualization: {m['virtualization']}). Load average at start: {m['loadavg_at_start']}.")
    L.append(f"- Surge {m['surge_commit']}, {m['surge_workers']} workers, shop cache `{m['shop_cache']}`; "
             f"{m['redis']}; {m['mariadb']}; {m['nginx']}; {m['wrk']}.")
    L.append(f"- wrk: {WRK_THREADS} threads, {res['params']['duration']} s per row "
             f"(flash sale {res['params']['sale_duration']} s), keep-alive, `--latency`; latencies in ms. "
             "The server, Redis, MariaDB, nginx and the load generators all share the same CPUs.")
    others = [r["cpu_percent"].get("others") for r in rows if r.get("cpu_percent", {}).get("others") is not None]
    if others:
        avg = sum(others) / len(others)
        L.append(f"- **Other load on the machine**: processes outside the benchmark used on average {avg:.0f}% "
                 f"of one core (max {max(others):.0f}%) of the {m['cpus']} CPUs during the rows (column O). "
                 + ("That is a large share: treat absolute figures and ratios as noisy; rerun on an idle machine."
                    if avg > 20 else "The machine was mostly idle otherwise."))
    L.append("- HTTP err = non-2xx answers + socket errors/timeouts. Biz fail = HTTP 200 with `success:false`, "
             "never counted as success. Hit = near-cache + Redis hits (incl. null markers) / lookups. "
             "CPU = % of one core used during the row (S surge, every instance together; L the nginx balancer "
             "of the scale-out rows; N nginx ceiling; R redis, M mariadb, W wrk, "
             "O other processes on the machine that were not part of the benchmark).")
    L.append("- CPU ms/1k req = CPU-milliseconds (user + system, from `/proc/<pid>/stat`, children included) "
             "the server side of the row used per 1,000 answered requests: Surge (summed over its instances) "
             "for Surge rows, nginx for the ceiling rows. CPU × nginx = Surge's figure / nginx's in the ceiling "
             "row beside it. Unlike req/s, this figure hardly moves when other load shares the machine.")
    L.append("")
    shop = [r for r in rows if r.get("scenario") == "shop"]
    if shop:
        L.append("## Shop reads — `GET /shop/{id}`, random id")
        L.append("")
        L.append("| ids | conns | server | req/s | avg | p50 | p90 | p99 | max | HTTP err | biz fail | hit | DB loads | × nginx | CPU ms/1k req | CPU × nginx | CPU % |")
        L.append("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for r in shop:
            if "error" in r:
                L.append(f"| {r['ids']} | {r['connections']:,} | {r['target']} | error: {r['error']} |" + " |" * 13)
                continue
            cache = r.get("cache", {})
            L.append("| " + " | ".join([
                r["ids"], f"{r['connections']:,}", "Surge" if r["target"] == "surge" else "nginx (ceiling)",
                fmt_int(r["rps"]), *lat_cells(r), fmt_int(r["http_errors"]), fmt_int(r["biz_fail"]),
                fmt_pct(cache.get("hit_rate")) if cache else "—",
                fmt_int(cache.get("db_loads")) if cache else "—", fmt_ratio(r), cpu1k_cell(r), cpu_ratio_cell(r),
                cpu_cell(r)]) + " |")
        L.append("")
    sale = [r for r in rows if r.get("scenario") == "seckill"]
    if sale:
        L.append("## Flash sale — `POST /voucher-order/seckill/{id}`, distinct logged-in users")
        L.append("")
        route = res.get("seckill_route", {})
        L.append(f"Route probe (`POST /voucher-order/seckill/999999999`): HTTP {route.get('probe_status')}.")
        L.append("")
        L.append("| users | voucher (stock) | req/s | avg | p50 | p90 | p99 | max | HTTP err | accepted | 库存不足 | 不能重复下单 | other biz fail | orders in DB | oversell | dup users | in DB after | × redis -P16 | × redis -P1 | × nginx | CPU ms/1k req | CPU × nginx | Redis CPU ms/1k | verdict |")
        L.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for r in sale:
            if "error" in r:
                L.append(sale_error_row(r, 21))
                continue
            v = r.get("verify", {})
            c = r.get("ceiling") or {}
            h = r.get("http_ceiling") or {}
            L.append("| " + " | ".join([
                *sale_lead_cells(r), fmt_int(r["f_stock"]), fmt_int(r["f_repeat"]),
                fmt_int(r["f_other"] + r["f_absent"]), fmt_int(v.get("orders_in_db")), fmt_int(v.get("oversell")),
                fmt_int(v.get("duplicate_users")), f"{v.get('persist_wait_s', 0):.1f} s",
                f"{c['ratio']:.2f}×" if c else "—",
                f"{c['ratio_p1']:.2f}×" if c and c.get("ratio_p1") else "—",
                f"{h['ratio']:.2f}×" if h else "—", cpu1k_cell(r),
                f"{h['cpu_ratio']:.2f}×" if h.get("cpu_ratio") else "—",
                fmt_cpu(r.get("cpu_ms_per_1k", {}).get("redis")), r.get("verdict", "")]) + " |")
        L.append("")
        L.append("Orders are counted in MariaDB (`tb_voucher_order`) after the run, waiting for the order writer "
                 "until the count reaches the accepted number (or stops changing for 10 s); \"in DB after\" is that wait.")
        ceil = [r for r in rows if r.get("scenario") == "seckill-nginx" and "rps" in r]
        if ceil:
            L.append("")
            L.append("× nginx: nginx answering the same requests (same users, tokens and paths, same wrk script) "
                     "with the bytes Surge gives a repeat purchase, at the same connection count: "
                     + ", ".join(f"{fmt_int(r['rps'])} req/s at {r['users']:,} users "
                                 f"({fmt_cpu(r.get('cpu_ms_per_1k', {}).get('nginx'))} CPU ms/1k)" for r in ceil)
                     + ". It bounds what any HTTP server could answer on this machine, Redis or not.")
        L.append("")
    storms = [r for r in rows if r.get("scenario") in ("storm", "penetration", "mixed")]
    if storms:
        L.append("## Cache storms and mixed load")
        L.append("")
        L.append("| scenario | conns | server | req/s | avg | p50 | p90 | p99 | max | HTTP err | biz fail | hit | DB loads | note | × nginx | CPU ms/1k req | CPU × nginx | CPU % |")
        L.append("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|")
        for r in storms:
            if "error" in r:
                L.append(f"| {r['scenario']} | {r['connections']:,} | {r['target']} | error: {r['error']} |" + " |" * 14)
                continue
            cache = r.get("cache", {})
            note = ""
            if r["scenario"] == "storm":
                note = (f"`/shop/{STORM_SHOP}` expired {r['during']['expiries']}× during the run; "
                        f"{cache.get('miss', 0):,} misses, {cache.get('lock_waits', 0):,} lock waits, "
                        f"{cache.get('wait_timeouts', 0)} wait timeouts") if r["target"] == "surge" else f"`/shop/{STORM_SHOP}`"
            elif r["scenario"] == "penetration":
                note = (f"ids {ABSENT_LO:,}–{ABSENT_HI:,}, none exists (店铺不存在 expected); "
                        f"{cache.get('bloom_reject', 0):,} Bloom rejects") if r["target"] == "surge" else "identical 店铺不存在 bytes"
            else:
                note = (f"sent: {r['sent_read']:,} shop reads, {r['sent_geo']:,} geo, {r['sent_write']:,} PUT /shop; "
                        f"{cache.get('invalidations', 0):,} invalidations")
            L.append("| " + " | ".join([
                r["scenario"], f"{r['connections']:,}", "Surge" if r["target"] == "surge" else "nginx (ceiling)",
                fmt_int(r["rps"]), *lat_cells(r), fmt_int(r["http_errors"]), fmt_int(r["biz_fail"]),
                fmt_pct(cache.get("hit_rate")) if cache else "—",
                fmt_int(cache.get("db_loads")) if cache else "—", note, fmt_ratio(r), cpu1k_cell(r),
                cpu_ratio_cell(r), cpu_cell(r)]) + " |")
        L.append("")
    L += _scaleout_tables(res, m, rows)
    L += _cluster_tables(res, m, rows)
    rb = [r for r in rows if r.get("target", "").startswith("redis-benchmark")]
    if rb:
        L.append("## Ceilings — redis-benchmark against the same Redis (and the same cluster)")
        L.append("")
        L.append("| command | Redis | conns | pipeline | req/s | avg | p50 | p99 | max | Redis CPU ms/1k | CPU % |")
        L.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for r in rb:
            l = r["lat_ms"]
            c = r.get("cpu_percent", {})
            cluster = r["target"].endswith("--cluster")
            L.append("| " + " | ".join([
                f"`{r['command']}`", "cluster (`--cluster`)" if cluster else "single",
                f"{r['connections']:,}", f"-P {r['pipeline']}", fmt_int(r["rps"]),
                fmt_ms(l.get("avg")), fmt_ms(l.get("p50")), fmt_ms(l.get("p99")), fmt_ms(l.get("max")),
                fmt_cpu(r.get("cpu_ms_per_1k", {}).get("redis")),
                f"R{c.get('redis-cluster' if cluster else 'redis', 0):.0f} "
                f"B{c.get('redis-benchmark', 0):.0f} O{c.get('others', 0):.0f}"]) + " |")
        L.append("")
        L.append("The flash-sale-shaped script: INCR a buyer counter, GET stock, SISMEMBER, DECR, SADD, XADD "
                 "(every call takes the full \"accepted\" path with a new buyer).")
        L.append("")
    return L


def _cluster_tables(res, m, rows):
    """The hot read and the flash sale with every feature on a 3-master Redis Cluster, beside the
    single Redis: × single = cluster req/s over single req/s (shop: the row measured just before;
    sale: the flash-sale table's row for as many users)."""
    cl = [r for r in rows if r.get("scenario") == "cluster"]
    if not cl:
        return []
    L = ["## Redis Cluster — every feature on 3 masters with a replica each, beside the single Redis", ""]
    L.append("A second Surge instance (same binary, flags and MariaDB) with `--redis-cluster`: sessions, caches, "
             "Bloom filter, pub/sub and the sale on a cluster of 3 masters and 3 replicas on this machine; purchases "
             "answer after a replica has them (`WAIT`, grouped). The cluster's six nodes share the cores with "
             f"everything else ({m['cpus']} CPUs), so these rows show what the cluster costs per request, not the "
             "throughput more machines would add. Redis CPU ms/1k = the cluster's nodes together for cluster rows.")
    L.append("")

    def vs(r, key):
        v = (r.get("vs_single") or {}).get(key)
        return "—" if v is None else f"{v:.2f}×"

    shop = [r for r in cl if r.get("kind") == "shop"]
    if shop:
        L.append("### Shop reads — `GET /shop/{id}`, id uniform in 1–1,000")
        L.append("")
        L.append("| conns | Redis | req/s | avg | p50 | p90 | p99 | max | HTTP err | biz fail | hit | × single | Surge CPU ms/1k | Redis CPU ms/1k | Surge CPU × single | CPU % |")
        L.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for r in shop:
            if "error" in r:
                L.append(f"| {r['connections']:,} | {r['redis']} | error: {r['error']} |" + " |" * 13)
                continue
            cache = r.get("cache", {})
            L.append("| " + " | ".join([
                f"{r['connections']:,}", r["redis"], fmt_int(r["rps"]), *lat_cells(r), fmt_int(r["http_errors"]),
                fmt_int(r["biz_fail"]), fmt_pct(cache.get("hit_rate")) if cache else "—", vs(r, "ratio"),
                fmt_cpu(r.get("cpu_ms_per_1k", {}).get("surge")), fmt_cpu(r.get("cpu_ms_per_1k", {}).get("redis")),
                vs(r, "cpu_ratio"), cpu_cell(r)]) + " |")
        L.append("")
    sale = [r for r in cl if r.get("kind") == "sale"]
    if sale:
        L.append("### Flash sale — `POST /voucher-order/seckill/{id}`, distinct logged-in users, one voucher per row")
        L.append("")
        L.append("| users | voucher (stock) | req/s | avg | p50 | p90 | p99 | max | HTTP err | accepted | orders in DB | oversell | dup users | × single | × redis --cluster -P16 | Surge CPU ms/1k | Redis CPU ms/1k | Surge CPU × single | CPU % | verdict |")
        L.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
        for r in sale:
            if "error" in r:
                L.append(sale_error_row(r, 17))
                continue
            v = r.get("verify", {})
            c = r.get("ceiling") or {}
            L.append("| " + " | ".join([
                *sale_lead_cells(r), fmt_int(v.get("orders_in_db")),
                fmt_int(v.get("oversell")), fmt_int(v.get("duplicate_users")), vs(r, "ratio"),
                f"{c['ratio']:.2f}×" if c else "—", fmt_cpu(r.get("cpu_ms_per_1k", {}).get("surge")),
                fmt_cpu(r.get("cpu_ms_per_1k", {}).get("redis")), vs(r, "cpu_ratio"), cpu_cell(r),
                r.get("verdict", "")]) + " |")
        L.append("")
        L.append("Verified like the single-node flash-sale rows: orders in MariaDB == accepted, no oversell, no user "
                 "twice, every user who could buy did, DB stock deducted == orders.")
        L.append("")
    return L


def _scaleout_tables(res, m, rows):
    """The original's two tables (shop reads, flash sale) for N instances behind nginx, each row
    beside one instance direct (and, for reads, nginx serving the same bytes)."""
    so = [r for r in rows if r.get("scenario") == "scaleout"]
    if not so:
        return []
    n = res["params"].get("instances", 3)
    topo = {"surge": "1 instance, direct", "balancer": f"{n} instances behind nginx", "nginx": "nginx alone (ceiling)"}
    L = [f"## Scale-out — nginx (`deploy/nginx/surge.conf.in`, least_conn) in front of {n} Surge instances", ""]
    L.append(f"The topology the original ran ({n} instances behind nginx), each row measured right after one "
             "instance answering directly (and, for reads, nginx serving the identical bytes), all in this run. "
             f"All {n} instances, the balancer, Redis, MariaDB and wrk share the machine's {m['cpus']} cores: "
             "**the point of these rows is the balancer's overhead and correctness across instances, not a "
             "speed-up** (more instances cannot add cores). × 1 instance = this row's req/s over the direct "
             "row's; Surge CPU × 1 instance = Surge CPU per request summed over the instances over the single "
             "instance's; nginx CPU ms/1k is the balancer's in the balanced rows and the ceiling's in its row. "
             "Per instance = requests each instance answered (from its `/metrics`).")
    L.append("")

    def per_instance(r):
        share = r.get("per_instance_requests")
        return " / ".join(fmt_int(x) for x in share) if share else "—"

    def vs_direct(r, key):
        v = (r.get("vs_direct") or {}).get(key)
        return "—" if v is None else f"{v:.2f}×"

    def nginx_cpu(r):
        c = r.get("cpu_ms_per_1k", {})
        return fmt_cpu(c.get("balancer", c.get("nginx")))

    def surge_cpu(r):
        return "—" if r["target"] == "nginx" else fmt_cpu(r.get("cpu_ms_per_1k", {}).get("surge"))

    shop = [r for r in so if r.get("kind") == "shop"]
    if shop:
        L.append("### Shop reads — `GET /shop/{id}`, id uniform in 1–1,000")
        L.append("")
        L.append("| conns | topology | requests | req/s | avg | p50 | p90 | p99 | max | HTTP err | biz fail | per instance | × 1 instance | × nginx | Surge CPU ms/1k | nginx CPU ms/1k | Surge CPU × 1 instance | Surge CPU × nginx | CPU % |")
        L.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|")
        for r in shop:
            if "error" in r:
                L.append(f"| {r['connections']:,} | {topo[r['target']]} | error: {r['error']} |" + " |" * 16)
                continue
            L.append("| " + " | ".join([
                f"{r['connections']:,}", topo[r["target"]], fmt_int(r["requests"]), fmt_int(r["rps"]), *lat_cells(r),
                fmt_int(r["http_errors"]), fmt_int(r["biz_fail"]), per_instance(r), vs_direct(r, "ratio"),
                fmt_ratio(r), surge_cpu(r), nginx_cpu(r), vs_direct(r, "cpu_ratio"), cpu_ratio_cell(r),
                cpu_cell(r)]) + " |")
        L.append("")
    sale = [r for r in so if r.get("kind") == "sale"]
    if sale:
        L.append("### Flash sale — `POST /voucher-order/seckill/{id}`, distinct logged-in users, one voucher per row")
        L.append("")
        L.append("| users | topology | voucher (stock) | requests | req/s | avg | p50 | p90 | p99 | max | HTTP err | accepted | 库存不足 | 不能重复下单 | orders in DB | oversell | dup users | per instance | × 1 instance | Surge CPU ms/1k | nginx CPU ms/1k | Surge CPU × 1 instance | CPU % | verdict |")
        L.append("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|---|")
        for r in sale:
            if "error" in r:
                L.append(f"| {r['users']:,} | {topo[r['target']]} | {r['voucher']} | error: {r['error']} |" + " |" * 20)
                continue
            v = r.get("verify", {})
            L.append("| " + " | ".join([
                f"{r['users']:,}", topo[r["target"]], f"{r['voucher']} ({r['stock_before']:,})", fmt_int(r["requests"]),
                fmt_int(r["rps"]), *lat_cells(r), fmt_int(r["http_errors"]), fmt_int(r["ok"]), fmt_int(r["f_stock"]),
                fmt_int(r["f_repeat"]), fmt_int(v.get("orders_in_db")), fmt_int(v.get("oversell")),
                fmt_int(v.get("duplicate_users")), per_instance(r), vs_direct(r, "ratio"), surge_cpu(r),
                nginx_cpu(r), vs_direct(r, "cpu_ratio"), cpu_cell(r), r.get("verdict", "")]) + " |")
        L.append("")
        L.append("Every balanced row is verified like the flash-sale rows above: orders in MariaDB == accepted, "
                 "no oversell, no user twice, DB stock deducted == orders, with the orders written by whichever "
                 "instance's order writer read them.")
        L.append("")
    return L


def write_plots(res, outdir, rawdir):
    rows = [r for r in res["rows"] if "rps" in r]
    plots = []

    def series(pred):
        pts = sorted((r["connections"], r["rps"], r["lat_ms"]["p99"]) for r in rows if pred(r))
        return pts

    def dat(name, pts):
        p = os.path.join(rawdir, name + ".dat")
        with open(p, "w") as f:
            f.write("# connections req_per_s p99_ms\n")
            for c, rps, p99 in pts:
                f.write(f"{c} {rps:.3f} {p99:.3f}\n")  # .3f: ratios are plotted through here too
        return p

    conns = sorted({r["connections"] for r in rows if r.get("scenario") == "shop"})
    shop_series = []
    for ids in ("1-1000", "1-50114"):
        for target, label in (("surge", "Surge"), ("nginx", "nginx ceiling")):
            pts = series(lambda r: r.get("scenario") == "shop" and r.get("ids") == ids and r["target"] == target)
            if pts:
                shop_series.append((dat(f"shop-{ids}-{target}", pts), f"{label}, ids {ids}",
                                    "dt 1" if target == "surge" else "dt 2"))
    sale_series = []
    pts = series(lambda r: r.get("scenario") == "seckill" and not r.get("route_missing"))
    if pts:
        sale_series.append((dat("seckill-surge", pts), "Surge flash sale (HTTP, auth, Lua)", "dt 1"))
    for pl in (16, 1):
        pts = series(lambda r, pl=pl: r.get("scenario") == "redis-sale" and r.get("pipeline") == pl)
        if pts:
            sale_series.append((dat(f"seckill-redis-P{pl}", pts), f"redis-benchmark EVALSHA -P {pl} (ceiling)", "dt 2"))

    def plot(png, title, ylabel, using, ser, xlabel, logy=False, extra=()):
        if not ser:
            return
        xs = sorted({int(l.split()[0]) for s_ in ser for l in open(s_[0]) if not l.startswith("#")})
        xt = ", ".join(f'"{c:,}" {c}' for c in xs)
        gp = [
            'set terminal pngcairo size 900,600 enhanced font "DejaVu Sans,11"',
            f'set output "{os.path.join(outdir, png)}"',
            f'set title "{title}"', f'set xlabel "{xlabel}"', f'set ylabel "{ylabel}"',
            "set logscale x", f"set xtics ({xt})", f"set xrange [{xs[0] * 0.8}:{xs[-1] * 1.25}]",
            "set grid", "set bmargin 7", "set key at screen 0.5, screen 0.015 center bottom horizontal box maxrows 2",
            "set logscale y" if logy else "set yrange [0:*]",
            *extra,
        ]
        cmds = [f'"{d}" using 1:{using} with linespoints lw 2 pt 7 ps 1.2 {dt} title "{t}"' for d, t, dt in ser]
        gp.append("plot " + ", \\\n     ".join(cmds))
        script = os.path.join(rawdir, png.replace(".png", ".gp"))
        with open(script, "w") as f:
            f.write("\n".join(gp) + "\n")
        r = subprocess.run(["gnuplot", script], capture_output=True, text=True)
        if r.returncode != 0:
            log(f"gnuplot failed for {png}: {r.stderr.strip()[:300]}")
            return
        plots.append(png)

    m = res["machine"]
    sub = f"{m['cpus']} CPUs shared by Surge/nginx, Redis, MariaDB and wrk; {res['started']}"
    plot("shop_throughput.png", f"GET /shop/<id>: Surge vs nginx serving the same bytes\\n{{/*0.8 {sub}}}",
         "thousand requests/s", "($2/1000)", shop_series, "connections")
    plot("shop_p99.png", f"GET /shop/<id>: p99 latency\\n{{/*0.8 {sub}}}", "p99 latency (ms, log scale)", "3",
         shop_series, "connections", logy=True)
    ratio_series = []
    for ids in ("1-1000", "1-50114"):
        pts = sorted((r["connections"], r["ceiling"]["ratio"], r["ceiling"].get("p99_ratio") or 0) for r in rows
                     if r.get("scenario") == "shop" and r.get("ids") == ids and r["target"] == "surge"
                     and r.get("ceiling"))
        if pts:
            ratio_series.append((dat(f"shop-{ids}-ratio", pts), f"Surge / nginx req/s, ids {ids}", "dt 1"))
    plot("shop_ratio.png", f"GET /shop/<id>: Surge throughput as a fraction of nginx's (target >= 0.9)\\n{{/*0.8 {sub}}}",
         "Surge req/s / nginx req/s", "2", ratio_series, "connections",
         extra=("set arrow from graph 0, first 0.9 to graph 1, first 0.9 nohead dt 3 lw 2 lc rgb 'red'",
                "set label 'target 0.9' at graph 0.02, first 0.95 tc rgb 'red'"))
    no_surge = () if any("seckill-surge" in d for d, _, _ in sale_series) else (
        "set label 'no Surge data: the flash-sale route failed in this run (see results.md)' "
        "at graph 0.5, graph 0.93 center tc rgb 'red'",)
    plot("flash_sale.png", f"Flash sale: Surge vs redis-benchmark running a flash-sale script\\n{{/*0.8 {sub}}}",
         "thousand requests/s", "($2/1000)", sale_series, "connections (= distinct users for Surge)",
         extra=no_surge)
    plot("flash_sale_p99.png", f"Flash sale: p99 latency\\n{{/*0.8 {sub}}}", "p99 latency (ms, log scale)", "3",
         sale_series, "connections (= distinct users for Surge)", logy=True, extra=no_surge)

    # CPU per request: the column dat() calls req/s carries CPU-ms per 1,000 requests here.
    def cpu_pts(pred, key):
        return sorted((r["connections"], r["cpu_ms_per_1k"][key], 0) for r in rows
                      if pred(r) and r.get("cpu_ms_per_1k", {}).get(key) is not None)
    cpu_series = []
    for ids in ("1-1000", "1-50114"):
        for target, label in (("surge", "Surge"), ("nginx", "nginx ceiling")):
            pts = cpu_pts(lambda r: r.get("scenario") == "shop" and r.get("ids") == ids and r["target"] == target,
                          target)
            if pts:
                cpu_series.append((dat(f"shop-{ids}-{target}-cpu", pts), f"{label}, ids {ids}",
                                   "dt 1" if target == "surge" else "dt 2"))
    plot("shop_cpu.png", f"GET /shop/<id>: CPU per 1,000 requests (server side only)\\n{{/*0.8 {sub}}}",
         "CPU-milliseconds per 1,000 requests", "2", cpu_series, "connections")

    n = res["params"].get("instances", 3)
    so_series = []
    for kind, what in (("shop", "shop reads"), ("sale", "flash sale")):
        for target, label in (("balancer", f"{n} instances behind nginx"), ("surge", "1 instance direct"),
                              ("nginx", "nginx ceiling")):
            pts = series(lambda r: r.get("scenario") == "scaleout" and r.get("kind") == kind and r["target"] == target)
            if pts:
                so_series.append((dat(f"scaleout-{kind}-{target}", pts), f"{what}: {label}",
                                  {"balancer": "dt 1", "surge": "dt 2", "nginx": "dt 3"}[target]))
    plot("scaleout.png", f"Scale-out: {n} instances behind nginx vs one instance (shared cores: overhead, "
         f"not speed-up)\\n{{/*0.8 {sub}}}", "thousand requests/s", "($2/1000)", so_series,
         "connections (= distinct users for the flash sale)")
    return plots


# --- main ------------------------------------------------------------------------------------

def render(d):
    """Re-renders results.md and the plots of a results folder from its results.json."""
    with open(os.path.join(d, "results.json")) as f:
        res = json.load(f)
    raw = os.path.join(d, "raw")
    os.makedirs(raw, exist_ok=True)
    if not res.get("quick"):
        res["plots"] = write_plots(res, d, raw)
    write_markdown(res, os.path.join(d, "results.md"))
    log(f"rendered {d}/results.md and {len(res.get('plots', []))} plots")
    return 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--render":
        return render(sys.argv[2])
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repo", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--raw", required=True)
    p.add_argument("--work", required=True, help="private temp dir (nginx root, tokens)")
    p.add_argument("--lua", required=True)
    p.add_argument("--surge-port", type=int, required=True)
    p.add_argument("--surge-pid", type=int, required=True)
    p.add_argument("--nginx-port", type=int, default=0)
    p.add_argument("--nginx-pid", type=int, default=0)
    p.add_argument("--nginx-root", default="")
    p.add_argument("--balancer-port", type=int, default=0)
    p.add_argument("--balancer-pid", type=int, default=0)
    p.add_argument("--instance-ports", default="", help="every Surge instance's port, the direct one first")
    p.add_argument("--admin-ports", default="", help="their admin listeners' ports, in the same order")
    p.add_argument("--instance-pids", default="", help="their pids, in the same order")
    p.add_argument("--scaleout-vouchers", default="12,13,5,6,7,8,9,10")
    p.add_argument("--cluster-port", type=int, default=0, help="the instance with every feature on a cluster")
    p.add_argument("--cluster-pid", type=int, default=0)
    p.add_argument("--cluster-admin-port", type=int, default=0)
    p.add_argument("--cluster-seeds", default="", help="host:port of every cluster node")
    p.add_argument("--cluster-redis-pids", default="", help="the cluster nodes' pids")
    p.add_argument("--cluster-vouchers", default="14,15,16")
    p.add_argument("--redis-port", type=int, required=True)
    p.add_argument("--redis-pid", type=int, default=0)
    p.add_argument("--mysql-pid", type=int, default=0)
    p.add_argument("--mysql-socket", required=True)
    p.add_argument("--mysql-user", required=True)
    p.add_argument("--mysql-password", required=True)
    p.add_argument("--mysql-database", required=True)
    p.add_argument("--workers", default="")
    p.add_argument("--shop-cache", default="")
    p.add_argument("--sale-script-file", required=True)
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--sale-duration", type=int, default=0)
    p.add_argument("--rb-duration", type=int, default=0)
    p.add_argument("--connections", default="50,500,1000,2000")
    p.add_argument("--sale-users", default="500,1000,2000")
    p.add_argument("--sale-vouchers", default="2,3,4")
    p.add_argument("--storm-connections", type=int, default=1000)
    p.add_argument("--storm-interval", type=float, default=1.0)
    p.add_argument("--mixed-connections", type=int, default=500)
    p.add_argument("--scenarios", default="shop,seckill,storm,penetration,mixed,scaleout")
    p.add_argument("--no-ceilings", dest="ceilings", action="store_false")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--command", default="bench/run")
    a = p.parse_args()
    a.connections = [int(x) for x in a.connections.split(",") if x]
    a.sale_users = [int(x) for x in a.sale_users.split(",") if x]
    a.sale_vouchers = [int(x) for x in a.sale_vouchers.split(",") if x]
    a.sale_duration = a.sale_duration or a.duration
    a.rb_duration = a.rb_duration or a.duration
    a.scenarios = [s for s in a.scenarios.split(",") if s]
    a.scaleout_vouchers = [int(x) for x in a.scaleout_vouchers.split(",") if x]
    a.instance_ports = [int(x) for x in a.instance_ports.split(",") if x] or [a.surge_port]
    a.instance_pids = [int(x) for x in a.instance_pids.split(",") if x] or [a.surge_pid]
    a.admin_ports = [int(x) for x in a.admin_ports.split(",") if x]
    a.cluster_seeds = [(x.rsplit(":", 1)[0], int(x.rsplit(":", 1)[1])) for x in a.cluster_seeds.split(",") if x]
    a.cluster_redis_pids = [int(x) for x in a.cluster_redis_pids.split(",") if x]
    a.cluster_vouchers = [int(x) for x in a.cluster_vouchers.split(",") if x]
    if "cluster" in a.scenarios:
        if not a.cluster_port or not a.cluster_seeds:
            p.error("the cluster scenario needs --cluster-port and --cluster-seeds")
        if len(a.cluster_vouchers) < len(a.sale_users):
            p.error("need one cluster voucher per flash-sale user count")
        a.cluster_vouchers = a.cluster_vouchers[:len(a.sale_users)]
    if len(a.admin_ports) != len(a.instance_ports):
        p.error("--admin-ports: one admin port per instance port")
    if len(a.instance_pids) != len(a.instance_ports) or a.instance_ports[0] != a.surge_port:
        p.error("--instance-ports/--instance-pids: one pid per port, the direct instance first")
    unknown = set(a.scenarios) - set(SCENARIOS)
    if unknown:
        p.error(f"unknown scenarios: {','.join(sorted(unknown))} (known: {','.join(SCENARIOS)})")
    if len(a.sale_vouchers) < len(a.sale_users):
        p.error("need one voucher per flash-sale user count")
    a.sale_vouchers = a.sale_vouchers[:len(a.sale_users)]
    if "scaleout" in a.scenarios:
        if not a.balancer_port or len(a.instance_ports) < 2:
            p.error("the scaleout scenario needs --balancer-port and two or more --instance-ports")
        if len(a.scaleout_vouchers) < 2 * len(a.connections):
            p.error("need two scale-out vouchers per connection count (direct, balancer)")
        a.scaleout_vouchers = a.scaleout_vouchers[:2 * len(a.connections)]
        # A voucher sold in two rows would mix their orders and their stock.
        used = a.scaleout_vouchers + (a.sale_vouchers if "seckill" in a.scenarios else []) + \
            (a.cluster_vouchers if "cluster" in a.scenarios else [])
        if len(set(used)) != len(used):
            p.error(f"every flash-sale row needs its own voucher; these repeat: {sorted(used)}")
    with open(a.sale_script_file) as f:
        a.sale_script = f.read()
    if a.quick or not a.nginx_port:
        a.ceilings = False
    a.tokens = os.path.join(a.work, "tokens.txt")

    # Started in the background by bench/run, this process may have inherited SIGINT ignored:
    # make Ctrl-C (and bench/run's cleanup) stop it with the partial results written.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    R = Runner(a)
    started = time.monotonic()
    res = {"started": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
           "command": a.command, "quick": a.quick,
           "params": {"duration": a.duration, "sale_duration": a.sale_duration, "rb_duration": a.rb_duration,
                      "connections": a.connections, "sale_users": a.sale_users, "sale_vouchers": a.sale_vouchers,
                      "instances": len(a.instance_ports) if "scaleout" in a.scenarios else 1,
                      "scaleout_vouchers": a.scaleout_vouchers if "scaleout" in a.scenarios else [],
                      "storm_connections": a.storm_connections, "mixed_connections": a.mixed_connections,
                      "wrk_threads": WRK_THREADS, "scenarios": a.scenarios},
           "machine": machine_info(a), "rows": []}
    R.tokens = []
    try:
        # Warm-up: every shop a row will read is read once first, so no row starts cold (the
        # storms measure cold keys on purpose). With ceilings the bodies become nginx's files.
        hi = ((1000 if a.quick else 50114) if ("shop" in a.scenarios or "mixed" in a.scenarios)
              else 1000 if "scaleout" in a.scenarios else STORM_SHOP)
        t = time.monotonic()
        log(f"warm-up: reading /shop/1..{hi:,} once" + (" and saving the bodies for nginx" if a.ceilings else ""))
        res["warmup"] = fetch_bodies(R.env, a.nginx_root if a.ceilings else None, hi)
        log(f"  done in {time.monotonic() - t:.1f} s ({res['warmup']['not_ok']} not success:true; "
            f"Content-Type {res['warmup']['content_type']})")
        if a.ceilings:
            # nginx must answer with the same bytes Surge did: compare one.
            s1 = R.env.http("GET", "/shop/1")
            n1 = R.env.http("GET", "/shop/1", target=R.env.nginx)
            R.check("ceiling", "nginx serves Surge's exact bytes", s1[2] == n1[2] and
                    n1[1].get("Content-Type") == s1[1].get("Content-Type"),
                    f"{len(n1[2])} bytes, Content-Type {n1[1].get('Content-Type')}")
        n = max((a.sale_users if "seckill" in a.scenarios or "cluster" in a.scenarios else []) +
                (a.connections if "scaleout" in a.scenarios else []), default=0)
        if n:
            t = time.monotonic()
            R.tokens = prepare_tokens(R.env, n, a.tokens)
            log(f"prepared {len(R.tokens):,} logged-in users (login:token:* hashes) in {time.monotonic() - t:.1f} s")
        for s in a.scenarios:
            SCENARIOS[s](R, res)
        if a.ceilings and ("shop" in a.scenarios or "seckill" in a.scenarios):
            scenario_redis_ceilings(R, res)
    except KeyboardInterrupt:
        log("interrupted; writing what was measured so far")
        res["interrupted"] = True
    except Exception as e:  # a scenario crashed (e.g. Surge died): keep what was measured
        log(f"error: {type(e).__name__}: {e}; writing what was measured so far")
        res["error"] = f"{type(e).__name__}: {e}"
    finally:
        res["elapsed_s"] = round(time.monotonic() - started, 1)
        res["checks"] = R.checks
        res["failed_checks"] = sum(1 for c in R.checks if not c["ok"])
        os.makedirs(a.out, exist_ok=True)
        if not a.quick:
            res["plots"] = write_plots(res, a.out, a.raw)
        with open(os.path.join(a.out, "results.json"), "w") as f:
            json.dump(res, f, indent=1, ensure_ascii=False)
        write_markdown(res, os.path.join(a.out, "results.md"))
    log(f"wrote {a.out}/results.md and results.json ({res['failed_checks']} failed checks of {len(R.checks)})")
    return 1 if res["failed_checks"] or res.get("interrupted") or res.get("error") else 0


if __name__ == "__main__":
    sys.exit(main())
