#!/usr/bin/env python3
"""End-to-end test of roamproxy, run the way the user runs it.

Builds two network namespaces joined by a veth pair (both ends are called eth1):

    server namespace  192.0.2.1/24   inetd -> telnetd on :23, bin/sproxy on :6200
    client namespace  192.0.2.2/24   bin/cproxy 192.0.2.1 on 127.0.0.1:5200

and drives a real `telnet localhost 5200` through a pty in the client namespace. Inside
the telnet session it runs `ping -i 0.2 127.0.0.1`, changes the client's address with
`ip addr del` / `ip addr add` and checks what the user sees: every icmp_seq exactly once.

Scenarios (default: all):
  roam        one session; address 192.0.2.2 -> 192.0.2.3; ping output must resume after
              the new address and show no gap and no repeat in icmp_seq.
  abandon     the user gives up on the hung session (Ctrl-] quit) while the address is
              gone; after the new address a new telnet must get a fresh, working shell,
              and the old shell and its ping on the server must be gone (once cproxy is
              back, not after the 15 min detach timeout; how soon is printed).
  concurrent  three telnet sessions, each running ping, one address change; all three
              must resume and be gapless as in `roam`.
  baseline    control without proxies: plain telnet straight to telnetd must NOT
              resume after the same address change (proves the change really breaks TCP).
  loss        as `roam`, but an nftables rule in the client namespace drops a random 10%
              of the packets each way on its veth (`numgen random mod 100 < 10 drop`) for
              the whole run; must be gapless as in `roam` (a lost SYN costs the kernel's
              1 s retransmit, so the resume takes longer), and the rule must have dropped
              packets.
  inplace     the address is replaced in one step (`ip addr del OLD` at once followed by
              `ip addr add NEW`, as a new DHCP lease does), 5 times, 2 s of ping between
              changes; gapless, and cproxy must log `local address OLD removed` for each
              change (its address watch, not three missed heartbeats, broke the old link).
  gateway     the client also has eth0 (198.51.100.2/24) with its default route through a
              third namespace that drops everything (nftables), the classic lab VM; the
              eth1 address is removed for 0.5, 1.5, 3, 4.5, 6 s and a new one added; gapless,
              and the gateway must have dropped packets bound for the server.
  dualstack   the server has 192.0.2.1 and 2001:db8::1; cproxy dials the name `roamserver`,
              which the client namespace's hosts file (/etc/netns/<ns>/hosts) maps to both;
              the client moves IPv4-only -> IPv6-only -> IPv4-only (1 s without an address
              each time); gapless, and each resume must use the server address of the
              client's new family (from cproxy's `resumed over link` line).
  In roam, inplace, gateway and dualstack every resume must come over a link from the new
  address (cproxy's `resumed over link` line), and each resume time (new address -> next
  ping line) is printed. No scenario fails on a resume time: on a loaded machine a resume
  may take longer without anything being wrong. They measure and print it, and
  bench/roaming reports it.

Measuring (bench/roaming uses this): --repeat N makes roam, inplace, gateway or dualstack
do N address changes instead of 1, 5, 5 and 2, and
--csv FILE appends one line `kind,change,resume_s` per change. --cproxy-args passes options
to cproxy, e.g. --cproxy-args=--no-address-watch (heartbeat timers only).

The namespaces, telnetd, the proxies, the pty and the session steps come from the netlab
library (tools/netlab); this script holds the scenarios and their options.

telnetd gives a shell without an account or password: inetd starts
`telnetd -h -E <tempdir>/login.sh` (inetutils telnetd; -E replaces /bin/login), and the
script sets PATH and PS1 and execs `sh -i`.

Usage (as root; needs ip, inetd (openbsd-inetd), telnetd, telnet, ping, ss, setsid,
unshare, mount, getent, and nft for `loss` and `gateway`; Python 3 standard library only):
  mvn -q -DskipTests package
  sudo python3 src/test/e2e/roam_e2e.py --dist target/roamproxy [SCENARIO ...|all]
  sudo python3 src/test/e2e/roam_e2e.py --repeat 20 --csv resume.csv inplace

Only 192.0.2.0/24, 198.51.100.0/24, 2001:db8::/32 (all reserved for documentation) and
loopback are used, and only inside the namespaces this script creates. Every namespace,
process, temp dir and /etc/netns/<ns> directory it creates is removed on success, failure,
Ctrl-C and SIGTERM. Exit status: 0 all passed, 1 a scenario
failed, 2 cannot run (not root, tool missing, no dist), 130 interrupted.
"""

