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

import argparse
import bisect
import collections
import fcntl
import ipaddress
import os
import re
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import traceback

SERVER_ADDR = "192.0.2.1"
CLIENT_ADDR = "192.0.2.2"
CLIENT_NEW_ADDR = "192.0.2.3"
PREFIX = 24
IFACE = "eth1"
NS_PREFIX = "rpe2e"
PROMPT = "rp-e2e$ "
PROMPT_RE = re.escape(PROMPT)
PING_LINE_RE = re.compile(r"icmp_seq=(\d+) ")
STATS_RE = re.compile(r"(\d+) packets transmitted, (\d+) received")

RESUME_LIMIT_S = 1.0        # verdict(), the demo's only: ping output back this soon after the new address
OLD_SESSION_GONE_S = 30.0   # abandon: only against a hang (the detach timeout is 15 min)
SCENARIO_BUDGET_S = 120     # hard cap per scenario, hang => failure
PING_BEFORE_S = 3.0         # ping output before the address is removed
OUTAGE_S = 5.0              # time without any address (> 3 missed heartbeats)
PING_AFTER_S = 3.0          # ping output after the resume, before Ctrl-C
LOSS_PERCENT = 10           # loss: share of packets dropped, each way, on the client's veth
LOSS_TABLE = "rpe2e_loss"   # loss: the nftables table, in the client namespace only
CHANGES = 5                 # inplace, gateway: address changes in one run (--repeat: other)
PING_BETWEEN_S = 2.0        # ping output between two address changes
GATEWAY_OUTAGES_S = (0.5, 1.5, 3.0, 4.5, 6.0)   # gateway: time without eth1 address, in turn
DUALSTACK_OUTAGE_S = 1.0    # dualstack: time without any address when changing networks
LOG_WAIT_S = 5.0            # an expected log line must be in the log file this soon
GW_IFACE = "eth0"           # gateway: the client's second interface, veth to the gateway
GW_ADDR = "198.51.100.1"    # gateway: its address, the client's default route
GW_CLIENT_ADDR = "198.51.100.2"
GW_TABLE = "rpe2e_gw"       # gateway: the nftables table, in the gateway namespace only
SERVER_ADDR6 = "2001:db8::1"
PREFIX6 = 64
SERVER_NAME = "roamserver"  # dualstack: what cproxy dials; the client's hosts file has both
RESUMED_RE = re.compile(r"resumed over link (\S+) -> (\S+)")
REMOVED_RE = re.compile(r"local address \[?([0-9A-Fa-f:.]+?)\]? removed")

T0 = time.monotonic()


def log(msg):
    print(f"[{time.monotonic() - T0:7.2f}s] {msg}", flush=True)


class Fail(Exception):
    """A scenario assertion failed (or the environment broke during a scenario)."""


class Interrupted(BaseException):
    """SIGTERM/SIGHUP/SIGINT: stop now, but clean up first."""


def _on_signal(signum, _frame):
    raise Interrupted(signal.Signals(signum).name)


def _on_alarm(_signum, _frame):
    raise Fail(f"scenario exceeded its {_budget_s} s budget (something hung)")


_budget_s = SCENARIO_BUDGET_S


def run(argv, timeout=15, check=True):
    """Run a short command, bounded by a timeout; raise Fail on error."""
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Fail(f"command timed out after {timeout} s: {shlex.join(argv)}")
    out = p.stdout.decode(errors="replace")
    if check and p.returncode != 0:
        raise Fail(f"command failed ({p.returncode}): {shlex.join(argv)}\n{out}")
    return out


