#!/usr/bin/env python3
"""End-to-end test of two sproxy instances behind HAProxy: new sessions go to either,
every resume reaches the instance that holds its session, whatever the client's address.

Built on the netlab library (tools/netlab): its two namespaces joined by a veth
pair, inetd + telnetd, telnet on a pty, ping and the gapless icmp_seq verdict. The server
namespace runs HAProxy with contrib/haproxy/roamproxy.cfg in front of two instances:

    server namespace  192.0.2.1/24   inetd -> telnetd on :23
                                     haproxy -f contrib/haproxy/roamproxy.cfg on :6200
                                     bin/sproxy --instance 1 --listen 127.0.0.1 --port 6201
                                     bin/sproxy --instance 2 --listen 127.0.0.1 --port 6202
    client namespace  192.0.2.2/24   bin/cproxy 192.0.2.1 (127.0.0.1:5200 -> telnet)

The HAProxy configuration is the one in contrib/, with only what ties it to a Debian host
changed: logging to stdout instead of /dev/log, and no chroot, user or group (each change is
checked to have happened, so the file under test is the shipped one). Both instances use one
host key file (<tmp>/host_key, made by instance 1 on its first start) and each has its own
state directory (XDG_STATE_HOME=<tmp>/state-N, its own refusal_key) and runtime directory
(XDG_RUNTIME_DIR=<tmp>/run-N, for `sproxy --status -p 620N`).

Scenario `haproxy`:
  1. Eight telnet sessions through cproxy, each running `ping -i 0.2 -p MARKER 127.0.0.1`.
     cproxy's `--status --json` names each session's id; the id's first byte is the instance.
     Both instances must hold some; each instance's `--status --json` lists exactly its own
     ids, and each id is logged as new by its own instance only.
  2. The client's address changes twice (192.0.2.2 -> .3 -> .4, 5 s without an address
     each time). Every session resumes (ping output within 10 s of the new address), each
     resume is logged by the session's own instance (`cproxy is back`) and no session id
     appears in the other instance's log; neither instance logs a wrong-instance refusal
     nor an unknown session. Ctrl-C: every icmp_seq exactly once, in order.
  3. Pings again in every session; instance 1 is killed (SIGKILL) and started again with
     the same instance number, state directory and host key. Each of its sessions' telnets
     must end within 30 s of its restart, cproxy logging that sproxy no longer knows the
     session (the refusal authenticated with the refusal key the restarted instance read
     from its state directory); instance 2's sessions keep running: their pings go on, and
     after Ctrl-C show every icmp_seq exactly once.

Usage (as root; needs what roam_e2e.py needs, and haproxy: Debian `apt-get install -y haproxy`):
  mvn -q -DskipTests package
  sudo python3 src/test/e2e/haproxy_e2e.py --dist target/roamproxy [haproxy|all]

Only 192.0.2.0/24 (reserved for documentation) and loopback are used, only inside the
namespaces this script creates. Every namespace, process (inetd, telnetd, haproxy, the
proxies, telnet, the pings) and temp dir it creates is removed on success, failure, Ctrl-C and
SIGTERM. Exit status: 0 passed, 1 failed, 2 cannot run, 130 interrupted.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(HERE, "../../../tools"))
import netlab                           # noqa: E402  (after the path is set)
from netlab import Fail, log, run, wait_until     # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
HAPROXY_CFG = os.path.join(REPO, "contrib", "haproxy", "roamproxy.cfg")
LINK_PORT = 6200
INSTANCES = {1: 6201, 2: 6202}
SESSIONS = 8
ADDRESSES = [netlab.CLIENT_ADDR, "192.0.2.3", "192.0.2.4"]
SCENARIO_BUDGET_S = 300                 # hard cap, hang => failure
STATUS_TIMEOUT_S = 30                   # one --status command (a JVM start)
RESUME_WITHIN_S = 10                    # ping output after the new address
ENDED_WITHIN_S = 30                     # a killed instance's sessions end after its restart
WRONG_INSTANCE = "belongs to instance"  # sproxy's ERROR for a resume of another instance
UNKNOWN = "no such session"             # sproxy's INFO for a resume it does not know
ID_RE = re.compile(r"session ([0-9a-f]{16})")


class HaEnv(netlab.Env):
    """netlab's two hosts, with HAProxy and two sproxy instances in the server namespace."""

    def __init__(self, args, index):
        super().__init__(args, index, direct=False)
        self.host_key = os.path.join(self.tmp, "host_key")
        self.sproxy_names = {}          # instance -> daemon name of its current process
        self.proxy_env = {}

    def instance_env(self, n):
        env = dict(os.environ, ROAMPROXY_LOG_LEVEL=self.args.log_level,
                   XDG_STATE_HOME=os.path.join(self.tmp, f"state-{n}"),
                   XDG_RUNTIME_DIR=os.path.join(self.tmp, f"run-{n}"))
        for var in ("STATE_DIRECTORY", "RUNTIME_DIRECTORY"):
            env.pop(var, None)
        os.makedirs(env["XDG_RUNTIME_DIR"], mode=0o700, exist_ok=True)
        return env

    def start_sproxy(self, n, name):
        self.proxy_env[n] = self.instance_env(n)
        argv = self.in_srv(os.path.join(self.args.dist, "bin", "sproxy"), "--instance", str(n),
                           "--listen", "127.0.0.1", "--port", str(INSTANCES[n]),
                           "--host-key", self.host_key)
        self.daemon(name, argv, self.proxy_env[n])
        self.sproxy_names[n] = name
        self.wait_listening(name, self.srv, INSTANCES[n], 30)

    def start_proxies(self):
        """Called by netlab.Env.start() after inetd: the instances, HAProxy, then cproxy."""
        for n in INSTANCES:
            self.start_sproxy(n, f"sproxy{n}")
        self.check_keys()
        cfg = self.haproxy_cfg()
        self.daemon("haproxy", self.in_srv("haproxy", "-db", "-f", cfg))
        self.wait_listening("haproxy", self.srv, LINK_PORT, 15)
        env = dict(os.environ, ROAMPROXY_LOG_LEVEL=self.args.log_level,
                   XDG_STATE_HOME=os.path.join(self.tmp, "state-cli"),
                   XDG_RUNTIME_DIR=os.path.join(self.tmp, "run-cli"))
        for var in ("STATE_DIRECTORY", "RUNTIME_DIRECTORY"):
            env.pop(var, None)
        os.makedirs(env["XDG_RUNTIME_DIR"], mode=0o700)
        self.proxy_env["cproxy"] = env
        self.daemon("cproxy", self.in_cli(os.path.join(self.args.dist, "bin", "cproxy"), self.server), env)
        self.wait_listening("cproxy", self.cli, 5200, 30)
        log(f"haproxy on :{LINK_PORT} -> sproxy --instance 1 on 127.0.0.1:6201, --instance 2 on "
            f"127.0.0.1:6202 (one host key {self.host_key}); cproxy {self.server} on 127.0.0.1:5200")

    def check_keys(self):
        """One host key for both; a refusal key of its own in each state directory."""
        keys = {}
        for n in INSTANCES:
            state = os.path.join(self.tmp, f"state-{n}", "roamproxy")
            with open(os.path.join(state, "refusal_key"), "rb") as f:
                keys[n] = f.read()
            if os.path.exists(os.path.join(state, "host_key")):
                raise Fail(f"instance {n} made a host key of its own in {state}")
        if keys[1] == keys[2]:
            raise Fail("the two instances have the same refusal key")
        fp = run(self.in_srv(os.path.join(self.args.dist, "bin", "sproxy"), "--fingerprint",
                             "--host-key", self.host_key), timeout=30).strip()
        for n in INSTANCES:
            if fp not in self.log_text(f"sproxy{n}"):
                raise Fail(f"instance {n} does not log the shared host key {fp}")
        log(f"both instances use host key {fp}; refusal keys differ")

    def haproxy_cfg(self):
        """contrib/haproxy/roamproxy.cfg, its Debian-host lines replaced (each one checked)."""
        with open(HAPROXY_CFG) as f:
            text = f.read()
        subs = [(r"(?m)^    log /dev/log local0$", "    log stdout format raw local0 info"),
                (r"(?m)^    log /dev/log local1 notice\n", ""),
                (r"(?m)^    chroot .*\n", ""), (r"(?m)^    user .*\n", ""), (r"(?m)^    group .*\n", "")]
        for pattern, repl in subs:
            text, n = re.subn(pattern, repl, text)
            if n != 1:
                raise Fail(f"{HAPROXY_CFG}: expected one line matching {pattern!r}, found {n}")
        path = os.path.join(self.tmp, "haproxy.cfg")
        with open(path, "w") as f:
            f.write(text)
        out = subprocess.run(["haproxy", "-c", "-f", path], capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise Fail(f"haproxy -c -f {path}: {out.stdout}{out.stderr}")
        return path

    def sproxy_logs(self, n):
        """Everything instance n logged, across its restarts."""
        return "".join(self.log_text(name) for name in self.daemons if name.startswith(f"sproxy{n}"))

    def status_json(self, who):
        """`--status --json` of cproxy or of instance `who` (its port, its runtime dir)."""
        if who == "cproxy":
            argv = self.in_cli(os.path.join(self.args.dist, "bin", "cproxy"), "--status", "--json")
        else:
            argv = self.in_srv(os.path.join(self.args.dist, "bin", "sproxy"), "--status", "--json",
                               "-p", str(INSTANCES[who]))
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=STATUS_TIMEOUT_S, env=self.proxy_env[who])
        if p.returncode != 0:
            raise Fail(f"{' '.join(argv)} exited {p.returncode}:\n{p.stdout}{p.stderr}")
        return json.loads(p.stdout)