import collections
import ipaddress
import os
import re
import shlex
import subprocess
import sys
import time

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../tools"))
from netlab import (  # noqa: E402
                    CLIENT_ADDR, CLIENT_NEW_ADDR, Env, Fail, IFACE, LOG_WAIT_S, OUTAGE_S,
                    PING_AFTER_S, PING_BEFORE_S, PING_BETWEEN_S, PREFIX, SCENARIO_BUDGET_S,
                    SERVER_ADDR, SERVER_ADDR6, address_changes, argument_parser, change_address,
                    change_and_resume, check_quiet_during_outage, common_preflight,
                    link_sources, log, open_session, ping_lines, proc_alive, removal_logged,
                    run, run_all, run_env, scenario_names, start_ping, stop_ping,
                    verdict_changes, wait_resumed, wait_until)

OLD_SESSION_GONE_S = 30.0   # abandon: only against a hang (the detach timeout is 15 min)
LOSS_PERCENT = 10           # loss: share of packets dropped, each way, on the client's veth
LOSS_TABLE = "rpe2e_loss"   # loss: the nftables table, in the client namespace only
CHANGES = 5                 # inplace, gateway: address changes in one run (--repeat: other)


# ---------------------------------------------------------------- scenarios

def roam_through(env, kind, marker, changes, check=None, resume_limit=None):
    """One telnet session running ping through every change in turn, PING_BETWEEN_S of ping
    between them; check(env, change, resume) may add per-change assertions. Every icmp_seq
    must then show exactly once. Returns the resumes."""
    t = open_session(env, "telnet")
    start_ping(t, marker)
    time.sleep(PING_BEFORE_S)
    resumes = []
    for i, ch in enumerate(changes, 1):
        if i > 1:
            time.sleep(PING_BETWEEN_S)
        r = change_and_resume(env, t, kind, i, len(changes), ch)
        if check:
            check(env, ch, r)
        resumes.append(r)
    time.sleep(PING_AFTER_S)
    transmitted, received, at = stop_ping(t)
    verdict_changes(t, transmitted, received, at, [r.delay for r in resumes], resume_limit)
    return resumes


def repeat(env, default):
    return getattr(env.args, "repeat", None) or default


def scenario_roam(env):
    roam_through(env, "roam", "e2e00001", address_changes("roam", repeat(env, 1)))


def scenario_inplace(env):
    def removal_noticed(env, ch, r):
        try:
            wait_until(lambda: removal_logged(env, r.log_start, ch.old), LOG_WAIT_S,
                       "removal line")
        except Fail:
            raise Fail(f"cproxy logged no `local address {ch.old} removed` line: the old link "
                       f"was not dropped by the address watch (heartbeat timeout instead?)")
    watch_off = "--no-address-watch" in (getattr(env.args, "cproxy_args", None) or [])
    if watch_off:
        log("inplace: cproxy runs with --no-address-watch: its removal lines are not required")
    roam_through(env, "inplace", "e2e00501", address_changes("inplace", repeat(env, CHANGES)),
                 check=None if watch_off else removal_noticed)


