"""Steps of a telnet session in the lab: log in, run ping, change the client's address, wait
for the output to resume, and the verdict that every icmp_seq arrived exactly once."""

import collections
import ipaddress
import os
import re
import time

from .core import Fail, log, proc_identity, find_ping, run, wait_until
from .namespaces import (CLIENT_ADDR, CLIENT_NEW_ADDR, IFACE, PREFIX, PROMPT_RE, dual_addr,
                         endpoint_ip, ip_args, v4)

PING_LINE_RE = re.compile(r"icmp_seq=(\d+) ")
STATS_RE = re.compile(r"(\d+) packets transmitted, (\d+) received")
RESUMED_RE = re.compile(r"resumed over link (\S+) -> (\S+)")
REMOVED_RE = re.compile(r"local address \[?([0-9A-Fa-f:.]+?)\]? removed")

RESUME_LIMIT_S = 1.0        # verdict(), the demo's only: ping output back this soon after the new address
PING_BEFORE_S = 3.0         # ping output before the address is removed
OUTAGE_S = 5.0              # time without any address (> 3 missed heartbeats)
PING_AFTER_S = 3.0          # ping output after the resume, before Ctrl-C
PING_BETWEEN_S = 2.0        # ping output between two address changes
GATEWAY_OUTAGES_S = (0.5, 1.5, 3.0, 4.5, 6.0)   # gateway: time without eth1 address, in turn
DUALSTACK_OUTAGE_S = 1.0    # dualstack: time without any address when changing networks
LOG_WAIT_S = 5.0            # an expected log line must be in the log file this soon


def open_session(env, name, prompt_timeout=15):
    t = env.telnet(name)
    started = time.monotonic()
    t.expect(PROMPT_RE, prompt_timeout, what="shell prompt")
    took = time.monotonic() - started
    start = t.mark()
    t.send("echo PID=$$\r")
    m = t.expect(r"PID=(\d+)", 5, start=start, what="shell pid")
    t.shell_pid = int(m.group(1))
    t.shell_id = proc_identity(t.shell_pid)
    t.expect(PROMPT_RE, 5, start=m.end(), what="prompt after echo")
    log(f"{name}: shell prompt after {took:.2f} s, server-side shell pid {t.shell_pid}")
    return t


def start_ping(t, marker):
    t.marker = marker
    t.ping_start = t.mark()
    t.send(f"ping -i 0.2 -p {marker} 127.0.0.1\r")
    t.expect(r"icmp_seq=1 ", 10, start=t.ping_start, what="first ping line")
    t.ping_pid = find_ping(marker)
    t.ping_id = proc_identity(t.ping_pid) if t.ping_pid else None
    log(f"{t.name}: `ping -i 0.2 -p {marker} 127.0.0.1` running (server-side pid {t.ping_pid})")


def stop_ping(t):
    start = t.mark()
    t.send("\x03")
    m = t.expect(STATS_RE, 10, start=start, what="ping statistics after Ctrl-C")
    t.expect(PROMPT_RE, 5, start=m.end(), what="prompt after ping ended")
    return int(m.group(1)), int(m.group(2)), m.start()


def ping_lines(t, start=None, end=None):
    """[(seq, end offset)] of ping lines in the telnet output."""
    with t.cond:
        text = t.text[:end] if end is not None else t.text
    return [(int(m.group(1)), m.end()) for m in PING_LINE_RE.finditer(text, start or t.ping_start)]


def wait_resumed(t, off_add, t_add, timeout=30):
    """Delay from the new address to the first ping line that arrives after it. The timeout
    only guards against a session that never resumes; the delay is measured, not judged."""
    def first_after():
        lines = [(s, e) for s, e in ping_lines(t) if e > off_add]
        return lines[0] if lines else None
    try:
        seq, end = wait_until(first_after, timeout, "ping output", interval=0.01)
    except Fail:
        raise Fail(f"{t.name}: no ping output within {timeout} s after the new address "
                   f"(the session did not resume)")
    return t.arrival(end - 1) - t_add, seq


