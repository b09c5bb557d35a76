#!/usr/bin/env python3
"""Soak test of roamproxy, run by hand (not in CI): many sessions for a long time, the client
roaming every minute and strangers hammering sproxy's port, every byte accounted for, and the
daemons' memory, threads and file descriptors sampled every minute. Its crowd scenario (a
thousand sessions resuming at once) also runs in `mvn verify`, by CrowdIT.

Reuses security_e2e.py (and through it tools/netlab): the server, client and attacker
namespaces, the packaged bin/sproxy and bin/cproxy, and its flood. It adds an echo service:

    server namespace    192.0.2.1/24, 198.51.100.1/24   echo server on 127.0.0.1:7007 (Python),
                                                        bin/sproxy --service echo=127.0.0.1:7007
    client namespace    192.0.2.2/24 <-> 192.0.2.3/24   bin/cproxy --forward 5300=echo 192.0.2.1,
                                                        the load generator
    attacker namespace  198.51.100.2/24                 the flood, at a lower rate than flood's

Scenario soak:
  The load generator opens --sessions (default 1000) connections to cproxy's 127.0.0.1:5300,
  each a session to the echo service. Each sends its own pseudo-random byte stream (seeded per
  session) in chunks of 1 to 2 x --rate bytes about once a second (--rate default 64 bytes/s)
  and checks that what comes back is exactly what it sent, in order. The flood (300 silent
  connections opened at most 150 a second, 100 slow ones at 50 a second, 32 HELLO NEW
  connections at 100 a second, each reopened when it ends) runs from before the first session
  to the end. Once every session has echoed, for --minutes minutes (default 60): at the start
  of each minute the client's address changes (192.0.2.2 and 192.0.2.3 in turn, --outage s
  without an address, default 5) and the time until every session has echoed again is
  measured; at the end of each minute sproxy's and cproxy's RSS (/proc/PID/status VmRSS),
  threads (Threads) and open file descriptors (/proc/PID/fd) are sampled and a table row is
  printed. Then the flood stops, the generator stops sending and waits for every echo.
  Asserts: no session lost, no byte altered, every session's bytes sent == bytes echoed, every
  session back after every address change (within 60 s), no session for the attacker in
  sproxy's log, and threads and descriptors of each daemon grew at most 1.5x (mean of the last
  10 minutes against the first 10; a third of the run each for runs under 30 minutes). RSS
  growth is reported, not asserted. The table and a summary are printed at the end as
  Markdown, for docs/performance.md.

Scenario crowd:
  The same generator opens --sessions (default 1000) sessions. Then, --changes times (default
  5), 5 s apart, the client changes networks all at once: with --outage 0 (its default here) the
  new address comes up and the old one is removed, so every link breaks at the same moment and
  every session resumes from the new address; each session sends a byte right away. Measured
  from the removal: when cproxy logged half and all of the `resumed over link` lines, when every
  session had echoed again, and the CPU time each daemon used meanwhile (/proc/PID/stat), printed
  as a Markdown table. --flood adds the soak's stranger. Asserts: every session back within 60 s
  of every change, none lost, every byte echoed exactly, nothing limited or refused by sproxy.
  The times are a measurement, not asserted.

Usage (as root; needs what roam_e2e.py needs; Python 3 standard library only):
  mvn -q -DskipTests package
  sudo python3 src/test/e2e/soak_e2e.py --dist target/roamproxy soak --minutes 60
  sudo python3 src/test/e2e/soak_e2e.py --dist target/roamproxy crowd --sessions 1000

The proxies log at INFO here (--log-level to change it). Only 192.0.2.0/24, 198.51.100.0/24
(reserved for documentation) and loopback are used, only inside the namespaces this script
creates; every namespace, process and temp dir it creates is removed on success, failure,
Ctrl-C and SIGTERM. Exit status: 0 passed, 1 failed, 2 cannot run, 130 interrupted.
"""

import collections
import errno
import heapq
import json
import os
import random
import re
import resource
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path[:0] = [HERE, os.path.join(HERE, "../../../tools")]
import netlab                           # noqa: E402  (after the path is set)
import security_e2e as sec              # noqa: E402
from netlab import Fail, log, run, wait_until     # noqa: E402

