#!/usr/bin/env python3
"""A rough measure of how many roamproxy links a second one HAProxy routes by payload.

Runs HAProxy with contrib/haproxy/roamproxy.cfg (moved to loopback ports 16200-16202, without
its Debian-host lines) in front of two stand-in instances: small asyncio servers that read a
HELLO (102 bytes) and answer one byte. Clients on loopback open connections as fast as they
can, each sending a HELLO RESUME whose instance byte (stream offset 25) alternates 1 and 2,
or HELLO NEW, and wait for the answer: one connection = one routed link handshake. Each
stand-in counts what it got, so the routing is checked too (every resume reached the
instance its byte names). The same load straight to one stand-in gives the baseline: what
the clients and stand-ins alone manage on this machine.

Usage: python3 contrib/haproxy/route_load.py [--seconds 10] [--concurrency 32]
Needs haproxy. Uses ports 16200-16202 on 127.0.0.1; starts and stops its own haproxy.
"""

import argparse
import asyncio
import os
import re
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FRONT, BACKS = 16200, {1: 16201, 2: 16202}


def hello(mode, instance):
    sid = (instance << 56) | 0x123456789abc if mode == 2 else 0
    payload = bytes([mode]) + struct.pack("!Q", sid) + bytes(64) + struct.pack("!I", 1 << 20) + b"\0"
    header = struct.pack("!HBBIQQ", 0x5250, 3, 1, len(payload), 0, 0)
    return header + payload


async def serve(instance, counts):
    async def handle(r, w):
        try:
            b = await r.readexactly(102)
            counts[instance].append(b[25] if b[24] == 2 else 0)
            w.write(b"\1")
            await w.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        w.close()
    return await asyncio.start_server(handle, "127.0.0.1", BACKS[instance], backlog=1024)


async def load(port, seconds, concurrency):
    done = 0
    stop = time.monotonic() + seconds

    async def one(i):
        nonlocal done
        n = i
        while time.monotonic() < stop:
            n += 1
            mode = 1 if n % 4 == 0 else 2
            r, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(hello(mode, 1 + n % 2))
            await w.drain()
            await r.readexactly(1)
            w.close()
            done += 1
    await asyncio.gather(*(one(i) for i in range(concurrency)))
    return done


def haproxy_cfg(tmp):
    with open(os.path.join(HERE, "roamproxy.cfg")) as f:
        text = f.read()
    text = re.sub(r"(?m)^    (log /dev/log|chroot|user|group) .*\n", "", text)
    text = text.replace("bind :6200", f"bind 127.0.0.1:{FRONT}")
    for n, p in BACKS.items():
        text = text.replace(f"127.0.0.1:620{n}", f"127.0.0.1:{p}")
    path = os.path.join(tmp, "haproxy.cfg")
    with open(path, "w") as f:
        f.write(text)
    return path


async def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--concurrency", type=int, default=32)
    args = ap.parse_args()
    counts = {1: [], 2: []}
    servers = [await serve(n, counts) for n in BACKS]
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen(["haproxy", "-db", "-f", haproxy_cfg(tmp)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            await asyncio.sleep(1.5)
            cpu0 = os.times()
            t0 = time.monotonic()
            via = await load(FRONT, args.seconds, args.concurrency)
            took = time.monotonic() - t0
            with open(f"/proc/{proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ha_cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    misrouted = sum(1 for n in BACKS for b in counts[n] if b not in (0, n))
    for c in counts.values():
        c.clear()
    t1 = time.monotonic()
    direct = await load(BACKS[1], args.seconds, args.concurrency)
    took_direct = time.monotonic() - t1
    for s in servers:
        s.close()
    print(f"through haproxy: {via} links in {took:.1f} s = {via / took:.0f}/s, haproxy used {ha_cpu:.1f} s "
          f"of CPU ({ha_cpu / took * 100:.0f}% of one core), {misrouted} misrouted")
    print(f"straight to one stand-in: {direct} in {took_direct:.1f} s = {direct / took_direct:.0f}/s "
          f"(the clients and stand-ins alone)")
    print(f"load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 1 if misrouted else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
