#!/usr/bin/env python3
"""bench/mosh.py: Mosh through the same address changes as the e2e harness, for bench/roaming.

In netlab's namespaces (netlab.Env.start_network, with the gateway or the IPv6 address
as the kind needs) and without ssh: `mosh-server new -p 60001 -- sh -i` in the server
namespace prints `MOSH CONNECT <port> <key>` and detaches; `MOSH_KEY=<key> mosh-client
192.0.2.1 60001` runs on a pty in the client namespace (netlab.Term) with LANG=C.UTF-8, and
`ping -i 0.2 127.0.0.1` is typed into its shell. Mosh's timers are as shipped.

The address changes are those of roam_e2e.py (netlab.address_changes: same addresses,
outages and pauses); the resume is measured from the same point, just before `ip addr add`,
to the first ping line with a higher icmp_seq than any seen before the change. mosh-client draws the screen with escape
sequences and redraws only the cells that change, so its output is replayed through a small
terminal model (Screen) and icmp_seq=N is read off that screen; only new numbers count. Mosh
sends screen states, not the byte stream: numbers it never drew
are counted as lines skipped, not as a failure. No ping line within RESUME_WAIT_S of the new
address counts as not resumed (for dualstack, whenever the client has only IPv6: mosh-client
has one socket of the server address's family). Every namespace and process (mosh-server,
its shell and ping, mosh-client) is removed on every exit path, as netlab's Env does.

  sudo bench/mosh.py [--repeat N] [--csv FILE] roam|inplace|gateway|dualstack ...
--csv appends `kind,change,resume_s,lines_skipped` per change (resume_s empty: not resumed)."""
import argparse
import os
import re
import shutil
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tools"))
import netlab                               # noqa: E402  namespaces, pty, address changes
from netlab import log                      # noqa: E402

PORT = 60001
RESUME_WAIT_S = 10.0        # > 3 × Mosh's 3 s idle acknowledgement interval
KINDS = {"roam": (False, False), "inplace": (False, False), "gateway": (True, False),
         "dualstack": (False, True)}        # kind: (gateway, dualstack)
LOCALE = "LANG=C.UTF-8"


class MoshEnv(netlab.Env):
    """netlab's namespaces with mosh-server instead of inetd and the proxies."""

    def start(self):
        self.start_network()
        out = netlab.run(self.in_srv("env", LOCALE, f"PS1={netlab.PROMPT}", "ENV=", "mosh-server", "new",
                                 "-p", str(PORT), "--", shutil.which("sh"), "-i"), timeout=15)
        m = re.search(r"MOSH CONNECT (\d+) (\S+)", out)
        pid = re.search(r"detached, pid = (\d+)", out)
        if not m:
            raise netlab.Fail(f"mosh-server printed no MOSH CONNECT line:\n{out}")
        self.mosh = m.groups()
        log(f"mosh-server (pid {pid.group(1) if pid else '?'}) on udp {netlab.SERVER_ADDR}:{m.group(1)} "
            f"in the server namespace")

    def client(self):
        argv = self.in_cli("env", LOCALE, f"MOSH_KEY={self.mosh[1]}", "mosh-client",
                           netlab.SERVER_ADDR, self.mosh[0])
        t = netlab.Term("mosh-client", argv, self.tmp)
        self.terms.append(t)
        return t


CSI_RE = re.compile(r"\x1b\[([?>]?)([0-9;]*)[ -/]*([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
                    r"|\x1b[()#%][0-~]|\x1b[^\[\]()#%]|([\r\n\x08])|[\x00-\x1f]|[^\x00-\x1f\x1b]+")