def telnet_ports(env):
    """{telnet pid: its local port} of the telnets connected to cproxy in the client namespace."""
    out = run(env.in_cli("ss", "-Htnp", "state", "established", "dport", "= :5200"))
    ports = {}
    for line in out.splitlines():
        m = re.search(r":(\d+)\s+\S+:5200\s.*pid=(\d+)", line)
        if m:
            ports[int(m.group(2))] = int(m.group(1))
    return ports


def map_sessions(env, terms):
    """Each telnet's session id, from cproxy's status, and its instance (the id's first byte)."""
    ports = telnet_ports(env)
    by_app = {}
    for s in env.status_json("cproxy")["sessions"]:
        m = re.search(r":(\d+)$", str(s.get("application")))
        if m:
            by_app[int(m.group(1))] = s["session"]
    for t in terms:
        port = ports.get(t.proc.pid)
        if port is None or port not in by_app:
            raise Fail(f"{t.name}: cannot find its session (telnet port {port}, cproxy status {by_app})")
        t.session = by_app[port]
        t.instance = int(t.session[:2], 16)
        log(f"{t.name}: session {t.session}, instance {t.instance}")
    held = {n: sorted(t.session for t in terms if t.instance == n) for n in INSTANCES}
    if set(t.instance for t in terms) - set(INSTANCES) or any(not ids for ids in held.values()):
        raise Fail(f"sessions by instance {held}: expected both instances to hold some, and no other")
    for n in INSTANCES:
        listed = sorted(s["session"] for s in env.status_json(n)["sessions"])
        if listed != held[n]:
            raise Fail(f"sproxy --status -p {INSTANCES[n]} lists {listed}, expected {held[n]}")
        new = set(re.findall(r"session ([0-9a-f]{16}): new session from", env.sproxy_logs(n)))
        if new != set(held[n]):
            raise Fail(f"instance {n} logged new sessions {sorted(new)}, expected {held[n]}")
    log(f"sessions by instance: {held}; each instance's --status and log list exactly its own")
    return held


