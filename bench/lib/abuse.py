#!/usr/bin/env python3
"""Load generator for bench/abuse (stdlib only): idle, slow-header and flood connections in one
asyncio loop, and a live keep-alive client on a thread of its own timing GET /shop/1."""
import argparse
import asyncio
import resource
import socket
import threading
import time

MIB = 1 << 20


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def live_client(port, stop, latencies, errors):
    """One keep-alive connection asking GET /shop/1 back to back; reconnects if closed."""
    req = b"GET /shop/1 HTTP/1.1\r\nHost: bench\r\n\r\n"
    sock = None
    while not stop.is_set():
        try:
            if sock is None:
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            t0 = time.perf_counter()
            sock.sendall(req)
            buf = b""
            while b"\r\n\r\n" not in buf:
                chunk = sock.recv(65536)
                if not chunk:
                    raise ConnectionError("closed")
                buf += chunk
            head, _, body = buf.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            while len(body) < length:
                body += sock.recv(65536)
            if not head.startswith(b"HTTP/1.1 200") or b'"success":true' not in body:
                errors.append(head.split(b"\r\n")[0].decode())
            latencies.append(time.perf_counter() - t0)
        except OSError as e:
            errors.append(str(e))
            sock = None
            time.sleep(0.01)


async def idle_conn(port, stop, counts):
    try:
        r, w = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        counts["idle_failed"] += 1
        return
    counts["idle_open"] += 1
    while not stop.is_set():
        await asyncio.sleep(0.5)
    w.close()


async def slow_conn(port, stop, counts):
    """Sends a header one byte a second; when the server gives up (408), starts again."""
    while not stop.is_set():
        try:
            r, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(b"GET /shop/1 HTTP/1.1\r\nHost: slow\r\n")
            await w.drain()
            counts["slow_open"] += 1
            while not stop.is_set():
                w.write(b"X")
                await w.drain()
                try:
                    data = await asyncio.wait_for(r.read(4096), 1.0)
                except asyncio.TimeoutError:
                    continue
                if data:
                    counts["slow_answered"] += 1
                break
            w.close()
        except OSError:
            counts["slow_failed"] += 1
            await asyncio.sleep(0.1)


async def flood_conn(port, stop, kind, stats):
    """32 MiB of one framing element; records how long until the server answers."""
    start = {
        "extensions": b"5;e=",
        "trailers": b"5\r\nhello\r\n0\r\n",
        "digits": b"",
    }[kind]
    unit = {"extensions": b"x" * 65536, "trailers": (b"X-T: " + b"t" * 90 + b"\r\n") * 640,
            "digits": b"0" * 65536}[kind]
    while not stop.is_set():
        t0 = time.perf_counter()
        try:
            r, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(b"POST /shop HTTP/1.1\r\nHost: f\r\nTransfer-Encoding: chunked\r\n\r\n" + start)
            reader = asyncio.ensure_future(r.read(4096))
            sent = 0
            try:
                while sent < 32 * MIB and not reader.done():
                    w.write(unit)
                    sent += len(unit)
                    await w.drain()
            except OSError:
                pass  # the server answered and closed mid-flood: read what it said
            answer = await asyncio.wait_for(reader, 15)
            stats.append((kind, answer.split(b"\r\n")[0].decode(errors="replace"),
                          time.perf_counter() - t0, sent))
            w.close()
        except (OSError, asyncio.TimeoutError) as e:
            stats.append((kind, "error: " + type(e).__name__, time.perf_counter() - t0, 0))
        await asyncio.sleep(0.2)


async def main(a):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    rss0 = rss_kib(a.pid)
    stop_async = asyncio.Event()
    stop_thread = threading.Event()
    counts = {k: 0 for k in ("idle_open", "idle_failed", "slow_open", "slow_answered",
                             "slow_failed")}
    flood_stats = []
    latencies, errors = [], []

    # Baseline: the live client alone for a few seconds.
    base_lat, base_err = [], []
    t = threading.Thread(target=live_client, args=(a.port, stop_thread, base_lat, base_err))
    t.start()
    await asyncio.sleep(3)
    stop_thread.set()
    t.join()
    stop_thread.clear()

    tasks = [asyncio.ensure_future(idle_conn(a.port, stop_async, counts)) for _ in range(a.idle)]
    tasks += [asyncio.ensure_future(slow_conn(a.port, stop_async, counts)) for _ in range(a.slow)]
    kinds = ["extensions", "trailers", "digits"]
    tasks += [asyncio.ensure_future(flood_conn(a.port, stop_async, kinds[i % 3], flood_stats))
              for i in range(a.floods)]
    await asyncio.sleep(2)  # let the connections open before timing
    t = threading.Thread(target=live_client, args=(a.port, stop_thread, latencies, errors))
    t.start()
    peak = rss_kib(a.pid)
    end = time.time() + a.seconds
    while time.time() < end:
        await asyncio.sleep(0.5)
        peak = max(peak, rss_kib(a.pid))
    stop_thread.set()
    t.join()
    rss_loaded = rss_kib(a.pid)
    stop_async.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.sleep(2)
    rss_after = rss_kib(a.pid)

    def pct(xs, p):
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(len(xs) * p))] * 1000 if xs else float("nan")

    conns = a.idle + a.slow + a.floods
    print(f"baseline GET /shop/1 (alone): {len(base_lat)} requests, p50 {pct(base_lat, .5):.2f} ms,"
          f" p99 {pct(base_lat, .99):.2f} ms")
    print(f"under abuse: {len(latencies)} requests in {a.seconds} s, errors {len(errors)}, "
          f"p50 {pct(latencies, .5):.2f} ms, p99 {pct(latencies, .99):.2f} ms, "
          f"max {pct(latencies, 1):.2f} ms")
    print(f"connections: idle open {counts['idle_open']} (failed {counts['idle_failed']}), "
          f"slow-header opened {counts['slow_open']} (answered 408 {counts['slow_answered']}, "
          f"failed {counts['slow_failed']})")
    by = {}
    for kind, status, secs, sent in flood_stats:
        by.setdefault((kind, status), []).append((secs, sent))
    for (kind, status), xs in sorted(by.items()):
        print(f"flood {kind}: {len(xs)} x '{status}', answered after max "
              f"{max(s for s, _ in xs) * 1000:.0f} ms, max {max(n for _, n in xs) / MIB:.1f} MiB sent")
    print(f"server RSS: {rss0 / 1024:.1f} MiB before, peak {peak / 1024:.1f} MiB, "
          f"{rss_after / 1024:.1f} MiB after; growth {(peak - rss0) / 1024:.1f} MiB for {conns} "
          f"connections = {(peak - rss0) / conns:.1f} KiB per connection")
    if errors:
        print("first errors:", errors[:5])


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--seconds", type=int, default=30)
    p.add_argument("--idle", type=int, default=2000)
    p.add_argument("--slow", type=int, default=500)
    p.add_argument("--floods", type=int, default=3)
    asyncio.run(main(p.parse_args()))