class Screen:
    """What mosh-client's terminal shows: the few escape sequences Mosh draws with (cursor
    position, erase, scroll region, scroll by line feed), applied to a rows × cols grid.
    Mosh redraws only the cells that change, so a line on the screen is often never written
    whole: icmp_seq=N is read from the screen, not from the raw output."""

    def __init__(self, rows, cols):
        self.rows, self.cols, self.y, self.x = rows, cols, 0, 0
        self.top, self.bottom = 0, rows - 1
        self.grid = [[" "] * cols for _ in range(rows)]
        self.pending = ""       # an escape sequence cut off at the end of a chunk

    def scroll(self, n=1):
        for _ in range(n):
            del self.grid[self.top]
            self.grid.insert(self.bottom, [" "] * self.cols)

    def lf(self):
        if self.y == self.bottom:
            self.scroll()
        else:
            self.y = min(self.y + 1, self.rows - 1)

    def feed(self, text):
        text, i = self.pending + text, text.rfind("\x1b") + len(self.pending)
        m = CSI_RE.match(text, i) if i >= len(self.pending) else None
        text, self.pending = (text[:i], text[i:]) if m and m.end() == i + 1 else (text, "")
        for m in CSI_RE.finditer(text):
            final, ctl = m.group(3), m.group(4)
            if ctl == "\r":
                self.x = 0
            elif ctl == "\n":
                self.lf()
            elif ctl == "\x08":
                self.x = max(self.x - 1, 0)
            elif final and not m.group(1):
                self.csi(final, [int(v) if v else 0 for v in m.group(2).split(";")])
            elif not m.group(0).startswith("\x1b") and m.group(0)[0] >= " ":
                for ch in m.group(0):
                    if self.x >= self.cols:
                        self.x = 0
                        self.lf()
                    self.grid[self.y][self.x], self.x = ch, self.x + 1

    def csi(self, f, p):
        n = max(p[0], 1)
        row = self.grid[self.y]
        if f in "Hf":
            self.y = min(max(p[0], 1), self.rows) - 1
            self.x = min(max(p[1] if len(p) > 1 else 1, 1), self.cols) - 1
        elif f == "K":
            a, b = {0: (self.x, self.cols), 1: (0, self.x + 1)}.get(p[0], (0, self.cols))
            row[a:b] = [" "] * (b - a)
        elif f == "J":
            a, b = {0: (self.y + 1, self.rows), 1: (0, self.y)}.get(p[0], (0, self.rows))
            self.csi("K", [p[0] if p[0] < 2 else 2])
            for y in range(a, b):
                self.grid[y] = [" "] * self.cols
        elif f == "X":
            row[self.x:self.x + n] = [" "] * len(row[self.x:self.x + n])
        elif f == "r":
            self.top, self.bottom = (max(p[0], 1) - 1, (p[1] if len(p) > 1 and p[1] else self.rows) - 1)
            self.y, self.x = 0, 0
        elif f in "ABCDGd":
            self.y = {"A": max(self.y - n, 0), "B": min(self.y + n, self.rows - 1),
                      "d": min(n, self.rows) - 1}.get(f, self.y)
            self.x = {"C": min(self.x + n, self.cols - 1), "D": max(self.x - n, 0),
                      "G": min(n, self.cols) - 1}.get(f, self.x)
        elif f == "S":
            self.scroll(n)

    def seqs(self):
        return {int(v) for r in self.grid for v in netlab.PING_LINE_RE.findall("".join(r))}


class Shown:
    """When each icmp_seq first appeared on mosh-client's screen (monotonic time): every
    chunk read from the pty (netlab.Term records each with its arrival time) is applied in
    turn, and the ping lines on the screen are read after each."""

    def __init__(self, t, rows=50, cols=200):      # netlab.Term's window size
        self.t, self.screen, self.chunks, self.first = t, Screen(rows, cols), 0, {}

    def update(self):
        with self.t.cond:
            ends, times, text = list(self.t.ends), list(self.t.times), self.t.text
        start = ends[self.chunks - 1] if self.chunks else 0
        for end, at in zip(ends[self.chunks:], times[self.chunks:]):
            self.screen.feed(text[start:end])
            for s in self.screen.seqs():
                self.first.setdefault(s, at)
            start, self.chunks = end, self.chunks + 1
        return self.first

    def highest(self, before=float("inf")):
        return max((s for s, at in self.update().items() if at < before), default=0)


def record(args, kind, index, delay, skipped):
    if not args.csv:
        return
    new = not os.path.exists(args.csv) or os.path.getsize(args.csv) == 0
    with open(args.csv, "a") as f:
        f.write("kind,change,resume_s,lines_skipped\n" if new else "")
        f.write(f"{kind},{index},{'' if delay is None else f'{delay:.3f}'},{skipped}\n")


