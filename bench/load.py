#!/usr/bin/env python3
"""bench/run's load generator and target (standard library); clients print `key value` lines.
Wire: the client sends a mode byte and a length (8 bytes, big-endian), then
  U  the client sends `length` bytes of the pattern; the target checks them, answers K or X
  D  the target sends `length` bytes of the pattern
  T  echo, one thread (the keystroke round trip)       E  echo, asyncio (thousands of sessions)
The pattern is one pseudo-random block of a prime length repeated: a lost, repeated, reordered
or corrupted byte changes what the receiver sees at that offset, and every byte is compared."""
import argparse
import asyncio
import os
import random
import resource
import socket
import statistics
import sys
import time

L = 1_048_573                               # pattern period: prime, lines up with no buffer size
PAT = random.Random(6).randbytes(L)
PAT2 = memoryview(PAT + PAT)                # PAT2[i:i+n] is the stream at offset i (mod L)
TARGET_PORT = 7200


def header(mode, n=0):
    return mode + n.to_bytes(8, "big")


def pct(v, p):
    """p-th percentile (p = 1..99) of v, interpolated between closest ranks."""
    v = list(v) or [float("nan")]
    return statistics.quantiles(v, n=100, method="inclusive")[p - 1] if len(v) > 1 else v[0]


def send_pattern(s, n):
    pos = 0
    while n:
        k = s.send(PAT2[pos:pos + min(n, L)])
        pos, n = (pos + k) % L, n - k


def recv_pattern(s, n):
    """Receive n bytes into a buffer at their offset mod L and compare each full buffer with
    PAT at once (memcmp); True if all n arrived and all match."""
    buf = bytearray(L)
    mv, pos, ok = memoryview(buf), 0, True
    while n:
        k = s.recv_into(mv[pos:pos + min(n, L - pos)], 0, socket.MSG_WAITALL)
        if not k:
            return False
        pos, n = pos + k, n - k
        if pos == L:
            ok, pos = ok and buf == PAT, 0
    return ok and buf[:pos] == PAT[:pos]


def blocking_session(s, mode, n):
    s.setblocking(True)
    if mode == b"U":
        s.sendall(b"K" if recv_pattern(s, n) else b"X")
    elif mode == b"D":
        send_pattern(s, n)
    else:                                   # T
        while d := s.recv(64):
            s.sendall(d)


async def recv_exact(loop, s, n, timeout=60):
    b = bytearray()
    while len(b) < n:
        d = await asyncio.wait_for(loop.sock_recv(s, n - len(b)), timeout)
        if not d:
            raise EOFError(f"stream ended after {len(b)} of {n} bytes")
        b += d
    return b


async def target_session(loop, s):
    try:
        h = await recv_exact(loop, s, 9, None)
        mode, n = h[:1], int.from_bytes(h[1:], "big")
        if mode == b"E":
            while d := await loop.sock_recv(s, 65536):
                await loop.sock_sendall(s, d)
        else:
            await loop.run_in_executor(None, blocking_session, s, mode, n)
    except (OSError, EOFError):
        pass
    finally:
        s.close()


async def target(port):
    loop = asyncio.get_running_loop()
    ls = socket.create_server(("0.0.0.0", port), backlog=4096)
    ls.setblocking(False)
    while True:
        s, _ = await loop.sock_accept(ls)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        loop.create_task(target_session(loop, s))


def connect(addr):
    host, port = addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=120)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def bulk(a):
    """One transfer of a.bytes; time from the first byte sent (up) or asked for (down) until the
    target's verdict (up) or the last byte (down)."""
    s = connect(a.to)
    c0, t0 = os.times(), time.perf_counter()
    if a.dir == "up":
        s.sendall(header(b"U", a.bytes))
        send_pattern(s, a.bytes)
        ok = s.recv(1) == b"K"
    else:
        s.sendall(header(b"D", a.bytes))
        ok = recv_pattern(s, a.bytes)
    t, c1 = time.perf_counter() - t0, os.times()
    print(f"seconds {t:.6f}\ncpu {c1.user + c1.system - c0.user - c0.system:.3f}\nexact {int(ok)}")


def rtt(a):
    """1-byte round trips through the T echo, a.gap_us apart (keystroke-like: the relays go
    idle between bytes); prints p50 and p99 in microseconds."""
    s = connect(a.to)
    s.sendall(header(b"T"))
    v, bad = [], 0
    for i in range(a.warmup + a.samples):
        b, t0 = bytes([i & 255]), time.perf_counter_ns()
        s.send(b)
        bad += s.recv(1) != b
        v.append((time.perf_counter_ns() - t0) / 1000)
        time.sleep(a.gap_us / 1e6)
    v = sorted(v[a.warmup:])
    print(f"p50 {pct(v, 50):.1f}\np99 {pct(v, 99):.1f}\nexact {int(bad == 0)}")