def check_routing(env, held):
    """No session id in the other instance's log; no wrong-instance or unknown-session answer."""
    for n in INSTANCES:
        text = env.sproxy_logs(n)
        for line in text.splitlines():
            if WRONG_INSTANCE in line or UNKNOWN in line:
                raise Fail(f"instance {n} logged: {line}")
        foreign = set(ID_RE.findall(text)) - set(held[n])
        if foreign:
            raise Fail(f"instance {n} logged sessions of the other instance: {sorted(foreign)}")
        back = set(re.findall(r"session ([0-9a-f]{16}): cproxy is back", text))
        if back != set(held[n]):
            raise Fail(f"instance {n} logged resumes of {sorted(back)}, expected all of {held[n]}")
    log("every resume reached its own instance; neither logged a wrong-instance refusal or an "
        "unknown session")


def change(env, terms, old, new):
    t_del = time.monotonic()
    env.client_ip("addr", "del", f"{old}/{netlab.PREFIX}", "dev", netlab.IFACE)
    time.sleep(netlab.OUTAGE_S)
    offs = {t.name: t.mark() for t in terms}
    t_add = time.monotonic()
    env.client_ip("addr", "add", f"{new}/{netlab.PREFIX}", "dev", netlab.IFACE)
    for t in terms:
        delay, seq = netlab.wait_resumed(t, offs[t.name], t_add, RESUME_WITHIN_S)
        t.delays.append(delay)
        netlab.check_quiet_during_outage(t, t_del, t_add)
    log(f"{old} -> {new}: all {len(terms)} sessions resumed, "
        f"{max(t.delays[-1] for t in terms):.2f} s after the new address at most")