ECHO_PORT = 7007                        # the echo server, server namespace's loopback
FORWARD_PORT = 5300                     # cproxy --forward 5300=echo
SERVICE = "echo"
SOAK_FLOOD_PLAN = [("silent", 300, 150), ("slow", 100, 50), ("hello", 32, 100)]
SEND_INTERVAL_S = 1.0                   # each session sends a chunk about this often
CONNECTS_AT_ONCE = 64                   # the generator's local connects in progress at once
MAX_PENDING = 256 * 1024                # a session sends no more while this much is unechoed
ALL_ECHOING_S = 180                     # bound on every session echoing once, at the start
BACK_WITHIN_S = 60                      # bound on every session echoing again after a change
DRAIN_S = 60                            # bound on the last echoes at the end
GROWTH_LIMIT = 1.5                      # threads and descriptors, last window vs first
WINDOW_MIN = 10                         # minutes per window (shorter runs: a third each)
REPORT_S = 1.0                          # the generator's counters, this often


# ---------------------------------------------------------------- the echo server

def echo_main(argv):
    """Runs in the server namespace: echoes every byte on every connection to 127.0.0.1:PORT
    (reading no more from one whose echo waits, beyond 1 MiB)."""
    port = int(argv[0])
    raise_nofile(20000)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(4096)
    ls.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ, None)
    conns = {}                          # sock -> outgoing bytearray
    total = 0
    print(json.dumps({"listening": port}), flush=True)

    def want(s):
        ev = (selectors.EVENT_READ if len(conns[s]) < (1 << 20) else 0) | \
             (selectors.EVENT_WRITE if conns[s] else 0)
        sel.modify(s, ev or selectors.EVENT_WRITE, None)

    def drop(s):
        sel.unregister(s)
        del conns[s]
        s.close()

    while not stop:
        for key, ev in sel.select(timeout=1.0):
            s = key.fileobj
            if s is ls:
                while True:
                    try:
                        c, _ = ls.accept()
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:
                        break
                    c.setblocking(False)
                    conns[c] = bytearray()
                    sel.register(c, selectors.EVENT_READ, None)
                continue
            if s not in conns:
                continue
            if ev & selectors.EVENT_READ:
                try:
                    data = s.recv(65536)
                except (BlockingIOError, InterruptedError):
                    data = None
                except OSError:
                    drop(s)
                    continue
                if data == b"":
                    drop(s)
                    continue
                if data:
                    conns[s] += data
                    total += len(data)
            if conns[s]:
                try:
                    n = s.send(conns[s])
                    del conns[s][:n]
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    drop(s)
                    continue
            want(s)
    print(json.dumps({"echoed": total, "connections": len(conns)}), flush=True)
    return 0


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (n if hard == resource.RLIM_INFINITY else min(n, hard), hard))


# ---------------------------------------------------------------- the load generator

class LoadSession:
    __slots__ = ("i", "rng", "sock", "state", "pending", "unsent", "sent", "echoed", "last_echo",
                 "bad", "end", "writing")

    def __init__(self, i, seed):
        self.i = i
        self.rng = random.Random(seed * 1000003 + i)
        self.sock, self.state = None, "new"
        self.pending = bytearray()      # sent or queued, not yet echoed (unsent ones at the end)
        self.unsent = 0
        self.sent = self.echoed = 0
        self.last_echo = 0.0
        self.bad = None                 # the first mismatch, if any
        self.end = None                 # why the connection ended, if it did
        self.writing = False


