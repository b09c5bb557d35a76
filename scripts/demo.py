#!/usr/bin/env python3
"""The roamproxy demo: a telnet session that survives the client's address changing.

Start it through scripts/demo, which installs what is missing and builds the tree:

    sudo scripts/demo                  # plays the scenario, prints what happens and a verdict
    sudo scripts/demo --interactive    # drops you into the telnet session instead
    sudo scripts/demo --no-address-watch   # cproxy too detects the loss by heartbeats only

On one machine, two network namespaces joined by a veth pair stand for the two hosts:

    server  192.0.2.1/24   inetd + telnetd on :23, sproxy on :6200
    client  192.0.2.2/24   cproxy 192.0.2.1 on 127.0.0.1:5200, telnet localhost 5200

The scenario runs `ping -i 0.2 127.0.0.1` inside telnet, removes the client's address for
5 s, adds 192.0.2.3, stops ping and checks that every icmp_seq arrived exactly once. cproxy
notices at once that its address is gone (it watches the host's addresses) and sproxy after
three missed heartbeats; with --no-address-watch cproxy too waits for three missed heartbeats.

The namespaces, daemons and telnet come from the netlab library (tools/netlab), which the
end-to-end tests are built on too, so the demo and the tests do the same thing.
Only 192.0.2.0/24 (reserved for documentation) and loopback are used, inside namespaces this
script creates; everything is removed on exit, on Ctrl-C and on SIGTERM.

Exit status: 0 the session survived (or the interactive session ended normally), 1 it did
not, 2 cannot run, 130 interrupted.
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.dont_write_bytecode = True          # no __pycache__ left in the source tree
sys.path.insert(0, os.path.join(REPO, "tools"))
import netlab                           # noqa: E402  (after the path is set)

# Own namespace names, so the demo never touches a test run's namespaces and vice versa.
NS_PREFIX = "rpdemo"
PING_MARKER = "d3e0d3e0"
# Telnet control bytes in the session's output, and the time the proxies' own log lines start
# with (the narrator prints its own).
UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\xff]")
LOG_TIME = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} ")


def say(msg):
    netlab.log(msg)


class Narrator:
    """Prints, as they arrive, the telnet session's lines and the proxies' log lines."""

    def __init__(self, env):
        self.env = env
        self.term = None
        self.term_pos = 0
        self.logs = {}          # daemon name -> bytes already read
        self.partial = {}       # source -> incomplete last line
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="demo-narrator", daemon=True)

    def start(self):
        self.thread.start()

    def follow(self, term):
        self.term = term
        self.term_pos = term.mark()

    def close(self):
        self.stop.set()
        self.thread.join(timeout=2)
        self._poll()

    def _run(self):
        while not self.stop.wait(0.05):
            self._poll()

    def _poll(self):
        for name in ("cproxy", "sproxy"):
            if name in self.env.daemons:
                path = self.env.daemons[name][1]
                try:
                    with open(path, "rb") as f:
                        f.seek(self.logs.get(name, 0))
                        data = f.read()
                except OSError:
                    continue
                self.logs[name] = self.logs.get(name, 0) + len(data)
                self._lines(name, data.decode(errors="replace"))
        t = self.term
        if t is not None:
            with t.cond:
                data = t.text[self.term_pos:]
                self.term_pos = len(t.text)
            self._lines("telnet", data)

    def _lines(self, source, text):
        text = self.partial.pop(source, "") + text.replace("\r", "")
        lines = text.split("\n")
        if lines[-1]:
            self.partial[source] = lines[-1]
        for line in lines[:-1]:
            line = LOG_TIME.sub("", UNPRINTABLE.sub("", line))
            if line.strip():
                netlab.log(f"  {source:6} | {line}")


def parse_args():
    ap = argparse.ArgumentParser(
        prog="scripts/demo", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--interactive", action="store_true",
                    help="put you in the telnet session; change the address from a second terminal")
    ap.add_argument("--dist", default=os.path.join(REPO, "target", "roamproxy"),
                    help="the packaged tree with bin/cproxy and bin/sproxy (default: %(default)s)")
    ap.add_argument("--log-level", default="INFO",
                    help="ROAMPROXY_LOG_LEVEL of the proxies (default: %(default)s)")
    ap.add_argument("--no-address-watch", action="store_true",
                    help="start cproxy with --no-address-watch: it too detects the lost link by "
                         "three missed heartbeats")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir with logs and transcripts")
    args = ap.parse_args()
    args.dist = os.path.abspath(args.dist)
    return args


def harness_args(args):
    """The attributes netlab's Env and common_preflight read."""
    return types.SimpleNamespace(dist=args.dist, log_level=args.log_level,
                                 cproxy_args=["--no-address-watch"] if args.no_address_watch else [])