def check_quiet_during_outage(t, t_del, t_add):
    """While the client has no address nothing can reach it; output there means the cut was fake."""
    late = [s for s, e in ping_lines(t) if t_del + 0.5 <= t.arrival(e - 1) < t_add]
    if late:
        raise Fail(f"{t.name}: ping lines {late[:5]} arrived while the client had no address; "
                   "the address removal did not cut the link, so this run proves nothing")


def verdict(t, transmitted, received, stats_at, delay):
    """The demo's verdict (scripts/demo): verdict_changes() for one change, which also fails a
    resume slower than RESUME_LIMIT_S. The scenarios use verdict_changes() without a limit:
    they print the resume time but do not fail on it."""
    verdict_within(t, transmitted, received, stats_at, delay, RESUME_LIMIT_S)


def verdict_within(t, transmitted, received, stats_at, delay, resume_limit):
    """verdict() with a resume limit other than RESUME_LIMIT_S."""
    verdict_changes(t, transmitted, received, stats_at, [delay], resume_limit)


def verdict_changes(t, transmitted, received, stats_at, delays, resume_limit=None):
    """Every icmp_seq from 1 to `transmitted` exactly once and in order, across one or more
    address changes with the given resume times; each below resume_limit unless it is None."""
    seqs = [s for s, _ in ping_lines(t, end=stats_at)]
    counts = collections.Counter(seqs)
    missing = [s for s in range(1, transmitted + 1) if counts[s] == 0]
    repeated = sorted(s for s, c in counts.items() if c > 1)
    beyond = sorted(s for s in counts if s > transmitted)
    disorder = [b for a, b in zip(seqs, seqs[1:]) if b <= a]
    note = ""
    # Ctrl-C can land between ping's send and its reply: ping then itself reports one fewer
    # received and never prints the last line. Only that exact case is tolerated.
    if missing == [transmitted] and received == transmitted - 1:
        missing, note = [], f" (seq {transmitted} sent but not answered before Ctrl-C, per ping)"
    problems = []
    if missing:
        problems.append(f"missing {fmt_seqs(missing)}")
    if repeated:
        problems.append(f"repeated {fmt_seqs(repeated)} "
                        f"(counts {[counts[s] for s in repeated[:10]]})")
    if beyond:
        problems.append(f"beyond the {transmitted} transmitted: {fmt_seqs(beyond)}")
    if disorder:
        problems.append(f"out of order at {fmt_seqs(disorder)}")
    if received < transmitted - 1:
        problems.append(f"ping itself lost replies ({received} of {transmitted} received)")
    if not delays:
        resumed = "no address change"
    elif len(delays) == 1:
        resumed = f"resumed {delays[0]:.2f} s after the new address"
    else:
        resumed = (f"resumed after each of {len(delays)} address changes, "
                   f"{', '.join(f'{d:.2f}' for d in delays)} s after the new address")
    slow = [d for d in delays if resume_limit is not None and d >= resume_limit]
    line = (f"{t.name}: icmp_seq 1..{transmitted}: "
            f"{'none missing' if not missing else 'MISSING ' + fmt_seqs(missing)}, "
            f"{'none repeated' if not repeated else 'REPEATED ' + fmt_seqs(repeated)}; "
            f"{resumed}{note}")
    log(("PASS " if not problems and not slow else "FAIL ") + line)
    if problems:
        raise Fail(f"{t.name}: " + "; ".join(problems))
    if slow:
        raise Fail(f"{t.name}: ping output resumed {max(slow):.2f} s after the new address "
                   f"(limit {resume_limit} s)")


def fmt_seqs(seqs):
    s = ",".join(str(x) for x in seqs[:20])
    return s + (f",... ({len(seqs)} in all)" if len(seqs) > 20 else "")


def link_sources(env):
    out = run(env.in_cli("ss", "-Htn", "state", "established", "dport", "= :6200"), check=False)
    hosts = {line.split()[-2].rsplit(":", 1)[0] for line in out.splitlines() if line.split()}
    return ", ".join(sorted(h.strip("[]").replace("::ffff:", "") for h in hosts)) or "nowhere"