def load_main(argv):
    """Runs in the client namespace: SESSIONS connections to HOST:PORT, each sending its own
    pseudo-random stream at about RATE bytes/s and checking the echo byte for byte. Prints its
    counters as JSON every second. Commands on stdin: `mark T [probe]` (report, as one `all_back`
    event, when every live session has echoed after monotonic time T; with `probe`, every live
    session sends one byte at once), `drain` (stop sending; report
    `final` with every session's totals once all is echoed, or after the drain bound), `quit`."""
    host, port, n, rate, seed = argv[0], int(argv[1]), int(argv[2]), float(argv[3]), int(argv[4])
    raise_nofile(n + 200)
    sel = selectors.DefaultSelector()
    sel.register(sys.stdin.fileno(), selectors.EVENT_READ, None)
    sessions = [LoadSession(i, seed) for i in range(n)]
    due = []                            # heap of (time, index) of the next chunk
    opened, connecting = 0, 0
    marks = []                          # [T, set of session indexes not yet back]
    draining = None                     # when the drain began
    quit_ = []
    inbuf = b""
    c = collections.Counter()
    chunk_max = max(1, int(2 * rate * SEND_INTERVAL_S))

    def alive(s):
        return s.state == "open"

    def emit(obj):
        print(json.dumps(obj), flush=True)

    def report(**extra):
        live = [s for s in sessions if alive(s)]
        emit(dict(t=round(time.monotonic(), 3), opened=opened, alive=len(live),
                  echoing=sum(1 for s in live if s.echoed), lost=sum(1 for s in sessions if s.end),
                  bad=sum(1 for s in sessions if s.bad), sent=sum(s.sent for s in sessions),
                  echoed=sum(s.echoed for s in sessions),
                  pending=sum(len(s.pending) for s in sessions),
                  max_pending=max((len(s.pending) for s in sessions), default=0),
                  oldest_echo=round(min((s.last_echo for s in live), default=0.0), 3),
                  **dict(c), **extra))

    def lose(s, why):
        if s.state == "open" or s.state == "connecting":
            try:
                sel.unregister(s.sock)
            except (KeyError, ValueError):
                pass
            s.sock.close()
        s.state, s.end = "ended", why
        for m in marks:
            m[1].discard(s.i)

    def flush(s):
        if not s.unsent:
            return
        try:
            k = s.sock.send(memoryview(s.pending)[len(s.pending) - s.unsent:])
        except (BlockingIOError, InterruptedError):
            k = 0
        except OSError as e:
            lose(s, f"send: {e}")
            return
        s.unsent -= k
        s.sent += k
        w = s.unsent > 0
        if w != s.writing:
            s.writing = w
            sel.modify(s.sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if w else 0), s)

    def receive(s, now):
        try:
            data = s.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            lose(s, f"recv: {e}")
            return
        if not data:
            lose(s, "closed by cproxy")
            return
        echoed_part = len(s.pending) - s.unsent
        if s.bad is None:
            want = bytes(s.pending[:len(data)]) if len(data) <= echoed_part else None
            if want != data:
                off = next((k for k in range(min(len(data), echoed_part))
                            if data[k] != s.pending[k]), min(len(data), echoed_part))
                s.bad = {"session": s.i, "offset": s.echoed + off, "got": data[off:off + 16].hex(),
                         "expected": bytes(s.pending[off:off + 16]).hex(),
                         "extra": max(0, len(data) - echoed_part)}
                emit({"event": "mismatch", **s.bad})
        k = min(len(data), echoed_part)
        del s.pending[:k]
        s.echoed += k
        s.last_echo = now
        for m in marks:
            m[1].discard(s.i)

    def command(line, now):
        nonlocal draining
        words = line.split()
        if not words:
            return
        if words[0] == "mark":
            marks.append([float(words[1]), {s.i for s in sessions if alive(s)}])
            if "probe" in words[2:]:
                # Every session says something now, so its echo times its own return rather
                # than when its next chunk happens to be due.
                for s in sessions:
                    if alive(s) and len(s.pending) < MAX_PENDING:
                        chunk = s.rng.randbytes(1)
                        s.pending += chunk
                        s.unsent += len(chunk)
                        flush(s)
        elif words[0] == "drain":
            draining = now
        elif words[0] == "quit":
            quit_.append(1)

    next_report = time.monotonic()
    final_sent = False
    while not quit_:
        now = time.monotonic()
        while opened < n and connecting < CONNECTS_AT_ONCE:
            s = sessions[opened]
            opened += 1
            s.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.sock.setblocking(False)
            err = s.sock.connect_ex((host, port))
            if err not in (0, errno.EINPROGRESS):
                s.state = "connecting"
                lose(s, f"connect: {errno.errorcode.get(err, err)}")
                continue
            s.state = "connecting"
            connecting += 1
            sel.register(s.sock, selectors.EVENT_WRITE, s)
        if draining is None:
            while due and due[0][0] <= now:
                _t, i = heapq.heappop(due)
                s = sessions[i]
                if not alive(s):
                    continue
                if len(s.pending) < MAX_PENDING:
                    chunk = s.rng.randbytes(s.rng.randint(1, chunk_max))
                    s.pending += chunk
                    s.unsent += len(chunk)
                    flush(s)
                else:
                    c["paused"] += 1
                heapq.heappush(due, (now + SEND_INTERVAL_S * (0.5 + s.rng.random()), i))
        for m in [m for m in marks if not m[1]]:
            marks.remove(m)
            emit({"event": "all_back", "mark": m[0], "at": round(now, 3)})
        if draining is not None and not final_sent and (
                all(not s.pending for s in sessions if alive(s)) or now - draining > DRAIN_S):
            final_sent = True
            report(final=True, drained=all(not s.pending for s in sessions if alive(s)),
                   unequal=[[s.i, s.sent, s.echoed] for s in sessions if s.sent != s.echoed][:20],
                   ends=collections.Counter(s.end for s in sessions if s.end),
                   mismatches=[s.bad for s in sessions if s.bad][:5])
        if now >= next_report:
            report()
            next_report = now + REPORT_S
        for key, ev in sel.select(timeout=0.05):
            s = key.data
            if s is None:
                try:
                    b = os.read(sys.stdin.fileno(), 4096)
                except OSError:
                    b = b""
                if not b:
                    quit_.append(1)
                    break
                inbuf += b
                while b"\n" in inbuf:
                    line, inbuf = inbuf.split(b"\n", 1)
                    command(line.decode(), now)
                continue
            if s.state == "connecting":
                connecting -= 1
                err = s.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    lose(s, f"connect: {errno.errorcode.get(err, err)}")
                    continue
                s.state = "open"
                s.last_echo = time.monotonic()
                sel.modify(s.sock, selectors.EVENT_READ, s)
                heapq.heappush(due, (time.monotonic() + SEND_INTERVAL_S * s.rng.random(), s.i))
                continue
            if s.state != "open":
                continue
            if ev & selectors.EVENT_READ:
                receive(s, time.monotonic())
            if s.state == "open" and ev & selectors.EVENT_WRITE:
                flush(s)
    for s in sessions:
        if alive(s):
            s.sock.close()
    return 0