def play(env):
    """The scenario of the README, narrated. Returns the one-line verdict; raises netlab.Fail."""
    narrator = Narrator(env)
    narrator.start()
    try:
        say(f"client$ telnet localhost 5200   (through cproxy -> {netlab.SERVER_ADDR}:6200 -> sproxy "
            "-> telnetd)")
        t = netlab.open_session(env, "telnet")
        narrator.follow(t)
        say("telnet$ ping -i 0.2 127.0.0.1   (five lines a second, numbered by icmp_seq)")
        netlab.start_ping(t, PING_MARKER)
        time.sleep(netlab.PING_BEFORE_S)
        who = ("both proxies notice after three missed heartbeats" if env.args.cproxy_args else
               "cproxy notices at once, sproxy after three missed heartbeats")
        say(f"removing the client's address {netlab.CLIENT_ADDR}: the link breaks ({who}), ping "
            f"output stops; in {netlab.OUTAGE_S:.0f} s the client gets {netlab.CLIENT_NEW_ADDR}")
        t_del, t_add, offs = netlab.change_address(env, [t])
        delay, seq = netlab.wait_resumed(t, offs[t.name], t_add)
        say(f"ping output is back {delay:.2f} s after the new address (first line: icmp_seq={seq}); "
            f"the link now comes from {netlab.link_sources(env)}")
        netlab.check_quiet_during_outage(t, t_del, t_add)
        time.sleep(netlab.PING_AFTER_S)
        say("telnet$ ^C   (ping prints its statistics)")
        transmitted, received, at = netlab.stop_ping(t)
        time.sleep(0.2)
    finally:
        narrator.close()
    netlab.verdict(t, transmitted, received, at, delay)   # raises Fail on a gap, repeat or slow resume
    return (f"icmp_seq 1..{transmitted}: none missing, none repeated; "
            f"resumed {delay:.2f} s after the new address")


def interact(env):
    """Runs telnet on this terminal until the user leaves it. Returns its exit status."""
    cli = env.cli
    move = (f"ip -n {cli} addr del {netlab.CLIENT_ADDR}/{netlab.PREFIX} dev {netlab.IFACE}; sleep 5; "
            f"ip -n {cli} addr add {netlab.CLIENT_NEW_ADDR}/{netlab.PREFIX} dev {netlab.IFACE}")
    logs = " ".join(env.daemons[n][1] for n in ("cproxy", "sproxy"))
    print(f"""
  You are about to log in to the "server" with telnet, through cproxy and sproxy.
  Start something that keeps talking, for example:

      ping -i 0.2 127.0.0.1

  Then, in a second terminal, take the client's address away and give it a new one:

      sudo sh -c '{move}'

  The ping output stops while there is no address and resumes, with no icmp_seq missing
  or repeated, right after the new one appears. The proxies' logs:

      sudo tail -f {logs}

  Leave with `exit` (or Ctrl-] then `quit`); the demo then removes everything it made.
""", flush=True)
    argv = env.in_cli("telnet", "localhost", "5200")
    # Ctrl-C belongs to the telnet session (ping in it), not to this script.
    saved = signal.signal(signal.SIGINT, signal.SIG_IGN)
    proc = subprocess.Popen(argv, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        return proc.wait()
    finally:
        signal.signal(signal.SIGINT, saved)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if sys.stdin.isatty():
            subprocess.run(["stty", "sane"], check=False)


def main():
    args = parse_args()
    hargs = harness_args(args)
    problems = netlab.common_preflight(hargs, "network namespaces, inetd on port 23", (),
                                       "nftables")
    if problems:
        for p in problems:
            print(f"demo: cannot run: {p}", file=sys.stderr, flush=True)
        return 2
    netlab.catch_signals()
    netlab.become_subreaper()
    env = None
    ok = failed = False
    try:
        netlab.remove_stale_namespaces(NS_PREFIX)
        env = netlab.Env(hargs, 0, False, prefix=NS_PREFIX)
        say("setting up: two network namespaces, a veth pair, telnetd, sproxy and cproxy")
        env.start()
        if args.interactive:
            interact(env)
            ok = True
        else:
            line = play(env)
            ok = True
            print(f"\ndemo: PASS: {line}", flush=True)
    except netlab.Interrupted as e:
        say(f"interrupted by {e}; cleaning up")
        return 130
    except netlab.Fail as e:
        failed = True
        print(f"\ndemo: FAIL: {e}", flush=True)
    finally:
        if env is not None:
            with netlab.signals_ignored():
                if failed:
                    env.dump()
                env.close(args.keep)
                say("removed the namespaces, daemons and temp files")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