def change_address(env, terms):
    """Remove the client's address, wait OUTAGE_S, add a new one. Returns timing/offsets."""
    t_del = time.monotonic()
    env.client_ip("addr", "del", f"{CLIENT_ADDR}/{PREFIX}", "dev", IFACE)
    time.sleep(OUTAGE_S)
    offs = {t.name: t.mark() for t in terms}
    t_add = time.monotonic()
    env.client_ip("addr", "add", f"{CLIENT_NEW_ADDR}/{PREFIX}", "dev", IFACE)
    return t_del, t_add, offs


Change = collections.namedtuple("Change", "old new outage")     # addresses; seconds without
Resume = collections.namedtuple("Resume", "delay seq local peer log_start")


def address_changes(kind, n):
    """n address changes of one kind, in turn: `roam` (OUTAGE_S without an address), `inplace`
    (the new address at once), `gateway` (GATEWAY_OUTAGES_S without, in turn), each from one
    IPv4 address to the next, or `dualstack` (IPv4 and IPv6 in turn, DUALSTACK_OUTAGE_S)."""
    if kind == "roam":
        return [Change(v4(i), v4(i + 1), OUTAGE_S) for i in range(n)]
    if kind == "inplace":
        return [Change(v4(i), v4(i + 1), 0) for i in range(n)]
    if kind == "gateway":
        g = GATEWAY_OUTAGES_S
        return [Change(v4(i), v4(i + 1), g[i % len(g)]) for i in range(n)]
    if kind == "dualstack":
        return [Change(dual_addr(i), dual_addr(i + 1), DUALSTACK_OUTAGE_S) for i in range(n)]
    raise ValueError(f"no address changes of kind {kind!r}")


def removal_logged(env, start, addr):
    """Whether cproxy has logged `local address <addr> removed` since log offset `start`."""
    want = ipaddress.ip_address(addr)
    return any(endpoint_ip(m.group(1) + ":0") == want
               for m in REMOVED_RE.finditer(env.log_text("cproxy", start)))


def resumed_link(env, start):
    """(local, peer) of the first `resumed over link LOCAL -> PEER` cproxy logged since `start`."""
    def find():
        return RESUMED_RE.search(env.log_text("cproxy", start))
    try:
        m = wait_until(find, LOG_WAIT_S, "resume line")
    except Fail:
        raise Fail(f"ping output resumed but cproxy logged no `resumed over link` line within "
                   f"{LOG_WAIT_S} s")
    return endpoint_ip(m.group(1)), endpoint_ip(m.group(2))


def record_resume(env, kind, index, delay):
    """--csv: one line per measured change, appended at once so a failed run keeps its data."""
    path = getattr(env.args, "csv", None)
    if not path:
        return
    new = not os.path.exists(path) or os.path.getsize(path) == 0
    with open(path, "a") as f:
        if new:
            f.write("kind,change,resume_s\n")
        f.write(f"{kind},{index},{delay:.3f}\n")


def change_and_resume(env, t, kind, index, count, ch):
    """Remove ch.old, wait ch.outage, add ch.new; wait for the ping output. The resume must
    come over a link from ch.new; while there was no address, no ping output may arrive."""
    start = env.log_mark("cproxy")
    t_del = time.monotonic()
    env.client_ip("addr", "del", *ip_args(ch.old))
    if ch.outage:
        time.sleep(ch.outage)
    off = t.mark()
    t_add = time.monotonic()
    env.client_ip("addr", "add", *ip_args(ch.new))
    delay, seq = wait_resumed(t, off, t_add)
    local, peer = resumed_link(env, start)
    if ch.outage:
        check_quiet_during_outage(t, t_del, t_add)
    how = f"after {ch.outage:g} s without" if ch.outage else "in one step"
    noticed = ("logged `local address ... removed`" if removal_logged(env, start, ch.old)
               else "did not log the removal")
    log(f"{kind} {index}/{count}: {ch.old} -> {ch.new} {how}: ping output resumed {delay:.2f} s "
        f"after the new address (icmp_seq={seq} first) over {local} -> {peer}; cproxy {noticed}")
    if local != ipaddress.ip_address(ch.new):
        raise Fail(f"{kind} {index}: the session resumed over a link from {local}, not from the "
                   f"new address {ch.new}")
    record_resume(env, kind, index, delay)
    return Resume(delay, seq, local, peer, start)