def scenario_gateway(env):
    roam_through(env, "gateway", "e2e00601", address_changes("gateway", repeat(env, CHANGES)))
    dropped = env.gateway_drops()
    log(f"gateway: dropped {dropped} packets bound for {SERVER_ADDR} (sent by the default route)")
    if dropped == 0:
        raise Fail("no packet for the server reached the black-holing gateway: the default route "
                   "carried nothing during the outages, so this run proves nothing")


def scenario_dualstack(env):
    def server_of_same_family(env, ch, r):
        want = ipaddress.ip_address(SERVER_ADDR6 if ":" in ch.new else SERVER_ADDR)
        if r.peer != want:
            raise Fail(f"after the move to {ch.new} cproxy resumed over the server address "
                       f"{r.peer}, not {want}")
    roam_through(env, "dualstack", "e2e00701", address_changes("dualstack", repeat(env, 2)),
                 check=server_of_same_family)


def scenario_concurrent(env):
    terms = []
    for i in range(3):
        t = open_session(env, f"telnet{i + 1}")
        start_ping(t, f"e2e0010{i + 1}")
        terms.append(t)
    for t in terms:   # each session shows its own ping's pattern, nobody else's
        own = re.findall(r"PATTERN: 0x([0-9a-f]+)", t.tail(10 ** 9))
        if own != [t.marker]:
            raise Fail(f"{t.name}: expected only PATTERN 0x{t.marker} in its output, saw {own}")
    time.sleep(PING_BEFORE_S)
    t_del, t_add, offs = change_address(env, terms)
    delays = {}
    for t in terms:
        delays[t.name], seq = wait_resumed(t, offs[t.name], t_add)
        log(f"{t.name}: ping output resumed {delays[t.name]:.2f} s after the new address "
            f"(icmp_seq={seq} first)")
    log(f"links now from {link_sources(env)}")
    for t in terms:
        check_quiet_during_outage(t, t_del, t_add)
    time.sleep(PING_AFTER_S)
    failures = []
    for t in terms:
        transmitted, received, at = stop_ping(t)
        try:
            verdict_changes(t, transmitted, received, at, [delays[t.name]])
        except Fail as e:
            failures.append(str(e))
    if failures:
        raise Fail("; ".join(failures))


def scenario_abandon(env):
    old = open_session(env, "telnet-old")
    start_ping(old, "e2e00201")
    if not old.ping_pid:
        raise Fail("could not find the old session's ping process on the server")
    time.sleep(2)
    t_del = time.monotonic()
    env.client_ip("addr", "del", f"{CLIENT_ADDR}/{PREFIX}", "dev", IFACE)
    time.sleep(1.5)
    log("telnet-old: user gives up: Ctrl-] then quit")
    start = old.mark()
    old.send("\x1d")
    try:
        old.expect(r"telnet> ", 5, start=start, what="telnet> escape prompt")
        old.send("quit\r")
        old.proc.wait(timeout=5)
    except (Fail, subprocess.TimeoutExpired) as e:
        log(f"telnet-old: did not quit cleanly ({e}); killing it")
        old.proc.kill()
        old.proc.wait(timeout=5)
    log(f"telnet-old: telnet client exited ({old.proc.returncode})")
    if not proc_alive(old.shell_pid, old.shell_id):
        raise Fail("the old shell died while the link was down; the test cannot tell whether "
                   "sproxy closes an abandoned session once cproxy reaches it again")
    time.sleep(max(0.0, t_del + OUTAGE_S - time.monotonic()))
    t_add = time.monotonic()
    env.client_ip("addr", "add", f"{CLIENT_NEW_ADDR}/{PREFIX}", "dev", IFACE)

    new = open_session(env, "telnet-new", prompt_timeout=10)
    if new.shell_pid == old.shell_pid:
        raise Fail(f"the new telnet got the old shell (pid {old.shell_pid}) instead of a fresh one")
    start = new.mark()
    new.send("echo FRESH-$((6*7))-SHELL\r")
    new.expect(r"FRESH-42-SHELL", 5, start=start, what="echo output in the new session")
    log(f"telnet-new: fresh shell pid {new.shell_pid} answered `echo`")

    def old_gone():
        return not proc_alive(old.shell_pid, old.shell_id) and \
            not proc_alive(old.ping_pid, old.ping_id)
    try:
        wait_until(old_gone, max(0.0, t_add + OLD_SESSION_GONE_S - time.monotonic()) + 0.01,
                   "old session to end", interval=0.05)
    except Fail:
        raise Fail(f"old server-side session still running {OLD_SESSION_GONE_S:g} s after the new "
                   f"address: shell pid {old.shell_pid} alive="
                   f"{proc_alive(old.shell_pid, old.shell_id)}, ping pid {old.ping_pid} "
                   f"alive={proc_alive(old.ping_pid, old.ping_id)}")
    gone_after = time.monotonic() - t_add
    if not proc_alive(new.shell_pid, new.shell_id):
        raise Fail(f"the new session's shell (pid {new.shell_pid}) died with the old one")
    start = new.mark()
    new.send("echo STILL-$((6*7))-HERE\r")
    new.expect(r"STILL-42-HERE", 5, start=start, what="echo in the new session after cleanup")
    log(f"PASS abandon: old shell {old.shell_pid} and its ping {old.ping_pid} gone "
        f"{gone_after:.2f} s after the new address; new session (shell {new.shell_pid}) works")