class JsonLines:
    """The JSON lines a helper process writes to its log, read incrementally."""

    def __init__(self, path):
        self.path, self.offset, self.rest, self.items = path, 0, b"", []

    def update(self):
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        self.offset += len(data)
        data = self.rest + data
        lines = data.split(b"\n")
        self.rest = lines.pop()
        for line in lines:
            if line.startswith(b"{"):
                try:
                    self.items.append(json.loads(line))
                except ValueError:
                    pass
        return self.items


class Load:
    """The harness's side of the load generator (one of env's daemons)."""

    def __init__(self, env, sessions, rate, seed):
        self.env = env
        path = os.path.join(env.tmp, "load.log")
        f = open(path, "wb")
        self.proc = subprocess.Popen(
            env.in_cli(sys.executable, "-u", os.path.abspath(__file__), "--load", "127.0.0.1",
                       str(FORWARD_PORT), str(sessions), str(rate), str(seed)),
            stdin=subprocess.PIPE, stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
        f.close()
        env.daemons["load"] = (self.proc, path)
        self.out = JsonLines(path)
        self.sessions = sessions

    def items(self):
        if self.proc.poll() is not None:
            raise Fail(f"the load generator exited ({self.proc.returncode}): "
                       f"{self.env.daemon_log('load')[-2000:]}")
        return self.out.update()

    def last(self):
        stats = [x for x in self.items() if "event" not in x]
        return stats[-1] if stats else {}

    def tell(self, line):
        self.proc.stdin.write(f"{line}\n".encode())
        self.proc.stdin.flush()

    def wait_event(self, pred, timeout, what):
        return wait_until(lambda: next((x for x in self.items() if pred(x)), None), timeout, what,
                          interval=0.05)


# ---------------------------------------------------------------- the hosts

class SoakEnv(sec.SecEnv):
    """security_e2e's three hosts, an echo server in the server namespace, sproxy offering it
    as service `echo` and cproxy forwarding 127.0.0.1:5300 to it."""

    def __init__(self, args, index):
        super().__init__(args, index, onpath=False)
        self.sproxy_opts = ["--service", f"{SERVICE}=127.0.0.1:{ECHO_PORT}"]
        self.cproxy_opts = ["--forward", f"{FORWARD_PORT}={SERVICE}"]
        if args.sessions > 1000:
            more = ["--max-sessions", str(args.sessions + 24)]
            self.sproxy_opts += more
            self.cproxy_opts += more

    def start_proxies(self):
        self.daemon("echo", self.in_srv(sys.executable, "-u", os.path.abspath(__file__),
                                        "--echo-server", str(ECHO_PORT)))
        self.wait_listening("echo", self.srv, ECHO_PORT, 15)
        log(f"echo server on 127.0.0.1:{ECHO_PORT} in the server namespace")
        super().start_proxies()
        self.wait_listening("cproxy", self.cli, FORWARD_PORT, 30)


def java_pid(p):
    """The JVM's pid for a daemon started as `ip netns exec NS bin/xproxy` (both exec)."""
    def comm(pid):
        try:
            with open(f"/proc/{pid}/comm") as f:
                return f.read().strip()
        except OSError:
            return None
    if comm(p.pid) == "java":
        return p.pid
    raise Fail(f"pid {p.pid} is {comm(p.pid)!r}, not the JVM")


def sample(pid):
    """(RSS in MiB, threads, open descriptors) of a live process."""
    rss = threads = None
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    return rss, threads, len(os.listdir(f"/proc/{pid}/fd"))


Row = collections.namedtuple("Row", "minute s_rss s_thr s_fd c_rss c_thr c_fd sessions sent echoed "
                                    "pending back_s attacker")
HEADER = ("| min | sproxy RSS MiB | sproxy threads | sproxy fds | cproxy RSS MiB | cproxy threads "
          "| cproxy fds | sproxy sessions | sent MiB | echoed MiB | unechoed KiB | all back after change (s) "
          "| attacker connects |")
RULE = "|" + "---|" * 13


def fmt_row(r):
    return (f"| {r.minute} | {r.s_rss:.0f} | {r.s_thr} | {r.s_fd} | {r.c_rss:.0f} | {r.c_thr} | "
            f"{r.c_fd} | {r.sessions} | {r.sent / 2**20:.2f} | {r.echoed / 2**20:.2f} | "
            f"{r.pending / 1024:.1f} | {'-' if r.back_s is None else f'{r.back_s:.2f}'} | "
            f"{r.attacker} |")


# ---------------------------------------------------------------- scenario soak

def scenario_soak(env):
    args = env.args
    pids = {d: java_pid(env.daemons[d][0]) for d in ("sproxy", "cproxy")}
    flood = sec.Flood(env, SOAK_FLOOD_PLAN)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    started = time.monotonic()
    load = Load(env, args.sessions, args.rate, seed)
    log(f"load generator: {args.sessions} sessions to 127.0.0.1:{FORWARD_PORT} (service "
        f"{SERVICE}), about {args.rate:g} bytes/s each, seed {seed}")
    wait_until(lambda: load.last().get("echoing", 0) + load.last().get("lost", 0) >= args.sessions,
               ALL_ECHOING_S, f"all {args.sessions} sessions to echo", interval=0.5)
    first = load.last()
    if first.get("lost"):
        raise Fail(f"{first['lost']} session(s) lost while opening: {env.daemon_log('load')[-1500:]}")
    log(f"all {args.sessions} sessions echoing {time.monotonic() - started:.1f} s after the first "
        f"was opened")
    problems, rows, backs = [], [], []

    def attacker_connects():
        return sum(flood.last(k).get("connected", 0) for k in flood.kinds)

    def take(minute, back_s):
        st = load.last()
        s, c = sample(pids["sproxy"]), sample(pids["cproxy"])
        r = Row(minute, *s, *c, len(env.sproxy_sessions()), st.get("sent", 0), st.get("echoed", 0),
                st.get("pending", 0), back_s, attacker_connects())
        rows.append(r)
        if len(rows) == 1:
            log(HEADER)
        log(fmt_row(r))
        if st.get("lost") or st.get("bad"):
            problems.append(f"minute {minute}: {st.get('lost')} session(s) lost, {st.get('bad')} "
                            f"with altered bytes")
    take(0, None)
    t0 = time.monotonic()
    for minute in range(1, args.minutes + 1):
        old, new = netlab.v4((minute - 1) % 2), netlab.v4(minute % 2)
        env.client_ip("addr", "del", *netlab.ip_args(old))
        time.sleep(args.outage)
        t_add = time.monotonic()
        env.client_ip("addr", "add", *netlab.ip_args(new))
        load.tell(f"mark {t_add}")
        try:
            ev = load.wait_event(lambda x: x.get("event") == "all_back" and x["mark"] == t_add,
                                 BACK_WITHIN_S, "every session to echo after the change")
            back = ev["at"] - t_add
            backs.append(back)
            log(f"minute {minute}: {old} -> {new} after {args.outage:g} s without: every session "
                f"echoing again {back:.2f} s after the new address")
        except Fail:
            back = None
            st = load.last()
            problems.append(f"minute {minute}: not every session echoed within {BACK_WITHIN_S} s "
                            f"of the new address ({st.get('alive')} alive, oldest echo "
                            f"{t_add - st.get('oldest_echo', 0):.1f} s before the change)")
            log(problems[-1])
        time.sleep(max(0.0, t0 + 60 * minute - time.monotonic()))
        take(minute, back)

    # The end: the flood stops, the generator stops sending, every byte must come back.
    stats = flood.stop()
    log(f"attacker stopped: {sec.describe_flood(stats)}")
    load.tell("drain")
    final = load.wait_event(lambda x: x.get("final"), DRAIN_S + 15, "the last echoes")
    load.tell("quit")
    if not final.get("drained"):
        problems.append(f"not everything was echoed {DRAIN_S} s after sending stopped: "
                        f"{final.get('pending')} bytes outstanding")
    if final.get("lost") or final.get("ends"):
        problems.append(f"{final.get('lost')} session(s) lost: {final.get('ends')}")
    if final.get("bad") or final.get("mismatches"):
        problems.append(f"{final.get('bad')} session(s) got altered bytes back: "
                        f"{final.get('mismatches')}")
    if final.get("unequal"):
        problems.append(f"sessions whose bytes sent != echoed [session, sent, echoed]: "
                        f"{final['unequal']}")
    if final.get("sent") != final.get("echoed") or not final.get("sent"):
        problems.append(f"{final.get('sent')} bytes sent, {final.get('echoed')} echoed")
    sp = env.daemon_log("sproxy")
    new_sessions = sec.log_lines(sp, sec.NEW_SESSION_RE)
    theirs = [x for x in new_sessions if sec.ATTACKER_ADDR in x]
    if theirs:
        problems.append(f"sproxy opened session(s) for the attacker: {theirs[:3]}")

    # Flat or not: the first window after warm-up against the last.
    n = args.minutes
    w = min(WINDOW_MIN, max(1, n // 3))
    firsts, lasts = rows[1:1 + w], rows[-w:]
    growth = {}
    for label, field in (("sproxy RSS", "s_rss"), ("sproxy threads", "s_thr"), ("sproxy fds", "s_fd"),
                         ("cproxy RSS", "c_rss"), ("cproxy threads", "c_thr"), ("cproxy fds", "c_fd")):
        a = statistics.mean(getattr(r, field) for r in firsts)
        b = statistics.mean(getattr(r, field) for r in lasts)
        growth[label] = (a, b, b / a if a else float("inf"))
        if "RSS" not in label and b > GROWTH_LIMIT * a:
            problems.append(f"{label} grew from {a:.0f} to {b:.0f} (more than {GROWTH_LIMIT}x)")

    # The report, in Markdown.
    print(flush=True)
    print(f"Soak: {args.sessions} sessions through cproxy/sproxy to an echo service, "
          f"{args.minutes} min, an address change every minute ({args.outage:g} s without an "
          f"address), flood from one host ({', '.join(f'{k} {c} at <= {r}/s' for k, c, r in SOAK_FLOOD_PLAN)}), "
          f"proxies at log level {args.log_level}; {os.cpu_count()} CPUs.")
    print()
    print(HEADER)
    print(RULE)
    for r in rows:
        print(fmt_row(r))
    print()
    print(f"- bytes: {final.get('sent')} sent, {final.get('echoed')} echoed byte-exact, "
          f"{final.get('lost', 0)} sessions lost, {final.get('bad', 0)} with altered bytes")
    if backs:
        print(f"- every session echoing again after an address change: median "
              f"{statistics.median(backs):.2f} s, worst {max(backs):.2f} s ({len(backs)} changes)")
    print(f"- attacker: {sec.describe_flood(stats)}")
    print(f"- minutes {firsts[0].minute}-{firsts[-1].minute} against {lasts[0].minute}-"
          f"{lasts[-1].minute} (means): " + "; ".join(
              f"{k} {a:.0f} -> {b:.0f} ({g:.2f}x)" for k, (a, b, g) in growth.items()))
    print(flush=True)
    if problems:
        raise Fail(f"{len(problems)} problem(s):\n  " + "\n  ".join(problems))
    log(f"PASS soak: {args.minutes} min, {args.sessions} sessions, {final.get('sent')} bytes each "
        f"way accounted for, {len(backs)} address changes, threads and descriptors flat")


# ---------------------------------------------------------------- scenario crowd

RESUMED_AT_RE = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) INFO .*: resumed over link ", re.M)
SETTLE_S = 5                            # crowd: quiet time between two address changes


def cpu_s(pid):
    """CPU seconds (user + system) a live process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stolen_s():
    """CPU seconds the hypervisor has given to other guests while this one wanted them (steal
    time in /proc/stat, all CPUs): on a shared host, what a slow run lost to its neighbours."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    return int(fields[8]) / os.sysconf("SC_CLK_TCK") if len(fields) > 8 else 0.0


def seconds_of_day(t):
    lt = time.localtime(t)
    return lt.tm_hour * 3600 + lt.tm_min * 60 + lt.tm_sec + (t % 1)


def resumed_times(text):
    """Times of day (s) of cproxy's `resumed over link` lines, in order."""
    return [int(h) * 3600 + int(m) * 60 + int(sec_) + int(ms) / 1000
            for h, m, sec_, ms in RESUMED_AT_RE.findall(text)]


def scenario_crowd(env):
    """Every session loses its link at the same moment, as when the client host changes
    networks, and all resume: how long until cproxy has resumed the last one, and until the last
    has echoed again, with the CPU each daemon spent meanwhile."""
    args = env.args
    n = args.sessions
    pids = {d: java_pid(env.daemons[d][0]) for d in ("sproxy", "cproxy")}
    flood = sec.Flood(env, SOAK_FLOOD_PLAN) if args.flood else None
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    load = Load(env, n, args.rate, seed)
    wait_until(lambda: load.last().get("echoing", 0) + load.last().get("lost", 0) >= n,
               ALL_ECHOING_S, f"all {n} sessions to echo", interval=0.5)
    if load.last().get("lost"):
        raise Fail(f"{load.last()['lost']} session(s) lost while opening")
    log(f"all {n} sessions echoing; {args.changes} address changes follow, {args.outage:g} s "
        f"without an address each")
    # Both addresses share one /24: without this, removing the first would take the second too.
    for conf in ("all", netlab.IFACE):
        run(env.in_cli("sysctl", "-qw", f"net.ipv4.conf.{conf}.promote_secondaries=1"))
    rows, problems = [], []
    for k in range(1, args.changes + 1):
        time.sleep(SETTLE_S)
        old, new = netlab.v4((k - 1) % 2), netlab.v4(k % 2)
        seen = len(resumed_times(env.daemon_log("cproxy")))
        cpu0 = {d: cpu_s(p) for d, p in pids.items()}
        steal0 = stolen_s()
        if args.outage:
            env.client_ip("addr", "del", *netlab.ip_args(old))
            time.sleep(args.outage)
            env.client_ip("addr", "add", *netlab.ip_args(new))
        else:
            # A handover: the new network's address comes up, the old one goes away.
            env.client_ip("addr", "add", *netlab.ip_args(new))
            env.client_ip("addr", "del", *netlab.ip_args(old))
        t0, wall0 = time.monotonic(), time.time()
        load.tell(f"mark {t0} probe")
        ev = load.wait_event(lambda x: x.get("event") == "all_back" and x["mark"] == t0,
                             BACK_WITHIN_S, "every session to echo after the change")
        cpu1 = {d: cpu_s(p) for d, p in pids.items()}
        stolen = stolen_s() - steal0
        wait_until(lambda: len(resumed_times(env.daemon_log("cproxy"))) >= seen + n, 30,
                   f"cproxy to log {n} resumes")
        times = [t - seconds_of_day(wall0) for t in resumed_times(env.daemon_log("cproxy"))[seen:]]
        times.sort()
        row = dict(change=k, resumed_p50=times[len(times) // 2], resumed_all=times[n - 1],
                   echoing=ev["at"] - t0, extra=len(times) - n,
                   sproxy_cpu=cpu1["sproxy"] - cpu0["sproxy"], cproxy_cpu=cpu1["cproxy"] - cpu0["cproxy"],
                   stolen=stolen)
        rows.append(row)
        log(f"change {k}: {old} -> {new}: cproxy resumed half the sessions {row['resumed_p50']:.2f} s and all "
            f"{row['resumed_all']:.2f} s after the change, every session echoed again after "
            f"{row['echoing']:.2f} s; CPU meanwhile sproxy {row['sproxy_cpu']:.2f} s, cproxy "
            f"{row['cproxy_cpu']:.2f} s; {row['stolen']:.2f} CPU s stolen by the host")
        st = load.last()
        if st.get("lost") or st.get("bad"):
            problems.append(f"change {k}: {st.get('lost')} session(s) lost, {st.get('bad')} with altered bytes")
    if flood:
        log(f"attacker stopped: {sec.describe_flood(flood.stop())}")
    load.tell("drain")
    final = load.wait_event(lambda x: x.get("final"), DRAIN_S + 15, "the last echoes")
    load.tell("quit")
    if not final.get("drained") or final.get("sent") != final.get("echoed") or final.get("lost") \
            or final.get("bad") or final.get("unequal"):
        problems.append(f"bytes not all echoed exactly: sent {final.get('sent')}, echoed {final.get('echoed')}, "
                        f"lost {final.get('ends')}, altered {final.get('mismatches')}, unequal {final.get('unequal')}")
    refused = sec.log_lines(env.daemon_log("sproxy"), r"handshake places|refused|BUSY")
    if refused:
        problems.append(f"sproxy limited or refused the crowd: {refused[:3]}")

    print(flush=True)
    print(f"Crowd resume: {n} sessions of one cproxy, each address change "
          f"{'a handover (new address up, then the old one removed)' if not args.outage else f'{args.outage:g} s without an address'}"
          f"; default limits, 1 s heartbeat; {'flood from another host; ' if flood else ''}"
          f"proxies at log level {args.log_level}; {os.cpu_count()} CPUs shared by both daemons "
          f"and the load generator. Times from the change (the old address removed"
          f"{'' if not args.outage else ', or the new one added'}).")
    print()
    print("| change | half resumed (s) | all resumed (s) | all echoing again (s) | sproxy CPU (s) | cproxy CPU (s) "
          "| stolen by the host (CPU s) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['change']} | {r['resumed_p50']:.2f} | {r['resumed_all']:.2f} | {r['echoing']:.2f} | "
              f"{r['sproxy_cpu']:.2f} | {r['cproxy_cpu']:.2f} | {r['stolen']:.2f} |")
    print(flush=True)
    if problems:
        raise Fail(f"{len(problems)} problem(s):\n  " + "\n  ".join(problems))
    log(f"PASS crowd: {n} sessions resumed {len(rows)} times, every byte echoed exactly; all resumed after "
        f"median {statistics.median(r['resumed_all'] for r in rows):.2f} s, worst "
        f"{max(r['resumed_all'] for r in rows):.2f} s")


# ---------------------------------------------------------------- main

def preflight(args):
    return netlab.common_preflight(args, "network namespaces, inetd on port 23", ["sysctl"], "procps")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--echo-server":
        return echo_main(sys.argv[2:])
    if len(sys.argv) > 1 and sys.argv[1] == "--load":
        return load_main(sys.argv[2:])
    ap = netlab.argument_parser(__doc__, ["soak", "crowd"])
    ap.set_defaults(log_level="INFO")
    ap.add_argument("--minutes", type=int, default=60, help="minutes of roaming (default %(default)s)")
    ap.add_argument("--sessions", type=int, default=1000, help="sessions (default %(default)s)")
    ap.add_argument("--rate", type=float, default=64,
                    help="bytes per second each session sends, on average (default %(default)s)")
    ap.add_argument("--outage", type=float,
                    help="seconds without an address at each change "
                         f"(default: soak {netlab.OUTAGE_S:g}, "
                         "crowd 0, a handover)")
    ap.add_argument("--seed", type=int, help="seed of the byte streams (default: random, printed)")
    ap.add_argument("--changes", type=int, default=5, help="crowd: address changes (default %(default)s)")
    ap.add_argument("--flood", action="store_true", help="crowd: a stranger floods sproxy meanwhile")
    args = ap.parse_args()
    names = netlab.scenario_names(ap, args, ["soak", "crowd"])
    if args.outage is None:
        args.outage = 0.0 if names == ["crowd"] else netlab.OUTAGE_S
    if args.minutes < 1 or not 1 <= args.sessions <= 10000 or args.rate <= 0 or \
            not 0 <= args.outage <= 50:
        ap.error("--minutes >= 1, --sessions 1..10000, --rate > 0, --outage 0..50")
    budget = args.minutes * 60 + ALL_ECHOING_S + DRAIN_S + 300

    def one(i, name):
        if i == 0:
            sec.remove_stale_attacker_namespaces()
        fn = scenario_crowd if name == "crowd" else scenario_soak
        return netlab.run_env(args, name, SoakEnv(args, i), fn, budget)
    return netlab.run_all("soak_e2e", preflight(args), names, one)


if __name__ == "__main__":
    sys.exit(main())