def wait_until(pred, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise Fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


# ---------------------------------------------------------------- processes by pid

def proc_identity(pid):
    """(starttime, state) of a live pid, or None. Zombies count as gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    state, starttime = fields[0], fields[19]
    if state in ("Z", "X"):
        return None
    return starttime


def proc_alive(pid, identity):
    return identity is not None and proc_identity(pid) == identity


def find_ping(marker):
    """pid of the ping whose command line carries `-p marker`."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and os.path.basename(argv[0]) == b"ping" and marker.encode() in argv:
            return int(d)
    return None


# ---------------------------------------------------------------- telnet through a pty

class Term:
    """A program (telnet) on its own pty; a thread records every byte with its arrival time."""

    def __init__(self, name, argv, tmp):
        self.name = name
        self.cond = threading.Condition()
        self.text = ""          # latin-1 decoded, so offsets are byte offsets
        self.ends = []          # end offset of each chunk read ...
        self.times = []         # ... and when it arrived (monotonic)
        self.eof = False
        self.transcript_path = os.path.join(tmp, f"{name}.transcript")
        self.transcript = open(self.transcript_path, "wb")
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
        env = dict(os.environ, TERM="vt100")
        # setsid -c: own session with this pty as controlling terminal (no fork: exec chain
        # setsid -> ip netns exec -> telnet keeps Popen's pid).
        self.proc = subprocess.Popen(["setsid", "-c"] + argv, stdin=slave, stdout=slave,
                                     stderr=slave, close_fds=True, env=env)
        os.close(slave)
        self.thread = threading.Thread(target=self._reader, name=f"pty-{name}", daemon=True)
        self.thread.start()
        self.shell_pid = None
        self.shell_id = None
        self.ping_start = None
        self.marker = None
        self.ping_pid = None
        self.ping_id = None

    def _reader(self):
        while True:
            try:
                b = os.read(self.master, 65536)
            except OSError:
                break
            if not b:
                break
            t = time.monotonic()
            self.transcript.write(b)
            self.transcript.flush()
            with self.cond:
                self.text += b.decode("latin-1")
                self.ends.append(len(self.text))
                self.times.append(t)
                self.cond.notify_all()
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def send(self, s):
        os.write(self.master, s.encode())

    def mark(self):
        with self.cond:
            return len(self.text)

    def arrival(self, offset):
        """When the byte at `offset` arrived."""
        with self.cond:
            i = bisect.bisect_right(self.ends, offset)
            return self.times[i] if i < len(self.times) else None

    def expect(self, pattern, timeout, start=0, what=None):
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                m = rx.search(self.text, start)
                if m:
                    return m
                if self.eof:
                    raise Fail(f"{self.name}: telnet ended while waiting for {what or pattern!r}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Fail(f"{self.name}: no {what or repr(pattern)} within {timeout} s")
                self.cond.wait(min(left, 0.5))

    def tail(self, n=2500):
        with self.cond:
            return self.text[-n:].replace("\r", "")

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.kill()
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self.thread.join(timeout=2)
        try:
            os.close(self.master)
        except OSError:
            pass
        self.transcript.close()


# ---------------------------------------------------------------- the two hosts

class Env:
    """Two namespaces, a veth pair, inetd+telnetd, and (unless direct) sproxy and cproxy.

    gateway: a third namespace behind the client's eth0 that drops everything, and the
    client's default route through it. dualstack: the server also has SERVER_ADDR6, and
    cproxy dials SERVER_NAME, which the client namespace's own hosts file maps to both.
    args.cproxy_args (optional) are options for cproxy."""

    def __init__(self, args, index, direct, gateway=False, dualstack=False):
        self.args = args
        self.direct = direct
        self.gateway = gateway
        self.dualstack = dualstack
        tag = f"{NS_PREFIX}-{os.getpid()}-{index}"
        self.srv = f"{tag}-srv"
        self.cli = f"{tag}-cli"
        self.gw = f"{tag}-gw"
        self.server = SERVER_NAME if dualstack else SERVER_ADDR
        self.tmp = tempfile.mkdtemp(prefix=f"{tag}-")
        self.namespaces = []
        self.etc_netns = None       # /etc/netns/<client ns>, if this run made it
        self.made_etc_netns_root = False
        self.daemons = {}       # name -> (Popen, log path)
        self.terms = []

    # -- helpers
    def in_srv(self, *argv):
        return ["ip", "netns", "exec", self.srv, *argv]

    def in_cli(self, *argv):
        return ["ip", "netns", "exec", self.cli, *argv]

    def client_ip(self, *argv):
        log(f"client# ip {' '.join(argv)}")
        run(["ip", "-n", self.cli, *argv])

    def listening(self, ns, port):
        out = run(["ip", "netns", "exec", ns, "ss", "-Hltn", f"sport = :{port}"], check=False)
        return bool(out.strip())

    def daemon(self, name, argv, env=None):
        path = os.path.join(self.tmp, f"{name}.log")
        f = open(path, "wb")
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT,
                             env=env, start_new_session=True)
        f.close()
        self.daemons[name] = (p, path)
        return p

    def wait_listening(self, name, ns, port, timeout):
        p = self.daemons[name][0]

        def up():
            if p.poll() is not None:
                raise Fail(f"{name} exited with status {p.returncode} before listening on {port}")
            return self.listening(ns, port)
        wait_until(up, timeout, f"{name} to listen on port {port}", interval=0.1)

    def telnet(self, name):
        if self.direct:
            argv = self.in_cli("telnet", SERVER_ADDR, "23")
        else:
            argv = self.in_cli("telnet", "localhost", "5200")
        t = Term(name, argv, self.tmp)
        self.terms.append(t)
        return t

    # -- setup
    def start(self):
        self.start_network()
        self.start_inetd()
        if not self.direct:
            self.start_proxies()

    def start_network(self):
        """The namespaces and the veth pair between them (and the gateway, the hosts file),
        without any service: what bench/run builds on."""
        for ns in (self.srv, self.cli) + ((self.gw,) if self.gateway else ()):
            run(["ip", "netns", "add", ns])
            self.namespaces.append(ns)
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
        run(["ip", "-n", self.srv, "link", "add", IFACE, "type", "veth",
             "peer", "name", IFACE, "netns", self.cli])
        run(["ip", "-n", self.srv, "addr", "add", f"{SERVER_ADDR}/{PREFIX}", "dev", IFACE])
        if self.dualstack:
            run(["ip", "-n", self.srv, "addr", "add", f"{SERVER_ADDR6}/{PREFIX6}", "dev", IFACE,
                 "nodad"])
        run(["ip", "-n", self.cli, "addr", "add", f"{CLIENT_ADDR}/{PREFIX}", "dev", IFACE])
        for ns in (self.srv, self.cli):
            run(["ip", "-n", ns, "link", "set", IFACE, "up"])
        wait_until(lambda: run(self.in_cli("ping", "-c", "1", "-W", "1", SERVER_ADDR),
                               check=False).find(" 0% packet loss") >= 0,
                   10, f"{SERVER_ADDR} reachable from the client namespace", interval=0.2)
        log(f"namespaces {self.srv} ({SERVER_ADDR}"
            f"{', ' + SERVER_ADDR6 if self.dualstack else ''}) and {self.cli} ({CLIENT_ADDR}) "
            f"joined by veth {IFACE}")
        if self.gateway:
            self.start_gateway()
        if self.dualstack:
            self.write_hosts()

    def start_gateway(self):
        """The lab VM's useless eth0: a veth to a namespace that drops every packet, and the
        client's default route through it. Without an eth1 address, connects to the server
        leave by this route and hang instead of failing at once ("network is unreachable")."""
        run(["ip", "-n", self.gw, "link", "add", GW_IFACE, "type", "veth",
             "peer", "name", GW_IFACE, "netns", self.cli])
        run(["ip", "-n", self.gw, "addr", "add", f"{GW_ADDR}/{PREFIX}", "dev", GW_IFACE])
        run(["ip", "-n", self.cli, "addr", "add", f"{GW_CLIENT_ADDR}/{PREFIX}", "dev", GW_IFACE])
        for ns in (self.gw, self.cli):
            run(["ip", "-n", ns, "link", "set", GW_IFACE, "up"])
        run(["ip", "-n", self.cli, "route", "add", "default", "via", GW_ADDR, "dev", GW_IFACE])
        rules = os.path.join(self.tmp, "gateway.nft")
        with open(rules, "w") as f:
            f.write(f"table inet {GW_TABLE} {{\n"
                    f"  chain drop_all {{\n"
                    f"    type filter hook prerouting priority 0; policy drop;\n"
                    f"    ip daddr {SERVER_ADDR} counter\n"
                    f"  }}\n"
                    f"}}\n")
        run(["ip", "netns", "exec", self.gw, "nft", "-f", rules])
        log(f"gateway namespace {self.gw} ({GW_ADDR}) behind the client's {GW_IFACE} "
            f"({GW_CLIENT_ADDR}): client's default route, drops every packet (nftables)")

    def gateway_drops(self):
        """Packets bound for the server that reached the gateway (and were dropped there)."""
        out = run(["ip", "netns", "exec", self.gw, "nft", "list", "table", "inet", GW_TABLE])
        m = re.search(r"counter packets (\d+)", out)
        if not m:
            raise Fail(f"cannot read the gateway's counter:\n{out}")
        return int(m.group(1))

    def write_hosts(self):
        """/etc/netns/<client ns>/hosts, which `ip netns exec` bind-mounts over /etc/hosts for
        what runs in the client namespace (and nothing else): SERVER_NAME has both addresses."""
        root = "/etc/netns"
        self.made_etc_netns_root = not os.path.isdir(root)
        path = os.path.join(root, self.cli)
        os.makedirs(path)
        self.etc_netns = path
        with open(os.path.join(path, "hosts"), "w") as f:
            f.write("127.0.0.1 localhost\n"
                    "::1 localhost ip6-localhost ip6-loopback\n"
                    f"{SERVER_ADDR} {SERVER_NAME}\n"
                    f"{SERVER_ADDR6} {SERVER_NAME}\n")
        # getent ahosts would hide the IPv6 address while the client has none (AI_ADDRCONFIG):
        # check what the namespace sees as /etc/hosts, and that the name resolves at all.
        seen = run(self.in_cli("cat", "/etc/hosts"))
        resolved = run(self.in_cli("getent", "ahosts", SERVER_NAME), check=False)
        if f"{SERVER_ADDR6} {SERVER_NAME}" not in seen or SERVER_ADDR not in resolved:
            raise Fail(f"the client namespace does not see {path}/hosts as /etc/hosts "
                       f"(or {SERVER_NAME} does not resolve there):\n{seen}\n{resolved}")
        log(f"client namespace's /etc/hosts ({path}/hosts) maps {SERVER_NAME} to {SERVER_ADDR} "
            f"and {SERVER_ADDR6}")

    def start_inetd(self):
        sh = shutil.which("sh")
        login = os.path.join(self.tmp, "login.sh")
        with open(login, "w") as f:
            f.write(f"#!{sh}\n"
                    "# Run by telnetd instead of login(1): a shell without account or password.\n"
                    f"PATH={shlex.quote(os.environ.get('PATH', ''))}; export PATH\n"
                    f"PS1={shlex.quote(PROMPT)}; export PS1\n"
                    "unset ENV\n"
                    f"exec {shlex.quote(sh)} -i\n")
        os.chmod(login, 0o755)
        telnetd = shutil.which("telnetd") or shutil.which("in.telnetd")
        conf = os.path.join(self.tmp, "inetd.conf")
        with open(conf, "w") as f:
            f.write(f"telnet stream tcp nowait root {telnetd} telnetd -h -E {login}\n")
        # inetd writes its pid file under /run even in debug mode: give it a private /run
        # (tmpfs in its own mount namespace) so the host's pid file and utmp are untouched.
        inner = (f"mount -t tmpfs -o mode=0755 e2e-run /run && "
                 f"exec inetd -d {shlex.quote(conf)}")
        self.daemon("inetd", self.in_srv("unshare", "-m", "sh", "-c", inner))
        self.wait_listening("inetd", self.srv, 23, 10)
        log("inetd + telnetd listening on :23 in the server namespace")
        # Sanity: plain telnet to telnetd inside the server namespace gives a working shell.
        t = Term("telnetd-check", self.in_srv("telnet", "127.0.0.1", "23"), self.tmp)
        self.terms.append(t)
        t.expect(PROMPT_RE, 15, what="shell prompt from telnetd")
        t.send("echo TELNETD-$((6*7))-OK\r")
        t.expect(r"TELNETD-42-OK", 5, what="echo output from the telnetd shell")
        t.send("exit\r")
        try:
            t.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            raise Fail("telnet to telnetd did not end after `exit`")
        log("telnet -> telnetd gives a shell without password: OK")

    def proxy_env(self):
        """The proxies' environment. Their state directory (sproxy's host key, cproxy's known
        host keys) and runtime directory (the --status sockets) are in the temp dir, so nothing
        is written under ~ and no other roamproxy on this machine is in the way."""
        run_dir = os.path.join(self.tmp, "run")
        os.makedirs(run_dir, mode=0o700, exist_ok=True)
        env = dict(os.environ, ROAMPROXY_LOG_LEVEL=self.args.log_level,
                   XDG_STATE_HOME=os.path.join(self.tmp, "state"), XDG_RUNTIME_DIR=run_dir)
        for var in ("STATE_DIRECTORY", "RUNTIME_DIRECTORY"):
            env.pop(var, None)
        return env

    def start_proxies(self):
        """sproxy and cproxy from the packaged tree, in proxy_env()."""
        dist = self.args.dist
        env = self.proxy_env()
        s_opts, c_opts = [], []
        c_opts += list(getattr(self.args, "cproxy_args", None) or [])
        self.daemon("sproxy", self.in_srv(os.path.join(dist, "bin", "sproxy"), *s_opts), env)
        self.wait_listening("sproxy", self.srv, 6200, 30)
        self.daemon("cproxy", self.in_cli(os.path.join(dist, "bin", "cproxy"), *c_opts,
                                          self.server), env)
        self.wait_listening("cproxy", self.cli, 5200, 30)
        log(f"sproxy {shlex.join(s_opts) + ' ' if s_opts else ''}listening on :6200, cproxy "
            f"{shlex.join(c_opts + [self.server])} listening on 127.0.0.1:5200")

    def log_mark(self, name):
        """The current end of a daemon's log, for log_text(name, start=...)."""
        try:
            return os.path.getsize(self.daemons[name][1])
        except OSError:
            return 0

    def log_text(self, name, start=0):
        with open(self.daemons[name][1], "rb") as f:
            f.seek(start)
            return f.read().decode(errors="replace")

    # -- reporting and teardown
    def dump(self):
        for name, (p, path) in self.daemons.items():
            print(f"----- {name} log ({path}) -----", flush=True)
            try:
                with open(path, "rb") as f:
                    lines = f.read().decode(errors="replace").splitlines()
            except OSError as e:
                lines = [f"(cannot read: {e})"]
            if len(lines) > 400:
                print(f"... {len(lines) - 400} earlier lines omitted ...")
            print("\n".join(lines[-400:]), flush=True)
        for t in self.terms:
            print(f"----- {t.name} telnet transcript (tail) -----", flush=True)
            print(t.tail(), flush=True)
        print("----- end -----", flush=True)

    def close(self, keep):
        for t in self.terms:
            t.close()
        for name, (p, _) in self.daemons.items():
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for name, (p, _) in self.daemons.items():
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                log(f"{name} ignored SIGTERM; killing it")
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        for ns in list(self.namespaces):
            kill_namespace_processes(ns)
            run(["ip", "netns", "del", ns], check=False)
            self.namespaces.remove(ns)
        if self.etc_netns:
            shutil.rmtree(self.etc_netns, ignore_errors=True)
            self.etc_netns = None
            if self.made_etc_netns_root:
                try:
                    os.rmdir("/etc/netns")      # only if this run made it and it is empty
                except OSError:
                    pass
        time.sleep(0.1)
        reap_orphans()
        if keep:
            log(f"kept logs and transcripts in {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def kill_namespace_processes(ns):
    """SIGKILL what is still running in a namespace this script created (telnetd, shells, pings)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        out = run(["ip", "netns", "pids", ns], check=False, timeout=5)
        pids = [int(x) for x in out.split() if x.isdigit()]
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)


def become_subreaper():
    """Orphans of killed shells/telnetds get reparented to us (not to a pid 1 that may never
    reap them), so cleanup can reap them instead of leaving zombies behind."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except Exception:
        pass


def reap_orphans():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def remove_stale_namespaces():
    """Namespaces left by an earlier run of this script that was SIGKILLed."""
    out = run(["ip", "netns", "list"], check=False)
    for line in out.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.fullmatch(rf"{NS_PREFIX}-(\d+)-\d+-(srv|cli|gw)", name)
        if not m:
            continue
        pid = int(m.group(1))
        if pid == os.getpid() or os.path.exists(f"/proc/{pid}"):
            continue
        log(f"removing stale namespace {name} from an earlier run")
        kill_namespace_processes(name)
        run(["ip", "netns", "del", name], check=False)
    if os.path.isdir("/etc/netns"):
        for name in os.listdir("/etc/netns"):
            m = re.fullmatch(rf"{NS_PREFIX}-(\d+)-\d+-cli", name)
            if m and int(m.group(1)) != os.getpid() and not os.path.exists(f"/proc/{m.group(1)}"):
                log(f"removing stale /etc/netns/{name} from an earlier run")
                shutil.rmtree(os.path.join("/etc/netns", name), ignore_errors=True)


# ---------------------------------------------------------------- session steps

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


# ---------------------------------------------------------------- scenarios

# ---------------------------------------------------------------- address changes, repeated

Change = collections.namedtuple("Change", "old new outage")     # addresses; seconds without
Resume = collections.namedtuple("Resume", "delay seq local peer log_start")


def v4(i):
    """The i-th client IPv4 address: 192.0.2.2 (CLIENT_ADDR), .3 (CLIENT_NEW_ADDR), ..."""
    return f"192.0.2.{2 + i}"


def ip_args(addr):
    """`ip addr add|del` arguments for a client address; IPv6 ones skip duplicate detection."""
    if ":" in addr:
        return [f"{addr}/{PREFIX6}", "dev", IFACE, "nodad"]
    return [f"{addr}/{PREFIX}", "dev", IFACE]


def endpoint_ip(text):
    """The address in a logged endpoint: 192.0.2.3:41000, [2001:db8:0:0:0:0:0:2]:41000."""
    host = text.rstrip(",;").rsplit("/", 1)[-1]
    host = host[1:host.find("]")] if host.startswith("[") else host.rsplit(":", 1)[0]
    try:
        return ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        raise Fail(f"cannot read an address in the logged endpoint {text!r}")


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
    roam_through(env, "roam", "e2e00001",
                 [Change(v4(i), v4(i + 1), OUTAGE_S) for i in range(repeat(env, 1))])


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
    n = repeat(env, CHANGES)
    roam_through(env, "inplace", "e2e00501", [Change(v4(i), v4(i + 1), 0) for i in range(n)],
                 check=None if watch_off else removal_noticed)


def scenario_gateway(env):
    n = repeat(env, CHANGES)
    outages = [GATEWAY_OUTAGES_S[i % len(GATEWAY_OUTAGES_S)] for i in range(n)]
    roam_through(env, "gateway", "e2e00601", [Change(v4(i), v4(i + 1), outages[i])
                                               for i in range(n)])
    dropped = env.gateway_drops()
    log(f"gateway: dropped {dropped} packets bound for {SERVER_ADDR} (sent by the default route)")
    if dropped == 0:
        raise Fail("no packet for the server reached the black-holing gateway: the default route "
                   "carried nothing during the outages, so this run proves nothing")


def dual_addr(i):
    """Client addresses for dualstack, alternating families: 192.0.2.2, 2001:db8::2,
    192.0.2.3, 2001:db8::3, ..."""
    return f"2001:db8::{2 + i // 2}" if i % 2 else v4(i // 2)


def scenario_dualstack(env):
    def server_of_same_family(env, ch, r):
        want = ipaddress.ip_address(SERVER_ADDR6 if ":" in ch.new else SERVER_ADDR)
        if r.peer != want:
            raise Fail(f"after the move to {ch.new} cproxy resumed over the server address "
                       f"{r.peer}, not {want}")
    n = repeat(env, 2)
    roam_through(env, "dualstack", "e2e00701",
                 [Change(dual_addr(i), dual_addr(i + 1), DUALSTACK_OUTAGE_S) for i in range(n)],
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

BASE_TOOLS = ["ip", "ss", "inetd", "telnet", "ping", "setsid", "unshare", "mount", "sh"]
BASE_PACKAGES = "telnetd openbsd-inetd telnet iputils-ping iproute2 util-linux"


def common_preflight(args, why_root, tools=(), packages="", dist=True):
    """What every harness on this namespace set-up checks before it starts: root (`why_root`
    says what for), BASE_TOOLS and `tools` with the Debian packages that bring them
    (BASE_PACKAGES and `packages`), telnetd, and, if `dist`, the packaged bin/ scripts.
    Returns the problems found, each a line for the user."""
    problems = []
    if os.geteuid() != 0:
        problems.append(f"must run as root ({why_root})")
    missing = [x for x in BASE_TOOLS + list(tools) if not shutil.which(x)]
    if not (shutil.which("telnetd") or shutil.which("in.telnetd")):
        missing.append("telnetd")
    if missing:
        problems.append(f"missing tools: {' '.join(missing)} (Debian: apt-get install -y "
                        f"{' '.join([BASE_PACKAGES] + ([packages] if packages else []))})")
    if dist:
        for b in ("cproxy", "sproxy"):
            if not os.access(os.path.join(args.dist, "bin", b), os.X_OK):
                problems.append(f"{args.dist}/bin/{b} not found or not executable "
                                "(build with: mvn -q -DskipTests package)")
    return problems


def preflight(args):
    tools = []
    if {"loss", "gateway"} & set(args.scenarios):
        tools.append("nft")
    if "dualstack" in args.scenarios:
        tools.append("getent")
    return common_preflight(args, "network namespaces, inetd on port 23", tools, "nftables",
                            dist=any(not SCENARIOS[s].direct for s in args.scenarios))


def run_env(args, name, env, fn, budget_s=SCENARIO_BUDGET_S):
    """Starts `env`, runs `fn(env)` within `budget_s`, and always cleans up (also on a second
    Ctrl-C or a SIGTERM from CI); dumps logs and transcripts on failure. True if it passed.
    Every harness under src/test/e2e runs its scenarios through this."""
    global _budget_s
    log(f"===== scenario {name} =====")
    ok = False
    _budget_s = budget_s
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(budget_s)
    try:
        env.start()
        fn(env)
        ok = True
    except Fail as e:
        log(f"FAIL {name}: {e}")
    except Exception:
        log(f"FAIL {name}: harness error\n{traceback.format_exc()}")
    finally:
        signal.alarm(0)
        # Finish cleanup even if the user presses Ctrl-C again or CI sends SIGTERM.
        saved = {s: signal.signal(s, signal.SIG_IGN)
                 for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        try:
            if not ok:
                env.dump()
            env.close(args.keep or not ok and args.keep_on_failure)
        finally:
            for s, h in saved.items():
                signal.signal(s, h)
    return ok


def run_scenario(args, index, name):
    sc = SCENARIOS[name]
    env = Env(args, index, sc.direct, gateway=sc.gateway, dualstack=sc.dualstack)
    # --repeat: each change costs at most its outage (<= 6 s), the ping between and the resume.
    return run_env(args, name, env, sc.fn, SCENARIO_BUDGET_S + 15 * (getattr(args, "repeat", None) or 0))


def argument_parser(doc, all_names):
    """The options every harness under src/test/e2e takes: --dist, --log-level, --keep,
    --keep-on-failure and the scenarios (default all)."""
    here = os.path.dirname(os.path.abspath(__file__))          # src/test/e2e
    repo = os.path.dirname(os.path.dirname(os.path.dirname(here)))
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="SCENARIO: " + ", ".join(all_names) + " or all (default)")
    ap.add_argument("--dist", default=os.path.join(repo, "target", "roamproxy"),
                    help="the packaged tree with bin/cproxy and bin/sproxy "
                         "(default: target/roamproxy of this checkout)")
    ap.add_argument("--log-level", default="DEBUG",
                    help="ROAMPROXY_LOG_LEVEL for the proxies (default: %(default)s)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir with logs and transcripts")
    ap.add_argument("--keep-on-failure", action="store_true",
                    help="keep the temp dir only when a scenario fails")
    ap.add_argument("scenarios", nargs="*", default=["all"], metavar="SCENARIO")
    return ap


def scenario_names(ap, args, all_names):
    """The scenarios asked for, `all` expanded; an unknown one is a usage error."""
    names = []
    for s in args.scenarios:
        if s == "all":
            names += all_names
        elif s in all_names:
            names.append(s)
        else:
            ap.error(f"unknown scenario {s!r}; choose from {', '.join(all_names)}, all")
    args.scenarios = names
    args.dist = os.path.abspath(args.dist)
    return names


def run_all(prog, problems, names, run):
    """Runs `run(index, name)` for each scenario after the preflight `problems` (exit 2 if
    any), with signal handling, child reaping and stale-namespace removal; logs one verdict
    per scenario. Exit status: 0 all passed, 1 one failed, 2 cannot run, 130 interrupted."""
    if problems:
        for p in problems:
            print(f"{prog}: cannot run: {p}", file=sys.stderr, flush=True)
        return 2
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _on_signal)
    become_subreaper()
    results = {}
    try:
        remove_stale_namespaces()
        for i, name in enumerate(names):
            results[name] = run(i, name)
    except Interrupted as e:
        log(f"interrupted by {e}; cleaned up")
        return 130
    for name, ok in results.items():
        log(f"{'PASS' if ok else 'FAIL'} {name}")
    return 0 if all(results.values()) else 1


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