def scenario_baseline(env):
    t = open_session(env, "telnet-direct")
    start_ping(t, "e2e00301")
    time.sleep(2)
    t_del, t_add, offs = change_address(env, [t])
    check_quiet_during_outage(t, t_del, t_add)
    time.sleep(4)
    after = [s for s, e in ping_lines(t) if e > offs[t.name]]
    if after:
        raise Fail(f"plain telnet resumed after the address change (icmp_seq {after[:5]} ...): "
                   "the address change does not break TCP here, so the proxy scenarios prove "
                   "nothing")
    last = ping_lines(t)[-1][0]
    log(f"PASS baseline: plain telnet hung at icmp_seq={last} and showed nothing in the 4 s "
        f"after the new address (the problem roamproxy solves)")


def add_packet_loss(env, percent):
    """In the client namespace only: drop `percent`% of the packets each way on its veth, at
    random (nftables `numgen random`), counting what passes and what is dropped. The rule
    names the interface, not an address, so it stays through the address change."""
    rules = os.path.join(env.tmp, "loss.nft")
    with open(rules, "w") as f:
        f.write(f"table inet {LOSS_TABLE} {{\n"
                f"  chain loss_in {{\n"
                f"    type filter hook input priority 0; policy accept;\n"
                f"    iifname \"{IFACE}\" counter\n"
                f"    iifname \"{IFACE}\" numgen random mod 100 < {percent} counter drop\n"
                f"  }}\n"
                f"  chain loss_out {{\n"
                f"    type filter hook output priority 0; policy accept;\n"
                f"    oifname \"{IFACE}\" counter\n"
                f"    oifname \"{IFACE}\" numgen random mod 100 < {percent} counter drop\n"
                f"  }}\n"
                f"}}\n")
    run(env.in_cli("nft", "-f", rules))
    log(f"client# nft: drop {percent}% of packets at random each way on {IFACE}")


def packet_loss_counters(env):
    """{"in": (packets seen, packets dropped), "out": (...)} for the client's veth."""
    out = run(env.in_cli("nft", "list", "table", "inet", LOSS_TABLE))
    counters = {}
    for way in ("in", "out"):
        m = re.search(rf"chain loss_{way} \{{(.*?)\n\s*\}}", out, re.S)
        packets = [int(x) for x in re.findall(r"counter packets (\d+)", m.group(1))] if m else []
        if len(packets) != 2:
            raise Fail(f"cannot read the loss counters of chain loss_{way}:\n{out}")
        counters[way] = (packets[0], packets[1])
    return counters