def stop_all(terms):
    failures = []
    for t in terms:
        try:
            transmitted, received, at = netlab.stop_ping(t)
            netlab.verdict_changes(t, transmitted, received, at, t.delays)
        except Fail as e:
            failures.append(str(e))
    if failures:
        raise Fail("; ".join(failures))


def scenario_haproxy(env):
    terms = []
    for i in range(SESSIONS):
        t = netlab.open_session(env, f"telnet{i + 1}")
        netlab.start_ping(t, f"e2e005{i + 1:02d}")
        t.delays = []
        terms.append(t)
    held = map_sessions(env, terms)
    time.sleep(netlab.PING_BEFORE_S)
    for old, new in zip(ADDRESSES, ADDRESSES[1:]):
        change(env, terms, old, new)
        time.sleep(netlab.PING_BETWEEN_S)
    check_routing(env, held)
    stop_all(terms)

    # An instance dies and comes back with its state directory: its sessions end at once.
    for t in terms:
        netlab.start_ping(t, f"e2e006{int(t.name[6:]):02d}")
        t.delays = []
    victims = [t for t in terms if t.instance == 1]
    others = [t for t in terms if t.instance != 1]
    p = env.daemons[env.sproxy_names[1]][0]
    os.killpg(p.pid, signal.SIGKILL)
    p.wait(timeout=10)
    log(f"instance 1 (pid {p.pid}) killed with SIGKILL; its sessions: "
        f"{', '.join(t.name for t in victims)}")
    time.sleep(3)
    cproxy_from = env.log_mark("cproxy")
    env.start_sproxy(1, "sproxy1-again")
    restarted = time.monotonic()
    log("instance 1 started again (same --instance, state directory and host key)")
    for t in victims:
        try:
            wait_until(lambda: t.proc.poll() is not None, ENDED_WITHIN_S, f"{t.name}'s telnet to end")
        except Fail:
            raise Fail(f"{t.name} (session {t.session} of instance 1) still runs {ENDED_WITHIN_S} s "
                       f"after instance 1 came back")
        log(f"{t.name}: telnet ended {time.monotonic() - restarted:.1f} s after the restart")
    text = env.log_text("cproxy", cproxy_from)
    for t in victims:
        if not re.search(rf"session {t.session}: closed: sproxy no longer knows this session", text):
            raise Fail(f"cproxy did not log that sproxy no longer knows session {t.session}")
    for t in others:
        if t.proc.poll() is not None:
            raise Fail(f"{t.name} (session {t.session} of instance 2) ended with instance 1")
        mark = t.mark()
        t.expect(r"icmp_seq=\d+ ", 5, start=mark, what="ping output after instance 1 came back")
    log(f"instance 1's sessions closed with the authenticated unknown-session refusal; "
        f"instance 2's sessions ({', '.join(t.name for t in others)}) run on")
    stop_all(others)
    log("PASS haproxy: resumes routed by instance across two address changes, every icmp_seq "
        "exactly once; a killed and restarted instance ends its own sessions only")


SCENARIOS = {"haproxy": scenario_haproxy}
ALL = ["haproxy"]


def preflight(args):
    return netlab.common_preflight(args, "network namespaces, inetd on port 23", ["haproxy"], "haproxy")


def main():
    return netlab.main("haproxy_e2e", __doc__, ALL, preflight, lambda args, i, name: netlab.run_env(
        args, name, HaEnv(args, i), SCENARIOS[name], SCENARIO_BUDGET_S))


if __name__ == "__main__":
    sys.exit(main())