def status(pid):
    """(VmRSS MiB, threads) of a process, or (0, 0) once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            kv = dict(line.split(":", 1) for line in f if ":" in line)
        return int(kv["VmRSS"].split()[0]) / 1024, int(kv["Threads"])
    except (OSError, KeyError):
        return 0.0, 0


def tasks_left():
    """PIDs left on the machine (every thread takes one) before kernel.pid_max."""
    with open("/proc/sys/kernel/pid_max") as f, open("/proc/loadavg") as g:
        return int(f.read()) - int(g.read().split()[3].split("/")[1])


async def scale(a):
    """a.n echo sessions opened a.window at a time, a pause at a.idle_at, held a.hold s, then each
    echoes a.echo bytes (a.window at a time); RSS and threads of a.pids every 0.5 s."""
    loop = asyncio.get_running_loop()
    host, port = a.to.rsplit(":", 1)
    pids = [int(p) for p in a.pids.split(",")]
    socks, failed, why, phase, t_start = [], [], None, "open", time.monotonic()
    out = open(a.samples, "w")
    out.write("t,sessions,phase," + ",".join(f"rss{i},threads{i}" for i in range(len(pids))) + "\n")

    def sample(label):
        st = [status(p) for p in pids]
        print(f"at_{label} " + " ".join(f"{r:.1f} {t}" for r, t in st), flush=True)

    async def sampler(run):                 # and cancels the run before the machine runs out of PIDs
        nonlocal phase
        while True:
            st = [x for p in pids for x in status(p)]
            out.write(f"{time.monotonic() - t_start:.1f},{len(socks)},{phase},"
                      + ",".join(f"{x:.1f}" if isinstance(x, float) else str(x) for x in st) + "\n")
            out.flush()
            if tasks_left() < a.pid_reserve // 2 and not phase.startswith("aborted"):
                phase = f"aborted in {phase}"
                run.cancel()
            await asyncio.sleep(0.5)

    async def open_one(i):
        s = socket.socket()
        s.setblocking(False)
        try:
            await asyncio.wait_for(loop.sock_connect(s, (host, int(port))), 30)
            probe = PAT2[i * 16 % L:i * 16 % L + 16].tobytes()
            await loop.sock_sendall(s, header(b"E") + probe)
            if await recv_exact(loop, s, 16) != probe:
                raise ValueError("probe echoed wrong")
            socks.append(s)
        except (OSError, EOFError, ValueError, asyncio.TimeoutError) as e:
            s.close()
            failed.append(f"open {i}: {type(e).__name__} {e}")

    async def open_until(n, deadline):
        nonlocal why
        nxt = len(socks)

        async def worker():
            nonlocal nxt, why
            while nxt < n and why is None:
                if tasks_left() < a.pid_reserve:
                    why = f"stopped: fewer than {a.pid_reserve} PIDs left below kernel.pid_max"
                elif len(failed) > 50:
                    why = "stopped: more than 50 sessions failed to open"
                elif time.monotonic() > deadline:
                    why = f"stopped: opening took more than {a.open_limit} s"
                else:
                    nxt += 1
                    await open_one(nxt - 1)
        t0 = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(a.window)))
        return time.monotonic() - t0

    async def echo_one(i, s, sem):
        async with sem:
            off = i * 4099 % L
            data = PAT2[off:off + a.echo]
            try:
                send = loop.create_task(loop.sock_sendall(s, data))
                got = await recv_exact(loop, s, a.echo)
                await send
                if got != data:
                    raise ValueError("echo differs")
                return True
            except (OSError, EOFError, ValueError, asyncio.TimeoutError) as e:
                failed.append(f"echo {i}: {type(e).__name__} {e}")
                return False

    smp = loop.create_task(sampler(asyncio.current_task()))
    deadline, took, t_open = time.monotonic() + a.open_limit, 0.0, time.monotonic()
    try:
        took = await open_until(min(a.idle_at, a.n), deadline)
        phase = "idle"
        await asyncio.sleep(a.settle)
        sample("idle_small")
        phase = "open"
        took += await open_until(a.n, deadline + a.settle)
        phase = "hold"
        sample("opened")
        await asyncio.sleep(a.hold)
        sample("held")
        phase = "echo"
        t0, sem = time.monotonic(), asyncio.Semaphore(a.window)
        tasks = [loop.create_task(echo_one(i, s, sem)) for i, s in enumerate(socks)]
        done, late = await asyncio.wait(tasks, timeout=a.open_limit) if tasks else ((), ())
        for t in late:
            t.cancel()
        print(f"echo_seconds {time.monotonic() - t0:.2f}\nexact {sum(t.result() for t in done)}\n"
              f"echo_late {len(late)}", flush=True)
    except asyncio.CancelledError:
        print(f"{phase}: fewer than {a.pid_reserve // 2} PIDs left below kernel.pid_max", flush=True)
        if "open" in phase:                 # opening time so far, without the pause at idle_at
            took = time.monotonic() - t_open - a.settle * (len(socks) >= a.idle_at)
    print(f"opened {len(socks)}\nopen_seconds {took:.2f}\nopen_rate {len(socks) / max(took, 1e-9):.1f}\n"
          f"stopped {why or 'no'}", flush=True)
    sample("echoed")
    await asyncio.sleep(1)                  # bench/run notes where the daemons' logs end
    smp.cancel()
    for s in socks:
        s.close()
    for f in failed[:10]:
        print(f"failure {f}")
    print(f"failures {len(failed)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("target").add_argument("--port", type=int, default=TARGET_PORT)
    b = sub.add_parser("bulk")
    b.add_argument("--dir", choices=("up", "down"), required=True)
    b.add_argument("--bytes", type=int, required=True)
    r, s = sub.add_parser("rtt"), sub.add_parser("scale")
    for p, name, default in ((r, "samples", 5000), (r, "warmup", 1000), (r, "gap-us", 1000),
                             (s, "n", 8000), (s, "idle-at", 1000), (s, "window", 128), (s, "hold", 60),
                             (s, "echo", 65536), (s, "settle", 5), (s, "open-limit", 150),
                             (s, "pid-reserve", 6000)):
        p.add_argument(f"--{name}", type=int, default=default)
    s.add_argument("--pids", required=True, help="cproxy,sproxy")
    s.add_argument("--samples", required=True, help="CSV file for the RSS/threads samples")
    for p in (b, r, s):
        p.add_argument("--to", required=True, help="HOST:PORT")
    a = ap.parse_args()
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    if a.cmd == "target":
        asyncio.run(target(a.port))
    elif a.cmd == "scale":
        asyncio.run(scale(a))
    else:
        {"bulk": bulk, "rtt": rtt}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