def scenario_loss(env):
    t = open_session(env, "telnet")
    start_ping(t, "e2e00401")
    add_packet_loss(env, LOSS_PERCENT)
    time.sleep(PING_BEFORE_S)
    t_del, t_add, offs = change_address(env, [t])
    delay, seq = wait_resumed(t, offs[t.name], t_add)
    log(f"{t.name}: ping output resumed {delay:.2f} s after the new address (icmp_seq={seq} "
        f"first); link now from {link_sources(env)}")
    check_quiet_during_outage(t, t_del, t_add)
    time.sleep(PING_AFTER_S)
    transmitted, received, at = stop_ping(t)
    counters = packet_loss_counters(env)
    log("nftables on the client's " + IFACE + ": " + ", ".join(
        f"{way}bound {dropped} of {seen} packets dropped" for way, (seen, dropped) in counters.items()))
    # ~100 packets cross in all: P(no drop at all) is about 0.9^100, but per direction 0.9^50.
    if sum(dropped for _, dropped in counters.values()) == 0:
        raise Fail("the loss rule dropped no packet: this run proves nothing")
    verdict_changes(t, transmitted, received, at, [delay])


Scenario = collections.namedtuple("Scenario", "fn direct gateway dualstack repeatable",
                                  defaults=(False, False, False))
SCENARIOS = {
    "roam": Scenario(scenario_roam, False, repeatable=True),
    "abandon": Scenario(scenario_abandon, False),
    "concurrent": Scenario(scenario_concurrent, False),
    "baseline": Scenario(scenario_baseline, True),
    "loss": Scenario(scenario_loss, False),
    "inplace": Scenario(scenario_inplace, False, repeatable=True),
    "gateway": Scenario(scenario_gateway, False, gateway=True, repeatable=True),
    "dualstack": Scenario(scenario_dualstack, False, dualstack=True, repeatable=True),
}
ALL = ["roam", "abandon", "concurrent", "baseline", "loss", "inplace", "gateway", "dualstack"]


# ---------------------------------------------------------------- main

def preflight(args):
    tools = []
    if {"loss", "gateway"} & set(args.scenarios):
        tools.append("nft")
    if "dualstack" in args.scenarios:
        tools.append("getent")
    return common_preflight(args, "network namespaces, inetd on port 23", tools, "nftables",
                            dist=any(not SCENARIOS[s].direct for s in args.scenarios))



def run_scenario(args, index, name):
    sc = SCENARIOS[name]
    env = Env(args, index, sc.direct, gateway=sc.gateway, dualstack=sc.dualstack)
    # --repeat: each change costs at most its outage (<= 6 s), the ping between and the resume.
    return run_env(args, name, env, sc.fn, SCENARIO_BUDGET_S + 15 * (getattr(args, "repeat", None) or 0))



def main():
    ap = argument_parser(__doc__, ALL)
    ap.add_argument("--cproxy-args", type=shlex.split, default=[], metavar="'OPTIONS'",
                    help="more options for cproxy, e.g. --cproxy-args=--no-address-watch")
    ap.add_argument("--repeat", type=int, metavar="N",
                    help=f"address changes in {', '.join(s for s in ALL if SCENARIOS[s].repeatable)}"
                         " (default 1, 5, 5, 2)")
    ap.add_argument("--csv", metavar="FILE",
                    help="append `kind,change,resume_s` for every measured address change")
    args = ap.parse_args()
    names = scenario_names(ap, args, ALL)
    if args.repeat is not None:
        if not 1 <= args.repeat <= 200:
            ap.error("--repeat must be 1 to 200 (the client addresses come from one /24)")
        others = [s for s in names if not SCENARIOS[s].repeatable]
        if others:
            ap.error(f"--repeat does not apply to {', '.join(others)}")
    if args.csv:
        args.csv = os.path.abspath(args.csv)

    return run_all("roam_e2e", preflight(args), names, lambda i, name: run_scenario(args, i, name))


if __name__ == "__main__":
    sys.exit(main())