def scenario(args, kind, env):
    t = env.client()
    t.expect(netlab.PROMPT_RE, 15, what="shell prompt through mosh")
    shown = Shown(t)
    t.send("ping -i 0.2 127.0.0.1\r")
    netlab.wait_until(lambda: 1 in shown.update(), 10, "the first ping line on mosh-client's screen")
    log("mosh-client: `ping -i 0.2 127.0.0.1` running")
    time.sleep(netlab.PING_BEFORE_S)
    todo, done = netlab.address_changes(kind, args.repeat), []     # done: (index, delay, last seq before)
    for i, ch in enumerate(todo, 1):
        if i > 1:
            time.sleep(netlab.PING_BETWEEN_S)
        t_del, before = time.monotonic(), shown.highest()
        env.client_ip("addr", "del", *netlab.ip_args(ch.old))
        if ch.outage:
            time.sleep(ch.outage)
        t_add = time.monotonic()
        env.client_ip("addr", "add", *netlab.ip_args(ch.new))
        last = shown.highest(t_add)                 # higher than this: new output

        def first_new():
            return min((at for s, at in shown.update().items() if s > last and at >= t_add),
                       default=None)
        try:
            delay = netlab.wait_until(first_new, RESUME_WAIT_S, "ping output", interval=0.01) - t_add
        except netlab.Fail:
            delay = None
        late = [s for s, at in shown.update().items() if s > before and t_del + 0.5 <= at < t_add]
        if ch.outage and late:
            raise netlab.Fail(f"new ping lines {sorted(late)[:5]} were shown while the client had no "
                          "address; the address removal did not cut Mosh off, so this proves nothing")
        how = f"after {ch.outage:g} s without" if ch.outage else "in one step"
        log(f"mosh {kind} {i}/{len(todo)}: {ch.old} -> {ch.new} {how}: " +
            (f"ping output resumed {delay:.2f} s after the new address" if delay is not None
             else f"no new ping line within {RESUME_WAIT_S:g} s: not resumed"))
        done.append((i, delay, before))
    time.sleep(netlab.PING_AFTER_S)
    seen = shown.update()
    top = max(seen)
    skipped_all = [s for s in range(1, top + 1) if s not in seen]
    bounds = [b for _, _, b in done[1:]] + [top]    # change i: the lines up to the next change
    for (i, delay, before), upto in zip(done, bounds):
        record(args, kind, i, delay, sum(1 for s in skipped_all if before < s <= upto))
    t.send("\x03")
    resumed = [d for _, d, _ in done if d is not None]
    log(f"PASS mosh {kind}: icmp_seq 1..{top} shown: {len(skipped_all)} lines skipped"
        f"{' (' + netlab.fmt_seqs(skipped_all) + ')' if skipped_all else ''}; resumed after "
        f"{len(resumed)} of {len(done)} changes" + (f", {', '.join(f'{d:.2f}' for d in resumed)} s "
                                                     "after the new address" if resumed else ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5, help="address changes per kind (%(default)s)")
    ap.add_argument("--csv", help="append `kind,change,resume_s,lines_skipped` per change")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir with the transcript")
    ap.add_argument("kinds", nargs="+", choices=list(KINDS), metavar="KIND")
    args = ap.parse_args()
    args.keep_on_failure, args.scenarios = False, args.kinds
    args.csv = args.csv and os.path.abspath(args.csv)
    problems = [] if os.geteuid() == 0 else ["must run as root (network namespaces)"]
    missing = [x for x in ("mosh-server", "mosh-client", "ip", "ping", "setsid", "env")
               + ("nft",) * ("gateway" in args.kinds) if not shutil.which(x)]
    if missing:
        problems.append(f"missing {' '.join(missing)} (apt-get install -y mosh iputils-ping nftables)")

    def run(index, kind):
        env = MoshEnv(args, index, True, gateway=KINDS[kind][0], dualstack=KINDS[kind][1])
        budget = netlab.SCENARIO_BUDGET_S + int(args.repeat * (8 + RESUME_WAIT_S))
        return netlab.run_env(args, f"mosh {kind}", env, lambda e: scenario(args, kind, e), budget)
    return netlab.run_all("bench/mosh.py", problems, args.kinds, run)


if __name__ == "__main__":
    sys.exit(main())
