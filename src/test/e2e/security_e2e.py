#!/usr/bin/env python3
"""End-to-end security tests of roamproxy (link protocol version 3): what an attacker on the
client's network, on the path between the proxies, or anywhere that reaches sproxy's port
can do. Run the way the user runs it, with default settings (every frame after the opening
handshake is encrypted and authenticated; there is no option for it).

Built on the netlab library (tools/netlab): its two namespaces joined by a veth pair, inetd +
telnetd, the packaged bin/sproxy and bin/cproxy (state directory in the temp dir, so sproxy's
host key and cproxy's known servers land there), telnet on a pty running
`ping -i 0.2 127.0.0.1`, the address changes and the gapless icmp_seq verdict. It adds a
THIRD host, the attacker, joined to the server by another veth pair:

    server namespace    192.0.2.1/24 (eth1)   198.51.100.1/24 (eth2)  sproxy on *:6200
    client namespace    192.0.2.2/24 -> 192.0.2.3/24 (-> .4) (eth1)   cproxy, telnet, tcpdump
    attacker namespace  198.51.100.2/24 (eth1)                        replays, relays, floods

Captures (`tcpdump` in the client namespace) are parsed with the standard library only (pcap
records, Ethernet, IPv4/IPv6, TCP reassembly by sequence number, roamproxy frames: a 24-byte
header magic 0x5250, version, type, length, seq, ack, in clear on every frame).

Scenarios (default: all):
  capture  tcpdump records the client's link (eth1, tcp port 6200) from before the login
           through an address change (192.0.2.2 removed, 5 s without, 192.0.2.3 added), and,
           as the control, telnet <-> cproxy on the client's loopback (port 5200), where the
           session is plain text by design. Typed marker `echo PASSWORD-<random>`, then ping.
           Asserts: neither the marker, nor `icmp_seq`, nor the shell's prompt (the login
           text) is in the link capture (raw file and every reassembled stream), while all
           three are in the loopback capture of the same run (the check can fail); the link
           carried at least as many bytes towards the client as telnet received. Parsed into
           frames: every frame is version 3; the new session shows HELLO NEW, WELCOME
           NEW_SESSION, PROOF, TOKEN; the one resume HELLO RESUME (same session id), WELCOME
           RESUMED, PROOF; every frame but HELLO, WELCOME and REFUSED has length >= 16 (an
           AEAD tag at least), HEARTBEAT/ACK/END exactly 16, PROOF and TOKEN 48. tshark with
           the Wireshark dissector (contrib/wireshark/roamproxy.lua) shows exactly these frames,
           one for one with the same type, seq, ack and length, flags none, and within every
           connection and direction DATA seq and acks (PROOF's and TOKEN's are always 0) never
           decrease, and the WELCOME's host key fingerprint is the key's (skipped with one line
           without tshark, except as root with CI=true). Then the
           attacker replays what cproxy sent on the new-session connection and on the resume
           connection, each flight by flight (waiting for sproxy's answer as recorded) and all
           at once: the attacker gets at most one WELCOME (fresh: nonce and key share differ
           from the recording and from every other replay; a NEW_SESSION one carries the host
           key that sproxy logged and cproxy recorded in its known-servers file on first use,
           which the user's WELCOME carried too), possibly followed by sproxy's
           plain signed REFUSED AUTH_FAILED, and never a TOKEN, DATA or any encrypted frame;
           sproxy closes each connection and logs exactly one WARN naming the attacker's
           address:port; no new session (no `new session` line for the attacker, one in all;
           sproxy's status socket, as `sproxy --status --json` reads it, shows the one session
           with its resume count unchanged) and no new telnetd (inetd started none); the live
           link is the same TCP connection before and after; ping shows every icmp_seq exactly
           once.
  onpath   an on-path attacker. An nftables table in the server namespace (made before the
           first link, so conntrack tracks it from its SYN) gets a rule that DNATs what the
           client's subnet 192.0.2.0/24 sends to port 6200 to a relay in the attacker
           namespace (198.51.100.2:6200), which forwards to sproxy at 198.51.100.1:6200. The
           rule applies to new connections: after it is added the client's address is
           replaced in place (192.0.2.2 -> 192.0.2.3) so the link goes through the relay
           (sproxy then sees 198.51.100.2 as its peer). With ping running, the relay tampers,
           one round at a time, each on a link that has carried DATA: flips one bit in a DATA
           frame's payload (to cproxy); flips the lowest bit of the ack in an encrypted frame's
           header (to sproxy); closes the link and answers the HELLO RESUME of the next dial
           with a forged plain REFUSED UNKNOWN_SESSION (status 3 and 32 random MAC bytes), once
           more with a REFUSED UNKNOWN_SESSION of length 1, and once with a REFUSED
           VERSION_MISMATCH of length 1; sends 64 random bytes (to cproxy); resends an
           earlier DATA frame of the same link (to cproxy); sends half a frame and closes; and
           resets the link (SO_LINGER 0). Per round: the tamper reached the victim (seen on the
           client's link capture for what goes to cproxy), the tampered link is dropped (by a
           proxy for the seven kinds it must detect), cproxy comes back through the relay and
           DATA flows again, and each kind a proxy must detect (authentication failure or
           protocol error: all but the plain close before a forged refusal, the truncation and
           the reset) makes sproxy or cproxy log at least one WARN (counts are not asserted:
           connections race). Then the attacker goes (rule flushed, its DNAT counter > 0) and
           the address is replaced once more (-> 192.0.2.4): sproxy's only link comes from
           192.0.2.4 and the relay takes no new connection. Overall: telnet stays connected, no
           `closed:` session line in either log, one `new session` in sproxy's log and the same
           one session on its status socket before the attacker came and after it went, the ping
           output in telnet is well-formed line by line (nothing altered reached telnet), and
           every icmp_seq appears exactly once, in order.
  flood    strangers hammer sproxy's port from the attacker host (198.51.100.2), as separate
           processes in the attacker namespace started before the user's session and running
           throughout: 600 silent connections, 200 slow ones (7 bytes of a HELLO, then one more
           byte every 0.5 s, never the whole frame) and 64 that each send a whole HELLO NEW
           (protocol 3, random nonce and key share), read sproxy's answer and reset the
           connection, never sending a PROOF; every connection is reopened the moment it
           ends, as fast as the process can. Meanwhile telnet logs in through the proxies,
           runs ping, the client's address changes (192.0.2.2 removed, 5 s without, 192.0.2.3
           added), and then a new telnet logs in to the shell prompt, the flood still going.
           Asserts: ping resumes after the new address with every icmp_seq exactly once (as
           roam; the resume time is printed, not asserted); the new login works; sproxy
           logged the WARN that 198.51.100.2 holds its 64 handshake places (a quarter of
           --max-handshakes; never that all places are taken); no session for the attacker
           (`new session` twice in sproxy's log, both the user's); the attacker connected
           at least 600 times, sent at least 600 HELLOs and had at least 64 connections held
           1 s or more (its counters are printed: connects, failed connects by errno, held,
           bytes dripped, HELLOs, WELCOMEs back); sproxy sent nothing to a silent or slow
           connection. The attacker's processes are stopped (SIGTERM, their final counters
           read) before the checks, and with the other daemons on every exit path. They
           share the machine's CPUs with the proxies, telnet and ping (an attacker elsewhere
           would not).
  flood-psk  as flood, with a pre-shared key on both proxies (`sproxy --new-secret` in the
           temp dir, mode 0600; `--secret-file` for sproxy and cproxy); sproxy must say that
           new sessions must prove it.

Usage (as root; needs what roam_e2e.py needs, tcpdump and nft, and tshark for the dissector):
  mvn -q -DskipTests package
  sudo python3 src/test/e2e/security_e2e.py --dist target/roamproxy [capture|onpath|flood|flood-psk|all]

Only 192.0.2.0/24, 198.51.100.0/24 (both reserved for documentation) and loopback are used,
only inside the namespaces this script creates. Every namespace (with its nftables rules),
process, temp dir and capture it creates is removed on success, failure, Ctrl-C and SIGTERM.
Exit status: 0 all passed, 1 a scenario failed, 2 cannot run, 130 interrupted.
"""

import base64
import collections
import errno
import hashlib
import json
import math
import os
import re
import resource
import secrets
import selectors
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(HERE, "../../../tools"))
import netlab                           # noqa: E402  (after the path is set)
from netlab import Fail, log, run, wait_until     # noqa: E402

LINK_PORT = 6200
DISSECTOR = os.path.normpath(os.path.join(HERE, "..", "..", "..", "contrib", "wireshark", "roamproxy.lua"))
LOCAL_PORT = 5200
ATK_SERVER_ADDR = "198.51.100.1"        # sproxy's address on the attacker's network
ATTACKER_ADDR = "198.51.100.2"
ATK_PREFIX = 24
ATK_SERVER_IFACE = "eth2"               # in the server namespace
ATK_IFACE = "eth1"                      # in the attacker namespace
ATK_SUFFIX = "atk"
CLIENT_SUBNET = "192.0.2.0/24"
ONPATH_TABLE = "rpe2e_onpath"           # onpath: the nftables table, in the server namespace only
SCENARIO_BUDGET_S = 150                 # hard cap per scenario, hang => failure
REPLAY_IO_TIMEOUT_S = 10                # the replay client's bound on each read
STEP_WAIT_S = 3                         # steps: longest wait for sproxy's answer to a flight
RELAY_MIN_DATA = 3                      # onpath: DATA frames to cproxy on a link before a tamper
RELAY_WAIT_S = 10                       # onpath: bound on each awaited relay event
RECOVER_WAIT_S = 20                     # onpath: bound on cproxy coming back after a tamper
# flood: what the attacker keeps open, per kind (kind, connections, new ones per second at most,
# 0 = as fast as it can), and the floors its counters must reach for the run to prove anything.
FLOOD_PLAN = [("silent", 600, 0), ("slow", 200, 0), ("hello", 64, 0)]
FLOOD_SLOW_FIRST = 7                    # flood: bytes of a HELLO a slow connection sends at once
FLOOD_SLOW_DRIP_S = 0.5                 # flood: then one more byte this often
FLOOD_RETRY_S = 0.05                    # flood: pause after a failed connect
FLOOD_REPORT_S = 1.0                    # flood: counters printed this often
FLOOD_WARMUP_S = 3.0                    # flood: before the user's session starts
FLOOD_LOGIN_S = 15                      # flood: bound on a new login under the flood
FLOOD_MIN_CONNECTS = 600
FLOOD_MIN_HELLOS = 600
PER_SOURCE_HANDSHAKES = 64              # a quarter of sproxy's default --max-handshakes (256)

# Wire format of protocol version 3 (src/main/java/net/roamproxy/wire).
MAGIC = 0x5250
VERSION = 3
HEADER = struct.Struct("!HBBIQQ")       # magic, version, type, length, seq, ack: 24 bytes
TAG = 16                                # AES-256-GCM tag after every encrypted payload
T_HELLO, T_WELCOME, T_HEARTBEAT, T_DATA, T_ACK, T_END = 1, 2, 3, 4, 5, 6
T_PROOF, T_ABORT, T_STOPPING, T_REFUSED, T_TOKEN = 8, 9, 10, 11, 12
TYPE_NAMES = {1: "HELLO", 2: "WELCOME", 3: "HEARTBEAT", 4: "DATA", 5: "ACK", 6: "END",
              8: "PROOF", 9: "ABORT", 10: "STOPPING", 11: "REFUSED", 12: "TOKEN"}
PLAIN_TYPES = {T_HELLO, T_WELCOME, T_REFUSED}
FIXED_LENGTHS = {T_HEARTBEAT: TAG, T_ACK: TAG, T_END: TAG, T_PROOF: 32 + TAG, T_TOKEN: 32 + TAG}
MODE_NEW, MODE_RESUME = 1, 2
MODE_NAMES = {1: "NEW", 2: "RESUME"}
ST_NEW_SESSION, ST_RESUMED, ST_UNKNOWN_SESSION, ST_VERSION_MISMATCH = 1, 2, 3, 4
STATUS_NAMES = {1: "NEW_SESSION", 2: "RESUMED", 3: "UNKNOWN_SESSION", 4: "VERSION_MISMATCH",
                5: "TARGET_UNAVAILABLE", 6: "BUSY", 7: "AUTH_FAILED", 10: "UNKNOWN_SERVICE"}
HELLO_FIXED = 78                        # HELLO payload without the service name
WELCOME_NEW_SIZE = 173                  # WELCOME NEW_SESSION payload (host key and signature)
WELCOME_RESUMED_SIZE = 109              # WELCOME RESUMED payload (MAC)
NONCE = slice(9, 41)                    # HELLO and WELCOME: 32-byte nonce ...
KEY_SHARE = slice(41, 73)               # ... and X25519 key share
HOST_KEY = slice(77, 109)               # WELCOME NEW_SESSION: sproxy's Ed25519 host key
SESSION_ID = slice(1, 9)
ST_AUTH_FAILED = 7
NEW_SESSION_RE = r"(?<!refused )new session from "     # sproxy's line for a session it opened

# onpath: what the relay does, and which kinds a proxy must detect (and log at WARN).
K_FLIP_DATA, K_FLIP_HEADER, K_GARBAGE, K_REPLAY = "flip-data", "flip-header", "garbage", "replay-frame"
K_TRUNCATE, K_RESET, K_CLOSE = "truncate", "reset", "close"
K_REFUSED_FORGED, K_REFUSED_SHORT = "refused-forged", "refused-short"
K_REFUSED_VERSION = "refused-version"
S2C_KINDS = (K_FLIP_DATA, K_GARBAGE, K_REPLAY, K_TRUNCATE, K_RESET, K_CLOSE)
C2S_KINDS = (K_FLIP_HEADER,)
REFUSAL_KINDS = (K_REFUSED_FORGED, K_REFUSED_SHORT, K_REFUSED_VERSION)
DETECTED_KINDS = (K_FLIP_DATA, K_FLIP_HEADER, K_GARBAGE, K_REPLAY) + REFUSAL_KINDS
ROUNDS = [[K_FLIP_DATA], [K_FLIP_HEADER], [K_CLOSE, K_REFUSED_FORGED], [K_CLOSE, K_REFUSED_SHORT],
          [K_CLOSE, K_REFUSED_VERSION], [K_GARBAGE], [K_REPLAY], [K_TRUNCATE], [K_RESET]]

# Lines ping prints in telnet; onpath: anything else in its output means something altered it.
PING_OUTPUT_RES = [re.compile(x) for x in (
    r"(?:rp-e2e\$ )?ping -i 0\.2 -p [0-9a-f]+ 127\.0\.0\.1",
    r"PATTERN: 0x[0-9a-f]+",
    r"PING 127\.0\.0\.1 \(127\.0\.0\.1\) 56\(84\) bytes of data\.",
    # The terminal's echo of Ctrl-C (with telnetd's urgent Data Mark, IAC DM, which may show as
    # 0xf2) can come just before ping's last reply line, which then starts on the same line.
    r"(?:\xf2?\^C)?64 bytes from 127\.0\.0\.1: icmp_seq=\d+ ttl=\d+ time=\d+(?:\.\d+)? ms",
    r"\xf2?(?:\^C)?",
    r"--- 127\.0\.0\.1 ping statistics ---")]


# ---------------------------------------------------------------- the three hosts

class SecEnv(netlab.Env):
    """netlab's two hosts with default proxies, and a third host, the attacker, on its own
    veth pair to the server namespace. onpath: the attacker can also be put on the path (an
    nftables DNAT in the server namespace, forwarding there, a route back in the attacker's)."""

    def __init__(self, args, index, onpath, psk=False):
        super().__init__(args, index, direct=False)
        self.onpath = onpath
        self.psk = psk
        self.atk = self.srv[:-len("srv")] + ATK_SUFFIX
        self.sproxy_opts, self.cproxy_opts = [], []     # more options (soak_e2e.py)

    def in_atk(self, *argv):
        return ["ip", "netns", "exec", self.atk, *argv]

    def start(self):
        # As netlab.Env.start, with the attacker's host (and the on-path table, which must exist
        # before the first link so that conntrack sees that link from its SYN) before the proxies.
        self.start_network()
        self.start_attacker_host()
        if self.onpath:
            self.prepare_onpath()
        self.start_inetd()
        self.start_proxies()

    def start_proxies(self):
        """As netlab.Env.start_proxies, with self.sproxy_opts and self.cproxy_opts, and with psk a
        pre-shared key on both: `sproxy --new-secret` writes it (mode 0600, owned by us) into
        the temp dir and both proxies get `--secret-file` with it."""
        dist = self.args.dist
        env = self.proxy_env()
        s_opts, c_opts = list(self.sproxy_opts), list(self.cproxy_opts)
        if self.psk:
            secret = os.path.join(self.tmp, "psk")
            run([os.path.join(dist, "bin", "sproxy"), "--new-secret", secret], timeout=30)
            mode = os.stat(secret).st_mode & 0o777
            if mode != 0o600:
                raise Fail(f"sproxy --new-secret made {secret} with mode {mode:o}, not 600")
            s_opts += ["--secret-file", secret]
            c_opts += ["--secret-file", secret]
        self.daemon("sproxy", self.in_srv(os.path.join(dist, "bin", "sproxy"), *s_opts), env)
        self.wait_listening("sproxy", self.srv, LINK_PORT, 30)
        self.daemon("cproxy", self.in_cli(os.path.join(dist, "bin", "cproxy"), *c_opts,
                                          self.server), env)
        self.wait_listening("cproxy", self.cli, LOCAL_PORT, 30)
        log(f"sproxy {shlex.join(s_opts) + ' ' if s_opts else ''}listening on :{LINK_PORT}, cproxy "
            f"{shlex.join(c_opts + [self.server])} listening on 127.0.0.1:{LOCAL_PORT}")

    def start_attacker_host(self):
        run(["ip", "netns", "add", self.atk])
        self.namespaces.append(self.atk)
        run(["ip", "-n", self.atk, "link", "set", "lo", "up"])
        run(["ip", "-n", self.srv, "link", "add", ATK_SERVER_IFACE, "type", "veth",
             "peer", "name", ATK_IFACE, "netns", self.atk])
        run(["ip", "-n", self.srv, "addr", "add", f"{ATK_SERVER_ADDR}/{ATK_PREFIX}",
             "dev", ATK_SERVER_IFACE])
        run(["ip", "-n", self.atk, "addr", "add", f"{ATTACKER_ADDR}/{ATK_PREFIX}", "dev", ATK_IFACE])
        run(["ip", "-n", self.srv, "link", "set", ATK_SERVER_IFACE, "up"])
        run(["ip", "-n", self.atk, "link", "set", ATK_IFACE, "up"])
        wait_until(lambda: run(self.in_atk("ping", "-c", "1", "-W", "1", ATK_SERVER_ADDR),
                               check=False).find(" 0% packet loss") >= 0,
                   10, f"{ATK_SERVER_ADDR} reachable from the attacker namespace", interval=0.2)
        log(f"attacker namespace {self.atk} ({ATTACKER_ADDR}) joined to the server by veth "
            f"{ATK_SERVER_IFACE}<->{ATK_IFACE}; sproxy reachable at {ATK_SERVER_ADDR}:{LINK_PORT}")

    def prepare_onpath(self):
        """The server forwards, the attacker routes the client's subnet back through the server,
        and an nftables table with an empty nat prerouting chain exists (conntrack on)."""
        run(self.in_srv("sysctl", "-q", "-w", "net.ipv4.ip_forward=1"))
        run(["ip", "-n", self.atk, "route", "add", CLIENT_SUBNET, "via", ATK_SERVER_ADDR])
        rules = os.path.join(self.tmp, "onpath.nft")
        with open(rules, "w") as f:
            f.write(f"table ip {ONPATH_TABLE} {{\n"
                    f"  chain prerouting {{\n"
                    f"    type nat hook prerouting priority dstnat; policy accept;\n"
                    f"  }}\n"
                    f"}}\n")
        run(self.in_srv("nft", "-f", rules))
        log(f"server namespace forwards; nftables table {ONPATH_TABLE} (nat prerouting, empty) "
            f"made before the first link")

    def divert_to_attacker(self):
        run(self.in_srv("nft", "add", "rule", "ip", ONPATH_TABLE, "prerouting", "ip", "saddr",
                        CLIENT_SUBNET, "tcp", "dport", str(LINK_PORT), "counter", "dnat", "to",
                        f"{ATTACKER_ADDR}:{LINK_PORT}"))
        log(f"server# nft: new connections from {CLIENT_SUBNET} to port {LINK_PORT} DNATed to "
            f"the relay at {ATTACKER_ADDR}:{LINK_PORT}")

    def attacker_goes(self):
        """Flushes the DNAT rule; returns how many packets it had diverted."""
        out = run(self.in_srv("nft", "list", "chain", "ip", ONPATH_TABLE, "prerouting"))
        m = re.search(r"counter packets (\d+)", out)
        if not m:
            raise Fail(f"cannot read the DNAT rule's counter:\n{out}")
        run(self.in_srv("nft", "flush", "chain", "ip", ONPATH_TABLE, "prerouting"))
        log(f"server# nft: DNAT rule flushed (it had diverted {m.group(1)} packets); new "
            f"connections go straight to sproxy again")
        return int(m.group(1))

    def daemon_log(self, name):
        with open(self.daemons[name][1], "rb") as f:
            return f.read().decode(errors="replace")

    def server_links(self):
        """Peers of sproxy's established link connections (to port 6200), as 'addr:port'."""
        out = run(self.in_srv("ss", "-Htn", "state", "established", "sport", f"= :{LINK_PORT}"),
                  check=False)
        peers = set()
        for line in out.splitlines():
            f = line.split()
            if len(f) >= 4:
                peers.add(f[-1].replace("[::ffff:", "").replace("]", ""))
        return peers

    def sproxy_sessions(self):
        """The live sessions sproxy reports on its status socket (what `sproxy --status --json`
        prints), read straight from the socket its log names: [{"session": id, ...}]."""
        m = re.search(r"--status \(socket (\S+)\)", self.daemon_log("sproxy"))
        if not m:
            raise Fail("sproxy's log names no status socket")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(netlab.LOG_WAIT_S)
            s.connect(m.group(1))
            s.sendall(b"json\n")
            data = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                data += b
        try:
            return json.loads(data)["sessions"]
        except (ValueError, KeyError):
            raise Fail(f"sproxy's status socket answered {data[:300]!r}")

    def telnetd_starts(self):
        """How many telnetd processes inetd has started (its debug log says `execv`)."""
        return len(log_lines(self.daemon_log("inetd"), r"\bexecv\b.*telnetd"))


class Capture:
    """tcpdump in the client namespace, writing a pcap in the temp dir (removed with it)."""

    def __init__(self, env, name, iface, port):
        self.env = env
        self.name = name
        self.iface = iface
        self.path = os.path.join(env.tmp, f"{name}.pcap")
        # -U: write each packet at once; -Z root: do not drop to the tcpdump user, who could
        # not write into the temp dir; -s 0: whole packets.
        env.daemon(name, env.in_cli("tcpdump", "-i", iface, "-n", "-U", "-s", "0", "-Z", "root",
                                    "-w", self.path, "tcp", "port", str(port)))
        p = env.daemons[name][0]

        def listening():
            if p.poll() is not None:
                raise Fail(f"{name}: tcpdump exited ({p.returncode}): {env.daemon_log(name).strip()}")
            return "listening on" in env.daemon_log(name)
        wait_until(listening, 15, f"tcpdump on the client's {iface} to start", interval=0.05)
        log(f"{name}: tcpdump -i {iface} tcp port {port} in the client namespace -> {self.path}")

    def stop(self):
        p = self.env.daemons[self.name][0]
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            raise Fail(f"{self.name}: tcpdump did not stop on SIGTERM")
        text = self.env.daemon_log(self.name)
        m = re.search(r"(\d+) packets captured", text)
        d = re.search(r"(\d+) packets dropped by kernel", text)
        if not m:
            raise Fail(f"{self.name}: tcpdump did not report its statistics: {text.strip()}")
        log(f"{self.name}: {m.group(1)} packets captured, "
            f"{d.group(1) if d else '?'} dropped by the kernel, {os.path.getsize(self.path)} bytes")
        if d and int(d.group(1)) != 0:
            raise Fail(f"{self.name}: the kernel dropped {d.group(1)} packets; the capture is "
                       "incomplete and proves nothing")
        return read_pcap(self.path)


# ---------------------------------------------------------------- pcap and TCP, stdlib only

def read_pcap(path):
    """(linktype, [(timestamp, frame bytes)]) of a classic pcap file (either byte order,
    micro- or nanosecond timestamps)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise Fail(f"{path}: {len(data)} bytes, not even a pcap global header")
    kinds = {b"\xd4\xc3\xb2\xa1": ("<", 1e-6), b"\xa1\xb2\xc3\xd4": (">", 1e-6),
             b"\x4d\x3c\xb2\xa1": ("<", 1e-9), b"\xa1\xb2\x3c\x4d": (">", 1e-9)}
    if data[:4] not in kinds:
        raise Fail(f"{path}: not a pcap file (magic {data[:4].hex()})")
    endian, scale = kinds[data[:4]]
    _major, _minor, _zone, _sigfigs, _snaplen, linktype = struct.unpack(endian + "HHiIII", data[4:24])
    packets = []
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        if off + incl > len(data):
            break                       # last record cut short: tcpdump was stopped mid-write
        if incl < orig:
            raise Fail(f"{path}: a packet was truncated to {incl} of {orig} bytes (snaplen)")
        packets.append((sec + frac * scale, data[off:off + incl]))
        off += incl
    return linktype, packets


class Segment:
    __slots__ = ("ts", "src", "sport", "dst", "dport", "seq", "flags", "payload")

    def __init__(self, ts, src, sport, dst, dport, seq, flags, payload):
        self.ts, self.src, self.sport, self.dst, self.dport = ts, src, sport, dst, dport
        self.seq, self.flags, self.payload = seq, flags, payload


SYN, ACK_FLAG, RST, FIN = 0x02, 0x10, 0x04, 0x01


def tcp_segments(linktype, packets):
    """TCP segments in capture order, from Ethernet (DLT 1) or Linux cooked (DLT 113) frames."""
    out = []
    for ts, frame in packets:
        if linktype == 1:
            ethertype, l3 = struct.unpack("!H", frame[12:14])[0], frame[14:]
        elif linktype == 113:
            ethertype, l3 = struct.unpack("!H", frame[14:16])[0], frame[16:]
        else:
            raise Fail(f"unexpected pcap link type {linktype}")
        if ethertype == 0x0800:
            ihl = (l3[0] & 0x0f) * 4
            total, frag = struct.unpack("!H2xH", l3[2:8])
            if l3[9] != 6:
                continue
            if frag & 0x3fff:
                raise Fail("an IPv4 fragment in the capture; this parser does not reassemble")
            src, dst = socket.inet_ntop(socket.AF_INET, l3[12:16]), socket.inet_ntop(socket.AF_INET, l3[16:20])
            l4 = l3[ihl:total]
        elif ethertype == 0x86DD:
            if l3[6] != 6:
                continue                # not TCP (or extension headers, which TCP here never has)
            plen = struct.unpack("!H", l3[4:6])[0]
            src, dst = socket.inet_ntop(socket.AF_INET6, l3[8:24]), socket.inet_ntop(socket.AF_INET6, l3[24:40])
            l4 = l3[40:40 + plen]
        else:
            continue
        sport, dport, seq, _ack, offflags = struct.unpack("!HHIIH", l4[:14])
        out.append(Segment(ts, src, sport, dst, dport, seq, offflags & 0x1ff, l4[(offflags >> 12) * 4:]))
    return out


class Conn:
    """One TCP connection to `server_port`, both directions reassembled."""

    def __init__(self, index, client, server, ts):
        self.index, self.client, self.server, self.ts = index, client, server, ts
        self.isn = {}
        self.segs = {"c2s": [], "s2c": []}
        self.c2s_end = 0
        self.s2c_end = 0
        self.flight_ends = {}           # client stream offset -> server bytes sent before it
        self.rst = set()                # the directions that carried a RST

    def stream(self, direction):
        """The reassembled bytes; raises Fail on a hole (a segment the capture missed)."""
        buf = bytearray()
        for rel, data in sorted(self.segs[direction], key=lambda x: x[0]):
            if rel > len(buf):
                raise Fail(f"connection {self.describe()}: {direction} stream has a hole at "
                           f"offset {len(buf)} (next segment at {rel})")
            if rel + len(data) > len(buf):
                buf += data[len(buf) - rel:]
        return bytes(buf)

    def flights(self):
        """The client's bytes, split where the server sent something in between:
        [(bytes, how many bytes the server had sent before them)]."""
        c2s = self.stream("c2s")
        cuts = [0] + sorted(x for x in self.flight_ends if 0 < x < len(c2s)) + [len(c2s)]
        return [(c2s[a:b], self.flight_ends.get(a, 0)) for a, b in zip(cuts, cuts[1:]) if b > a]

    def describe(self):
        return f"#{self.index} {self.client[0]}:{self.client[1]} -> {self.server[0]}:{self.server[1]}"


def tcp_connections(segments, server_port):
    """Connections to server_port that begin in the capture (with their SYN), in SYN order."""
    conns, by_key = [], {}
    for s in segments:
        if s.dport == server_port:
            key, direction = (s.src, s.sport, s.dst, s.dport), "c2s"
        elif s.sport == server_port:
            key, direction = (s.dst, s.dport, s.src, s.sport), "s2c"
        else:
            continue
        c = by_key.get(key)
        if direction == "c2s" and s.flags & SYN and not s.flags & ACK_FLAG:
            if c is None or c.isn.get("c2s") != s.seq:     # not a retransmitted SYN
                c = Conn(len(conns) + 1, key[:2], key[2:], s.ts)
                conns.append(c)
                by_key[key] = c
        if c is None:
            continue                    # began before the capture
        if s.flags & RST:
            c.rst.add(direction)
        if s.flags & SYN:
            c.isn[direction] = s.seq
            continue
        if not s.payload or direction not in c.isn:
            continue
        rel = (s.seq - c.isn[direction] - 1) % (1 << 32)
        c.segs[direction].append((rel, s.payload))
        if direction == "c2s":
            c.c2s_end = max(c.c2s_end, rel + len(s.payload))
        else:
            c.s2c_end = max(c.s2c_end, rel + len(s.payload))
            c.flight_ends[c.c2s_end] = c.s2c_end
    return conns


def parse_frames(data):
    """roamproxy frames at the start of `data`: [(type, header dict, payload, raw)], and how
    many bytes they cover. Raises Fail on bytes that do not start with the magic."""
    frames, off = [], 0
    while off + HEADER.size <= len(data):
        magic, version, ftype, length, seq, ack = HEADER.unpack_from(data, off)
        if magic != MAGIC:
            raise Fail(f"not a roamproxy frame at offset {off}: {data[off:off + 24].hex()}")
        if off + HEADER.size + length > len(data):
            break
        raw = data[off:off + HEADER.size + length]
        frames.append((ftype, {"magic": magic, "version": version, "type": ftype, "length": length,
                               "seq": seq, "ack": ack}, raw[HEADER.size:], raw))
        off += HEADER.size + length
    return frames, off


def frame_name(ftype, payload):
    name = TYPE_NAMES.get(ftype, str(ftype))
    if payload and ftype == T_HELLO:
        name += f"({MODE_NAMES.get(payload[0], payload[0])})"
    elif payload and ftype in (T_WELCOME, T_REFUSED):
        name += f"({STATUS_NAMES.get(payload[0], payload[0])})"
    return name


def frame_names(frames):
    return " ".join(frame_name(t, p) for t, _h, p, _r in frames)


def is_frame(frames, i, ftype, first=None):
    """Whether frames[i] is of `ftype` (and its payload starts with `first`, if given)."""
    if len(frames) <= i or frames[i][0] != ftype:
        return False
    return first is None or (frames[i][2][:1] == bytes([first]))


def check_frames(conns, problems):
    """Every frame of every captured link connection: version 3, and encrypted (a payload of
    at least the tag) unless it is HELLO, WELCOME or REFUSED; the fixed sizes."""
    counts = collections.Counter()
    for c in conns:
        for d in ("c2s", "s2c"):
            frames, _ = parse_frames(c.stream(d))
            bad = []
            for ftype, h, _p, _r in frames:
                counts[TYPE_NAMES.get(ftype, str(ftype))] += 1
                if h["version"] != VERSION:
                    bad.append(f"{TYPE_NAMES.get(ftype, ftype)} of version {h['version']}")
                elif ftype not in PLAIN_TYPES and h["length"] < TAG:
                    bad.append(f"{TYPE_NAMES.get(ftype, ftype)} of length {h['length']} (< {TAG}: "
                               "no room for an authentication tag)")
                elif ftype in FIXED_LENGTHS and h["length"] != FIXED_LENGTHS[ftype]:
                    bad.append(f"{TYPE_NAMES.get(ftype, ftype)} of length {h['length']}, not "
                               f"{FIXED_LENGTHS[ftype]}")
            if bad:
                problems.append(f"{c.describe()} {d}: {len(bad)} frames break the protocol 3 framing, "
                                f"first {bad[:3]}")
    log(f"capture: frames on the link: {dict(sorted(counts.items()))}")
    return counts


def check_dissector(capture_path, conns, problems):
    """contrib/wireshark/roamproxy.lua, run by tshark on the link capture, shows exactly the
    frames parse_frames finds, one for one (type, seq, ack, length, and the names in the Info
    column, with HELLO's mode and WELCOME's status) in every connection and direction, and flags
    none of them; within each, DATA seq and the acks (but those of PROOF,
    TOKEN and REFUSED, always 0) never decrease; the
    host key fingerprint it shows under each WELCOME NEW_SESSION is the key's."""
    if not shutil.which("tshark"):
        if os.environ.get("CI") == "true" and os.geteuid() == 0:
            problems.append("tshark is not installed (apt-get install tshark): CI must check "
                            f"{DISSECTOR} on the link capture")
        else:
            log("skipped: the Wireshark dissector check on the link capture needs tshark "
                "(Debian: apt-get install tshark)")
        return
    experts = ["roamproxy.bad_magic", "roamproxy.other_version", "roamproxy.unknown_type",
               "roamproxy.bad_length", "roamproxy.bad_field", "roamproxy.unauthenticated"]
    fields = ["ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "tcp.srcport", "tcp.dstport", "roamproxy.type",
              "roamproxy.seq", "roamproxy.ack", "roamproxy.length", "roamproxy.host_key_fingerprint",
              "_ws.col.Info", "_ws.lua.error"] + experts
    # tcp.reassemble_out_of_order: a retransmission that overlaps what was seen and carries
    # more (the address change can make some) is not dropped from reassembly.
    cmd = ["tshark", "-n", "-r", capture_path, "-X", f"lua_script:{DISSECTOR}",
           "-o", "tcp.reassemble_out_of_order:TRUE", "-Y", "roamproxy or _ws.lua.error",
           "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=|"]
    for f in fields:
        cmd += ["-e", f]
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        problems.append(f"tshark on the link capture did not finish in 120 s: {' '.join(cmd)}")
        return
    errors = [x for x in p.stderr.splitlines() if x.strip() and "Running as user" not in x]
    if p.returncode != 0 or errors:
        problems.append(f"tshark -X lua_script:{DISSECTOR} exited {p.returncode}: {errors[:5]}")
        return
    # Frames by connection (the client's address and port) and direction, in stream order.
    shown, names, flagged, fingerprints = collections.defaultdict(list), collections.defaultdict(list), [], []
    for line in p.stdout.splitlines():
        v = dict(zip(fields, (line.split("\t") + [""] * len(fields))[:len(fields)]))
        src, dst = v["ip.src"] or v["ipv6.src"], v["ip.dst"] or v["ipv6.dst"]
        sport, dport = int(v["tcp.srcport"]), int(v["tcp.dstport"])
        key = (src, sport, "c2s") if dport == LINK_PORT else (dst, dport, "s2c")
        columns = [v[f].split("|") if v[f] else [] for f in
                   ("roamproxy.type", "roamproxy.seq", "roamproxy.ack", "roamproxy.length")]
        shown[key] += [tuple(int(x) for x in fr) for fr in zip(*columns)]
        # The Info column names each frame: "HELLO RESUME id=.. ack=..", "DATA seq=..", after
        # whatever TCP puts first ("[TCP Retransmission] ").
        for part in re.sub(r"^(\[[^\]]*\] )+", "", v["_ws.col.Info"]).split(", "):
            w = part.split()
            names[key].append(f"{w[0]}({w[1]})" if len(w) > 1 and w[0] in ("HELLO", "WELCOME", "REFUSED")
                              else w[0] if w else "")
        fingerprints += v["roamproxy.host_key_fingerprint"].split("|") if v["roamproxy.host_key_fingerprint"] else []
        marks = [f for f in ["_ws.lua.error"] + experts if v[f]]
        if marks:
            flagged.append(f"{src}:{sport} -> {dst}:{dport} ({', '.join(marks)})")
    before = len(problems)
    if flagged:
        problems.append(f"dissector: flagged {len(flagged)} packets of the link capture, first {flagged[:3]}")
    expected, expected_names, welcome_keys = {}, {}, []
    for c in conns:
        for d in ("c2s", "s2c"):
            frames, _ = parse_frames(c.stream(d))
            welcome_keys += [fingerprint(p[HOST_KEY]) for t, _h, p, _r in frames
                             if t == T_WELCOME and p[:1] == bytes([ST_NEW_SESSION])]
            expected[(c.client[0], c.client[1], d)] = [(h["type"], h["seq"], h["ack"], h["length"])
                                                      for _t, h, _p, _r in frames]
            expected_names[(c.client[0], c.client[1], d)] = [frame_name(t, p) for t, _h, p, _r in frames]
    total = 0
    for key in sorted(set(expected) | set(shown)):
        want, got = expected.get(key, []), shown.get(key, [])
        total += len(got)
        where = f"{key[0]}:{key[1]} {key[2]}"
        if got != want:
            i = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
            problems.append(f"dissector: {where}: tshark shows {len(got)} frames, the capture's parser "
                            f"{len(want)}; they differ first at frame {i}: tshark {got[i:i + 2]}, parser "
                            f"{want[i:i + 2]} (type, seq, ack, length)")
        if names.get(key, []) != expected_names.get(key, []):
            got_n, want_n = names.get(key, []), expected_names.get(key, [])
            i = next((i for i, (a, b) in enumerate(zip(got_n, want_n)) if a != b), min(len(got_n), len(want_n)))
            problems.append(f"dissector: {where}: the Info column names {len(got_n)} frames, the parser "
                            f"{len(want_n)}; first difference at frame {i}: Info {got_n[i:i + 2]}, parser "
                            f"{want_n[i:i + 2]}")
        data_seq = [s for t, s, _a, _l in got if t == T_DATA]
        # PROOF, TOKEN and REFUSED carry ack 0 by definition; every other frame the current ack.
        acks = [a for t, _s, a, _l in got if t not in (T_PROOF, T_TOKEN, T_REFUSED)]
        for what, values in (("DATA seq", data_seq), ("ack", acks)):
            back = next((i for i in range(1, len(values)) if values[i] < values[i - 1]), None)
            if back is not None:
                problems.append(f"dissector: {where}: {what} decreases from {values[back - 1]} to "
                                f"{values[back]}")
    if fingerprints != welcome_keys:
        problems.append(f"dissector: host key fingerprints {fingerprints}, the WELCOME NEW_SESSION "
                        f"frames' keys are {welcome_keys}")
    types = collections.Counter(TYPE_NAMES.get(fr[0], fr[0]) for fs in shown.values() for fr in fs)
    log(f"dissector: tshark with {os.path.relpath(DISSECTOR)} shows {total} frames in {len(shown)} "
        f"connection directions {dict(sorted(types.items()))}"
        + ("; the same frames (type, seq, ack, length, name) as the capture's parser, DATA seq "
           "and acks never decreasing, the host key's fingerprint"
           if len(problems) == before else "; see the problems below"))


def find_plaintext(capture_path, conns, needles):
    """{needle: where it was found} over the raw capture file and every reassembled stream."""
    with open(capture_path, "rb") as f:
        raw = f.read()
    found = {}
    for n in needles:
        where = []
        if n in raw:
            where.append("raw capture file")
        for c in conns:
            for d in ("c2s", "s2c"):
                if n in c.stream(d):
                    where.append(f"{c.describe()} {d}")
        if where:
            found[n] = where
    return found


# ---------------------------------------------------------------- the attacker's replay client

def replay_client(argv):
    """Runs in the attacker namespace: connects to HOST PORT, sends the flights in FILE (JSON:
    [[hex bytes, server bytes the recording saw before them], ...]) and prints a JSON report.
    MODE steps: before each flight, wait until sproxy has sent as many bytes as it had in the
    recording (at most STEP_WAIT_S; then send anyway); burst: send everything at once. Then
    read until sproxy closes the connection."""
    host, port, path, mode = argv[0], int(argv[1]), argv[2], argv[3]
    with open(path) as f:
        flights = [(bytes.fromhex(x), int(n)) for x, n in json.load(f)]
    if mode == "burst":
        flights = [(b"".join(x for x, _ in flights), 0)]
    got = bytearray()
    report = {"sent": 0, "end": None, "steps": []}
    s = socket.create_connection((host, port), timeout=REPLAY_IO_TIMEOUT_S)
    report["local"] = "%s:%d" % s.getsockname()[:2]

    def receive_up_to(n):
        s.settimeout(STEP_WAIT_S)
        try:
            while len(got) < n:
                b = s.recv(65536)
                if not b:
                    raise EOFError
                got.extend(b)
        except socket.timeout:
            report["steps"].append(f"(no more within {STEP_WAIT_S} s)")
        finally:
            s.settimeout(REPLAY_IO_TIMEOUT_S)

    try:
        for flight, wait_for in flights:
            if wait_for > len(got):
                receive_up_to(wait_for)
                report["steps"].append(f"received {len(got)}")
            s.sendall(flight)
            report["sent"] += len(flight)
            report["steps"].append(f"sent {len(flight)}")
        while True:
            b = s.recv(65536)
            if not b:
                report["end"] = "closed by sproxy"
                break
            got.extend(b)
    except EOFError:
        report["end"] = "closed by sproxy before the last flight"
    except ConnectionResetError:
        report["end"] = "reset by sproxy"
    except BrokenPipeError:
        report["end"] = "reset by sproxy (while sending)"
    except socket.timeout:
        report["end"] = f"not closed by sproxy within {REPLAY_IO_TIMEOUT_S} s"
    finally:
        s.close()
    report["received"] = got.hex()
    print(json.dumps(report), flush=True)
    return 0


def replay(env, flights, mode, attempt):
    """Replay `flights` ([(bytes, server bytes before them)]) from the attacker's host;
    returns the replay client's report."""
    path = os.path.join(env.tmp, f"replay-{attempt}.json")
    with open(path, "w") as f:
        json.dump([[x.hex(), n] for x, n in flights], f)
    out = run(env.in_atk(sys.executable, os.path.abspath(__file__), "--replay-client",
                         ATK_SERVER_ADDR, str(LINK_PORT), path, mode),
              timeout=4 * REPLAY_IO_TIMEOUT_S)
    try:
        report = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise Fail(f"replay client said: {out}")
    report["received"] = bytes.fromhex(report["received"])
    log(f"attacker {report['local']} -> {ATK_SERVER_ADDR}:{LINK_PORT} ({mode}): "
        f"{', '.join(report['steps'])}; {len(report['received'])} bytes received in all; "
        f"{report['end']}")
    return report


# ---------------------------------------------------------------- scenario steps

def type_marker(t, marker):
    start = t.mark()
    t.send(f"echo {marker}\r")
    m = t.expect(re.escape(marker) + r"\r?\n", 5, start=start, what=f"echo of {marker}")
    t.expect(netlab.PROMPT_RE, 5, start=m.end(), what="prompt after echo")
    log(f"{t.name}: typed `echo {marker}` (stands in for a password)")


def ping_across_address_change(env, t):
    """roam_e2e's roam scenario up to the resume (no speed limit). Returns the resume delay."""
    netlab.start_ping(t, "e2e00501")
    time.sleep(netlab.PING_BEFORE_S)
    t_del, t_add, offs = netlab.change_address(env, [t])
    delay, seq = netlab.wait_resumed(t, offs[t.name], t_add)
    log(f"{t.name}: ping output resumed {delay:.2f} s after the new address (icmp_seq={seq} "
        f"first); link now from {netlab.link_sources(env)}")
    netlab.check_quiet_during_outage(t, t_del, t_add)
    time.sleep(netlab.PING_AFTER_S)
    return delay


def finish_ping(t, delay):
    """Stop ping; every icmp_seq exactly once, in order. No wall-clock limit on the resume."""
    transmitted, received, at = netlab.stop_ping(t)
    netlab.verdict_within(t, transmitted, received, at, delay, math.inf)
    return transmitted


def atk_pattern(port):
    return rf"(?:\[?(?:::ffff:)?){re.escape(ATTACKER_ADDR)}\]?:{port}\b"


def log_lines(text, pattern):
    rx = re.compile(pattern)
    return [line for line in text.splitlines() if rx.search(line)]


def wait_log_lines(env, name, pattern, start=0, want=1, timeout=netlab.LOG_WAIT_S):
    """The lines of a daemon's log (from offset `start`) that match `pattern`, once at least
    `want` of them are there (bounded poll); fewer if the bound passes."""
    found = []

    def enough():
        found[:] = log_lines(env.log_text(name, start), pattern)
        return len(found) >= want
    try:
        wait_until(enough, timeout, f"{want} line(s) matching {pattern!r} in {name}'s log")
    except Fail:
        pass
    return list(found)


def one_warn_each(env, reports):
    """Exactly one WARN line in sproxy's log naming each attacker connection in `reports`."""
    for r in reports:
        port = r["local"].rsplit(":", 1)[1]
        warns = wait_log_lines(env, "sproxy", r"\bWARN\b.*" + atk_pattern(port))
        if len(warns) != 1:
            raise Fail(f"expected one WARN in sproxy's log naming {ATTACKER_ADDR}:{port}, "
                       f"saw {len(warns)}: {warns}")
        log(f"sproxy: {warns[0].strip()}")


def check_no_session_for_attacker(env, telnetd_before):
    """No session came of the attacker's bytes: sproxy logged one `new session` in all, none
    naming the attacker, no resume naming it, and inetd started no telnetd since."""
    sp = env.daemon_log("sproxy")
    new = log_lines(sp, NEW_SESSION_RE)
    attached = [x for x in log_lines(sp, NEW_SESSION_RE + r"|is back from |resumed over link ")
                if re.search(atk_pattern(r"\d+"), x)]
    if attached:
        raise Fail(f"sproxy took the attacker's bytes as a session: {attached}")
    if len(new) != 1:
        raise Fail(f"expected one `new session` line in sproxy's log (the user's), saw {len(new)}: {new}")
    after = env.telnetd_starts()
    if after != telnetd_before:
        raise Fail(f"inetd started {after - telnetd_before} telnetd(s) during the replays: sproxy "
                   "connected to its target for the attacker")
    log(f"sproxy: one `new session` line in all ({new[0].strip()}); inetd started no telnetd "
        f"during the replays ({after} in all, the check at start-up and the user's)")


def check_live_link_kept(env, before):
    after = env.server_links()
    log(f"sproxy's established link connections after the replays: {sorted(after) or 'none'}")
    if after != before:
        raise Fail(f"sproxy's link connections changed across the replays: before "
                   f"{sorted(before)}, after {sorted(after)} (the replay touched the live link)")


# ---------------------------------------------------------------- scenario capture

def fingerprint(host_key):
    """SHA256:<unpadded base64 of SHA-256 of the raw key>, as sproxy and cproxy print it."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(host_key).digest()).decode().rstrip("=")


def check_trust_on_first_use(env, welcomes, problems):
    """The host key in every WELCOME NEW_SESSION (the user's and the replays') is the one
    sproxy logged and the one cproxy recorded for 192.0.2.1:6200 in its known-servers file
    (which its log names)."""
    keys = {fingerprint(w[HOST_KEY]) for w in welcomes}
    m = re.search(r"host key (SHA256:\S+)", env.daemon_log("sproxy"))
    logged = m.group(1).rstrip(";,.") if m else None
    a = re.search(r"Permanently added .* to (\S+)", env.daemon_log("cproxy"))
    recorded = []
    if a and os.path.exists(a.group(1)):
        with open(a.group(1)) as f:
            recorded = [line.split() for line in f if line.strip() and not line.startswith("#")]
    log(f"host key in the WELCOMEs {sorted(keys)}; sproxy logged {logged}; cproxy recorded "
        f"{recorded} in {a.group(1) if a else '(no file named in its log)'}")
    if len(keys) != 1 or [logged] != list(keys) or \
            recorded != [[f"{netlab.SERVER_ADDR}:{LINK_PORT}", logged]]:
        problems.append(f"trust on first use: the WELCOMEs carry host keys {sorted(keys)}, sproxy "
                        f"logged {logged}, cproxy recorded {recorded}")


def check_replay_answer(r, want_status, welcomes_seen):
    """The attacker's replay got at most one WELCOME of `want_status`, fresh, and nothing else;
    and sproxy closed the connection. Returns the WELCOME's payload or None."""
    got = r["received"]
    frames, used = parse_frames(got)
    log(f"attacker {r['local']}: sproxy sent {len(got)} bytes: [{frame_names(frames)}]")
    if used != len(got):
        raise Fail(f"attacker {r['local']}: sproxy sent {len(got) - used} bytes that are not whole "
                   f"frames: {got[used:used + 24].hex()}")
    # At most one WELCOME; after it, at most sproxy's plain, signed refusal of the proof
    # (REFUSED AUTH_FAILED: it tells the attacker nothing it did not send). Never a TOKEN, DATA
    # or any other encrypted frame.
    shape = [(f[0], f[2][:1]) for f in frames]
    refusal = (T_REFUSED, bytes([ST_AUTH_FAILED]))
    if shape not in ([], [(T_WELCOME, bytes([want_status]))],
                     [(T_WELCOME, bytes([want_status])), refusal]):
        raise Fail(f"attacker {r['local']}: sproxy answered the replay with [{frame_names(frames)}]; "
                   f"at most one WELCOME {STATUS_NAMES[want_status]} (and a REFUSED AUTH_FAILED) "
                   "is allowed, never a TOKEN, DATA or any encrypted frame")
    if any(f[1]["version"] != VERSION for f in frames):
        raise Fail(f"attacker {r['local']}: sproxy answered with frames of versions "
                   f"{[f[1]['version'] for f in frames]}")
    if r["end"] not in ("closed by sproxy", "reset by sproxy", "reset by sproxy (while sending)",
                        "closed by sproxy before the last flight"):
        raise Fail(f"attacker {r['local']}: the connection was not closed by sproxy ({r['end']})")
    if not frames:
        return None
    payload = frames[0][2]
    for seen in welcomes_seen:
        if payload[NONCE] == seen[NONCE] or payload[KEY_SHARE] == seen[KEY_SHARE]:
            raise Fail(f"attacker {r['local']}: sproxy's WELCOME reuses a nonce or key share it "
                       f"sent before ({payload[NONCE][:8].hex()}..., {payload[KEY_SHARE][:8].hex()}...)")
    welcomes_seen.append(payload)
    log(f"attacker {r['local']}: WELCOME {STATUS_NAMES[want_status]} with a fresh nonce "
        f"({payload[NONCE][:8].hex()}...) and key share ({payload[KEY_SHARE][:8].hex()}...)")
    return payload


def scenario_capture(env):
    link = Capture(env, "tcpdump-link", netlab.IFACE, LINK_PORT)
    local = Capture(env, "tcpdump-loopback", "lo", LOCAL_PORT)
    t = netlab.open_session(env, "telnet")
    marker = f"PASSWORD-{secrets.token_hex(6)}"
    type_marker(t, marker)
    delay = ping_across_address_change(env, t)
    linktype, packets = link.stop()
    conns = tcp_connections(tcp_segments(linktype, packets), LINK_PORT)
    l_linktype, l_packets = local.stop()
    l_conns = tcp_connections(tcp_segments(l_linktype, l_packets), LOCAL_PORT)
    problems = []
    for c in conns:
        c2s, s2c = c.stream("c2s"), c.stream("s2c")
        log(f"capture: connection {c.describe()}: cproxy sent {len(c2s)} bytes "
            f"[{frame_names(parse_frames(c2s)[0][:4])} ...], sproxy sent {len(s2c)} bytes "
            f"[{frame_names(parse_frames(s2c)[0][:4])} ...]")

    # Nothing of the session in clear on the link; all of it on loopback (the control).
    needles = [marker.encode(), b"icmp_seq", netlab.PROMPT.strip().encode()]
    control = find_plaintext(local.path, l_conns, needles)
    for n in needles:
        log(f"control (loopback, plain by design): {n.decode()!r} found: "
            f"{'; '.join(control.get(n, ['nowhere']))}")
    if len(control) != len(needles):
        raise Fail(f"the control check on the loopback capture did not find "
                   f"{[n.decode() for n in needles if n not in control]}: the plaintext check "
                   "cannot tell a leak from none")
    leaks = find_plaintext(link.path, conns, needles)
    for n in needles:
        log(f"capture: {n.decode()!r} on the link: {'; '.join(leaks.get(n, ['nowhere']))}")
    if leaks:
        problems.append(f"the link leaks plaintext: {sorted(n.decode() for n in leaks)} found in "
                        f"{sorted(set(w for ws in leaks.values() for w in ws))}")
    link_down = sum(len(c.stream("s2c")) for c in conns)
    local_down = sum(len(c.stream("s2c")) for c in l_conns)
    log(f"capture: sproxy -> cproxy {link_down} bytes on the link; cproxy -> telnet "
        f"{local_down} bytes on the client's loopback")
    if link_down < local_down:
        problems.append(f"the link carried {link_down} bytes towards the client, fewer than the "
                        f"{local_down} telnet received: the capture missed part of the session")

    # The frames: version 3, encrypted after the handshake; the new session and its resume.
    check_frames(conns, problems)
    check_dissector(link.path, conns, problems)
    # cproxy's dials: the connections it sent anything on. A connect it raced to the same
    # address and dropped when another answered first carries nothing, and is left out.
    dials = [c for c in conns if c.stream("c2s")]
    if not dials:
        raise Fail("the capture holds no connection to port 6200 that carried anything")
    first = dials[0]
    nc2s, _ = parse_frames(first.stream("c2s"))
    ns2c, _ = parse_frames(first.stream("s2c"))
    if not (is_frame(nc2s, 0, T_HELLO, MODE_NEW) and is_frame(nc2s, 1, T_PROOF)
            and is_frame(ns2c, 0, T_WELCOME, ST_NEW_SESSION) and is_frame(ns2c, 1, T_TOKEN)):
        problems.append(f"the new session {first.describe()} is not HELLO NEW, PROOF / WELCOME "
                        f"NEW_SESSION, TOKEN: cproxy sent [{frame_names(nc2s[:3])}], sproxy "
                        f"[{frame_names(ns2c[:3])}]")
    elif len(ns2c[0][2]) != WELCOME_NEW_SIZE or len(nc2s[0][2]) < HELLO_FIXED:
        problems.append(f"the new session's HELLO payload is {len(nc2s[0][2])} bytes (at least "
                        f"{HELLO_FIXED}), its WELCOME's {len(ns2c[0][2])} (not {WELCOME_NEW_SIZE})")
    session_id = ns2c[0][2][SESSION_ID] if is_frame(ns2c, 0, T_WELCOME) else None
    before = env.server_links()
    log(f"sproxy's established link connections before the replays: {sorted(before) or 'none'}")
    live = [c for c in conns if f"{c.client[0]}:{c.client[1]}" in before]
    if len(before) != 1 or len(live) != 1 or live[0] is first or \
            live[0].client[0] != netlab.CLIENT_NEW_ADDR:
        raise Fail(f"the live link {sorted(before)} is not one resume from {netlab.CLIENT_NEW_ADDR} in "
                   f"the capture: {[c.describe() for c in conns]}")
    resume = live[0]
    rc2s, _ = parse_frames(resume.stream("c2s"))
    rs2c, _ = parse_frames(resume.stream("s2c"))
    resumed = [c for c in dials[1:]
               if is_frame(parse_frames(c.stream("s2c"))[0], 0, T_WELCOME, ST_RESUMED)]
    if not (is_frame(rc2s, 0, T_HELLO, MODE_RESUME) and is_frame(rc2s, 1, T_PROOF)
            and is_frame(rs2c, 0, T_WELCOME, ST_RESUMED)):
        problems.append(f"the resume {resume.describe()} is not HELLO RESUME, PROOF / WELCOME "
                        f"RESUMED: cproxy sent [{frame_names(rc2s[:3])}], sproxy [{frame_names(rs2c[:3])}]")
    elif rc2s[0][2][SESSION_ID] != session_id or len(rs2c[0][2]) != WELCOME_RESUMED_SIZE:
        problems.append(f"the resume names session {rc2s[0][2][SESSION_ID].hex()} (the new session "
                        f"was {session_id.hex() if session_id else '?'}); its WELCOME payload is "
                        f"{len(rs2c[0][2])} bytes, not {WELCOME_RESUMED_SIZE}")
    # At least one, not exactly one: a link lost again soon after its resume (on a loaded
    # machine) is resumed once more; the live link's own resume is checked above.
    if not resumed:
        problems.append("expected a WELCOME RESUMED in the capture, found none")
    log(f"capture: new session {first.describe()} [{frame_names(nc2s[:2])} / {frame_names(ns2c[:2])}], "
        f"resume {resume.describe()} [{frame_names(rc2s[:2])} / {frame_names(rs2c[:1])}]")

    # The attacker replays both connections, flight by flight and all at once.
    telnetd_before = env.telnetd_starts()
    status_before = env.sproxy_sessions()
    reports, attempt, new_session_welcomes = [], 0, []
    for conn, want, label in ((first, ST_NEW_SESSION, "new session"), (resume, ST_RESUMED, "resume")):
        flights = conn.flights()
        whole = conn.stream("c2s")
        log(f"replaying the {label} {conn.describe()}: {len(whole)} bytes from cproxy in "
            f"{len(flights)} flights ({', '.join(str(len(f)) for f, _ in flights[:6])}"
            f"{', ...' if len(flights) > 6 else ''} bytes)")
        recorded = (ns2c if conn is first else rs2c)[:1]
        seen = [recorded[0][2]] if recorded and recorded[0][0] == T_WELCOME else []
        for mode, fl in (("steps", flights), ("burst", [(whole, 0)])):
            attempt += 1
            r = replay(env, fl, mode, attempt)
            reports.append(r)
            try:
                w = check_replay_answer(r, want, seen)
                if w is not None and want == ST_NEW_SESSION:
                    new_session_welcomes.append(w)
            except Fail as e:
                problems.append(str(e))
    user_welcome = [ns2c[0][2]] if is_frame(ns2c, 0, T_WELCOME, ST_NEW_SESSION) else []
    check_trust_on_first_use(env, user_welcome + new_session_welcomes, problems)
    for check in (lambda: one_warn_each(env, reports),
                  lambda: check_no_session_for_attacker(env, telnetd_before)):
        try:
            check()
        except Fail as e:
            problems.append(str(e))
    check_live_link_kept(env, before)
    status_after = env.sproxy_sessions()
    log(f"sproxy --status: {len(status_after)} session(s): "
        f"{[(x['session'], x['link_peer'], x['resumes']) for x in status_after]}")
    if len(status_after) != 1 or [(x["session"], x["resumes"]) for x in status_after] != \
            [(x["session"], x["resumes"]) for x in status_before] or \
            (session_id and status_after[0]["session"] != session_id.hex()):
        problems.append(f"sproxy's sessions changed across the replays: before "
                        f"{[(x['session'], x['resumes']) for x in status_before]}, after "
                        f"{[(x['session'], x['resumes']) for x in status_after]} (expected the one "
                        f"session {session_id.hex() if session_id else '?'}, its resume count kept)")
    transmitted = finish_ping(t, delay)
    if problems:
        raise Fail(f"{len(problems)} problem(s):\n  " + "\n  ".join(problems))
    log(f"PASS capture: neither {marker!r}, 'icmp_seq' nor the prompt on the link (all on "
        f"loopback); every frame version 3, encrypted after HELLO/WELCOME; "
        f"{len(reports)} replays from {ATTACKER_ADDR} got at most a fresh WELCOME, one WARN each, "
        f"no session; the live link kept; icmp_seq 1..{transmitted} each exactly once")


# ---------------------------------------------------------------- the on-path attacker's relay

def read_exact(sock, n):
    """Up to n bytes; fewer only at the end of the stream (or on an error)."""
    buf = bytearray()
    while len(buf) < n:
        try:
            b = sock.recv(n - len(buf))
        except OSError:
            break
        if not b:
            break
        buf += b
    return bytes(buf)


def read_frame(sock):
    """One whole frame (raw bytes), or None at the end of the stream."""
    head = read_exact(sock, HEADER.size)
    if len(head) < HEADER.size:
        return None
    magic, _v, _t, length, _s, _a = HEADER.unpack(head)
    if magic != MAGIC or length > 1 << 20:
        raise ValueError(f"not a roamproxy frame: {head.hex()}")
    body = read_exact(sock, length)
    return head + body if len(body) == length else None


class Relay:
    """Runs in the attacker namespace (`--relay LISTEN_ADDR PORT UPSTREAM_ADDR UPSTREAM_PORT`):
    takes the connections the DNAT sends it, forwards each to sproxy frame by frame, and applies
    the tampers it reads on stdin (one kind a line), in order, each at its first opportunity:
    a refusal kind answers the next HELLO RESUME itself; the others act on a link that has
    carried RELAY_MIN_DATA DATA frames to cproxy. Every event is one JSON line on stdout."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.lock = threading.Lock()
        self.out = threading.Lock()
        self.queue = collections.deque()

    def emit(self, **event):
        with self.out:
            print(json.dumps(event), flush=True)

    def take(self, eligible):
        with self.lock:
            if self.queue and eligible(self.queue[0]):
                return self.queue.popleft()
        return None

    def commands(self):
        for line in sys.stdin:
            kind = line.strip()
            if kind:
                with self.lock:
                    self.queue.append(kind)
                self.emit(event="armed", kind=kind)

    def serve(self, listen):
        srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(listen)
        srv.listen(16)
        self.emit(event="listening", addr="%s:%d" % listen)
        threading.Thread(target=self.commands, daemon=True).start()
        index = 0
        while True:
            c, peer = srv.accept()
            index += 1
            threading.Thread(target=self.handle, args=(c, index, "%s:%d" % peer[:2]),
                             daemon=True).start()

    def handle(self, c, index, peer):
        self.emit(event="accepted", conn=index, peer=peer)
        try:
            hello = read_frame(c)
        except ValueError as e:
            hello = None
            self.emit(event="note", conn=index, text=str(e))
        if hello is None:
            c.close()
            self.emit(event="closed", conn=index, by="cproxy", note="before its HELLO")
            return
        if hello[3] == T_HELLO and hello[HEADER.size] == MODE_RESUME:
            kind = self.take(lambda k: k in REFUSAL_KINDS)
            if kind:
                return self.refuse(c, index, hello, kind)
        try:
            u = socket.create_connection(self.upstream, timeout=RELAY_WAIT_S)
            u.settimeout(None)
            u.sendall(hello)
        except OSError as e:
            c.close()
            self.emit(event="closed", conn=index, by="relay", note=f"sproxy unreachable: {e}")
            return
        self.emit(event="upstream", conn=index, local="%s:%d" % u.getsockname()[:2])
        link = RelayedLink(self, index, c, u)
        threading.Thread(target=link.pump, args=(c, u, "c2s"), daemon=True).start()
        link.pump(u, c, "s2c")

    def refuse(self, c, index, hello, kind):
        """Answers a HELLO RESUME with a forged, unauthenticated REFUSED: UNKNOWN_SESSION with a
        random MAC or none, or VERSION_MISMATCH (which no key can authenticate)."""
        payload = bytes([ST_VERSION_MISMATCH if kind == K_REFUSED_VERSION else ST_UNKNOWN_SESSION])
        if kind == K_REFUSED_FORGED:
            payload += secrets.token_bytes(32)          # a MAC the attacker cannot compute
        forged = HEADER.pack(MAGIC, hello[2], T_REFUSED, len(payload), 0, 0) + payload
        try:
            c.sendall(forged)
        except OSError as e:
            self.emit(event="note", conn=index, text=f"sending the refusal failed: {e}")
        self.emit(event="tampered", conn=index, kind=kind, direction="s2c", sent=forged.hex(),
                  detail=f"answered HELLO RESUME with REFUSED length {len(payload)} "
                         f"({STATUS_NAMES[payload[0]]})")
        c.settimeout(RELAY_WAIT_S)
        by = "cproxy"
        try:
            while c.recv(65536):
                pass
        except socket.timeout:
            by = f"relay (cproxy kept the link for {RELAY_WAIT_S} s)"
        except OSError:
            pass
        c.close()
        self.emit(event="closed", conn=index, by=by)


class RelayedLink:
    """One connection through the relay: cproxy's socket, sproxy's, and what passed."""

    def __init__(self, relay, index, c, u):
        self.relay, self.index, self.c, self.u = relay, index, c, u
        self.lock = threading.Lock()
        self.done = False
        self.data_s2c = 0
        self.last_data = None

    def end(self, by, reset=False):
        with self.lock:
            if self.done:
                return
            self.done = True
        if reset:
            try:
                self.c.shutdown(socket.SHUT_RD)         # wakes our reader; sends nothing
            except OSError:
                pass
            self.c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.c.close()                              # RST to cproxy
        for s in ((self.u,) if reset else (self.c, self.u)):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        self.relay.emit(event="closed", conn=self.index, by=by)

    def eligible(self, direction, ftype):
        def check(kind):
            if self.data_s2c < RELAY_MIN_DATA:
                return False
            if kind in C2S_KINDS:
                return direction == "c2s" and ftype not in PLAIN_TYPES
            if kind in S2C_KINDS and direction == "s2c":
                return ftype == T_DATA if kind in (K_FLIP_DATA, K_REPLAY) else ftype not in PLAIN_TYPES
            return False
        return check

    def pump(self, src, dst, direction):
        peer_name = "cproxy" if direction == "c2s" else "sproxy"
        while True:
            try:
                raw = read_frame(src)
            except ValueError as e:
                self.relay.emit(event="note", conn=self.index, text=f"{peer_name}: {e}")
                raw = None
            if raw is None or self.done:
                self.end(f"{peer_name}")
                return
            ftype = raw[3]
            kind = self.relay.take(self.eligible(direction, ftype))
            try:
                if kind is None:
                    dst.sendall(raw)
                else:
                    self.tamper(kind, raw, dst, direction)
                    if kind in (K_TRUNCATE, K_RESET, K_CLOSE):
                        return
            except OSError:
                self.end(f"{'sproxy' if direction == 'c2s' else 'cproxy'} (sending failed)")
                return
            if direction == "s2c" and ftype == T_DATA:
                self.data_s2c += 1
                self.last_data = raw
                if self.data_s2c == RELAY_MIN_DATA:
                    self.relay.emit(event="flowing", conn=self.index)

    def tamper(self, kind, raw, dst, direction):
        sent, detail = b"", ""
        h = HEADER.unpack_from(raw)
        what = f"{TYPE_NAMES.get(raw[3], raw[3])} seq {h[4]} ack {h[5]} length {h[3]}"
        if kind == K_FLIP_DATA:
            b = bytearray(raw)
            i = HEADER.size + (len(raw) - HEADER.size) // 2
            b[i] ^= 0x80
            sent, detail = bytes(b), f"flipped bit 7 of payload byte {i - HEADER.size} of {what}"
            dst.sendall(sent)
        elif kind == K_FLIP_HEADER:
            b = bytearray(raw)
            b[HEADER.size - 1] ^= 0x01
            sent, detail = bytes(b), f"flipped the lowest bit of the ack of {what}"
            dst.sendall(sent)
        elif kind == K_GARBAGE:
            g = secrets.token_bytes(64)
            while g[:2] == struct.pack("!H", MAGIC):
                g = secrets.token_bytes(64)
            sent, detail = g, f"64 random bytes before {what}"
            dst.sendall(g + raw)
        elif kind == K_REPLAY:
            old = HEADER.unpack_from(self.last_data)
            sent = self.last_data
            detail = f"resent the earlier DATA seq {old[4]} (length {old[3]}) before {what}"
            dst.sendall(self.last_data + raw)
        elif kind == K_TRUNCATE:
            sent = raw[:HEADER.size + max(1, (len(raw) - HEADER.size) // 2)]
            detail = f"sent {len(sent)} of the {len(raw)} bytes of {what}, then closed"
            dst.sendall(sent)
        elif kind == K_RESET:
            detail = f"reset the link to cproxy (SO_LINGER 0) instead of forwarding {what}"
        elif kind == K_CLOSE:
            detail = f"closed the link instead of forwarding {what}"
        self.relay.emit(event="tampered", conn=self.index, kind=kind, direction=direction,
                        sent=sent.hex(), detail=detail)
        if kind in (K_TRUNCATE, K_RESET, K_CLOSE):
            self.end("relay", reset=kind == K_RESET)


def relay_main(argv):
    listen = (argv[0], int(argv[1]))
    upstream = (argv[2], int(argv[3]))
    try:
        Relay(upstream).serve(listen)
    except KeyboardInterrupt:
        pass
    return 0


class RelayControl:
    """The harness's side of the relay: starts it in the attacker namespace (as one of env's
    daemons, so it is stopped with them), sends it tamper kinds and reads its events."""

    def __init__(self, env):
        self.env = env
        self.path = os.path.join(env.tmp, "relay.log")
        f = open(self.path, "wb")
        self.proc = subprocess.Popen(
            env.in_atk(sys.executable, "-u", os.path.abspath(__file__), "--relay", ATTACKER_ADDR,
                       str(LINK_PORT), ATK_SERVER_ADDR, str(LINK_PORT)),
            stdin=subprocess.PIPE, stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
        f.close()
        env.daemons["relay"] = (self.proc, self.path)
        self.wait(lambda e: e["event"] == "listening", "the relay to listen")
        log(f"relay listening on {ATTACKER_ADDR}:{LINK_PORT} in the attacker namespace, "
            f"forwarding to sproxy at {ATK_SERVER_ADDR}:{LINK_PORT}")

    def events(self):
        with open(self.path, "rb") as f:
            text = f.read().decode(errors="replace")
        out = []
        for line in text.splitlines():
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out

    def wait(self, pred, what, timeout=RELAY_WAIT_S, since=0):
        """The first event (from the `since`-th on) that satisfies pred; bounded poll."""
        def find():
            if self.proc.poll() is not None:
                raise Fail(f"the relay exited ({self.proc.returncode}): "
                           f"{self.env.daemon_log('relay')[-2000:]}")
            hits = [e for e in self.events()[since:] if pred(e)]
            return hits[0] if hits else None
        return wait_until(find, timeout, what)

    def arm(self, *kinds):
        """Queues tamper kinds in the relay, in order (one write, so none can lag behind)."""
        self.proc.stdin.write("".join(f"{k}\n" for k in kinds).encode())
        self.proc.stdin.flush()

    def conns(self):
        """{conn index: peer} of every connection the relay accepted."""
        return {e["conn"]: e["peer"] for e in self.events() if e["event"] == "accepted"}


# ---------------------------------------------------------------- scenario onpath

def warn_lines(env, marks):
    """WARN lines sproxy and cproxy logged since the offsets in `marks`."""
    return [f"{name}: {x.strip()}" for name in ("sproxy", "cproxy")
            for x in log_lines(env.log_text(name, marks[name]), r"\bWARN\b")]


def tamper_round(env, relay, kinds, problems):
    """Arms `kinds` in the relay, waits until each was applied and its link ended, then until
    cproxy is back through the relay with DATA flowing; checks the drop and the WARNs.
    Returns the relay's `tampered` events."""
    marks = {name: env.log_mark(name) for name in ("sproxy", "cproxy")}
    since = len(relay.events())
    relay.arm(*kinds)
    done = []
    for k in kinds:
        ev = relay.wait(lambda e, k=k: e["event"] == "tampered" and e["kind"] == k
                        and e not in done, f"the relay to apply {k}", timeout=RECOVER_WAIT_S,
                        since=since)
        done.append(ev)
        log(f"relay: {k} on connection #{ev['conn']} ({ev['direction']}): {ev['detail']}")
        try:
            closed = relay.wait(lambda e, n=ev["conn"]: e["event"] == "closed" and e["conn"] == n,
                                f"connection #{ev['conn']} to end after {k}")
        except Fail:
            problems.append(f"{k}: the tampered link #{ev['conn']} was not dropped within "
                            f"{RELAY_WAIT_S} s; the relay closes it to go on")
            relay.arm(K_CLOSE)
            closed = relay.wait(lambda e, n=ev["conn"]: e["event"] == "closed" and e["conn"] == n,
                                f"connection #{ev['conn']} to end after close")
            done.append(relay.wait(lambda e: e["event"] == "tampered" and e["kind"] == K_CLOSE,
                                   "the relay to close", since=since))
        log(f"relay: connection #{ev['conn']} ended by {closed['by']}")
        if k in DETECTED_KINDS and not closed["by"].startswith(("cproxy", "sproxy")):
            problems.append(f"{k}: link #{ev['conn']} was ended by {closed['by']}, not by the proxy "
                            "that received the tampered bytes")
    last = max(e["conn"] for e in done)
    try:
        back = relay.wait(lambda e: e["event"] == "flowing" and e["conn"] > last,
                          f"cproxy back through the relay with DATA flowing after {'+'.join(kinds)}",
                          timeout=RECOVER_WAIT_S, since=since)
    except Fail as e:
        ended = [f"{name}: {x.strip()}" for name in ("sproxy", "cproxy")
                 for x in log_lines(env.log_text(name, marks[name]), r": closed: ")]
        raise Fail(f"{e}; {'the session ended: ' + str(ended) if ended else 'no session ended'}"
                   + (f"; earlier problems: {problems}" if problems else ""))
    log(f"relay: cproxy is back on connection #{back['conn']} "
        f"({relay.conns().get(back['conn'])}), DATA flowing")
    if any(k in DETECTED_KINDS for k in kinds):
        try:
            wait_until(lambda: warn_lines(env, marks), netlab.LOG_WAIT_S, "a WARN line")
        except Fail:
            pass
        warns = warn_lines(env, marks)
        for w in warns[:4]:
            log(f"  {w}")
        if not warns:
            problems.append(f"{'+'.join(kinds)}: neither sproxy nor cproxy logged a WARN (an "
                            "authentication failure or protocol error went unnoticed)")
    return done


def check_ping_output_intact(t, stats_at):
    """Every line ping printed in telnet is one that ping prints: nothing altered reached it."""
    with t.cond:
        text = t.text[t.ping_start:stats_at]
    bad = [line for line in text.replace("\r", "").split("\n")
           if not any(rx.fullmatch(line) for rx in PING_OUTPUT_RES)]
    if bad:
        return f"the ping output in telnet has {len(bad)} altered line(s): {[x[:100] for x in bad[:5]]}"
    log(f"{t.name}: all {text.count(chr(10))} lines of ping output are well-formed")
    return None


def check_tampers_on_the_wire(cap_conns, relay, tampered, problems):
    """What the relay sent cproxy in place of sproxy's bytes is in the client's link capture,
    on the connection it was meant for (a reset: that connection saw an RST)."""
    peers = relay.conns()
    by_client = {f"{c.client[0]}:{c.client[1]}": c for c in cap_conns}
    for ev in tampered:
        if ev["direction"] != "s2c" or not (ev["sent"] or ev["kind"] == K_RESET):
            continue
        c = by_client.get(peers.get(ev["conn"]))
        if c is None:
            problems.append(f"{ev['kind']}: the client's capture lacks connection #{ev['conn']} "
                            f"({peers.get(ev['conn'])})")
            continue
        sent = bytes.fromhex(ev["sent"])
        seen = "s2c" in c.rst if ev["kind"] == K_RESET else (sent in c.stream("s2c"))
        log(f"capture: {ev['kind']} (relay connection #{ev['conn']}) {'seen' if seen else 'NOT seen'} "
            f"on {c.describe()}")
        if not seen:
            problems.append(f"{ev['kind']}: what the relay sent is not in the client's capture of "
                            f"{c.describe()}")


def scenario_onpath(env):
    cap = Capture(env, "tcpdump-link", netlab.IFACE, LINK_PORT)
    relay = RelayControl(env)
    t = netlab.open_session(env, "telnet")
    netlab.start_ping(t, "e2e00801")
    time.sleep(netlab.PING_BETWEEN_S)
    sessions = [x["session"] for x in env.sproxy_sessions()]
    direct = env.server_links()
    log(f"sproxy's link before the attacker: {sorted(direct)}")
    problems, delays = [], []

    # The attacker comes: new connections from the client go through the relay.
    env.divert_to_attacker()
    via = netlab.change_and_resume(env, t, "onpath", 1, 2, netlab.Change(netlab.v4(0), netlab.v4(1), 0))
    delays.append(via.delay)
    first = relay.wait(lambda e: e["event"] == "flowing", "DATA through the relay")
    links = env.server_links()
    log(f"sproxy's links now: {sorted(links)} (relay connection #{first['conn']} from "
        f"{relay.conns()[first['conn']]})")
    if not links or any(not x.startswith(ATTACKER_ADDR + ":") for x in links):
        raise Fail(f"after the DNAT and the address change sproxy's links are {sorted(links)}, not "
                   f"from the relay at {ATTACKER_ADDR}: the attacker is not on the path")

    tampered = []
    for kinds in ROUNDS:
        log(f"--- round: {' then '.join(kinds)}")
        tampered += tamper_round(env, relay, kinds, problems)

    # The attacker goes; the next connection goes straight to sproxy.
    diverted = env.attacker_goes()
    if diverted == 0:
        raise Fail("the DNAT rule diverted no packet: the relay never was on the path")
    seen = len(relay.conns())
    gone = netlab.change_and_resume(env, t, "onpath", 2, 2, netlab.Change(netlab.v4(1), netlab.v4(2), 0))
    delays.append(gone.delay)
    wait_until(lambda: env.server_links() and all(x.startswith(netlab.v4(2) + ":")
                                                  for x in env.server_links()),
               netlab.LOG_WAIT_S, f"sproxy's only link to come from {netlab.v4(2)}")
    log(f"sproxy's links after the attacker went: {sorted(env.server_links())}")
    time.sleep(netlab.PING_AFTER_S)
    transmitted, received, at = netlab.stop_ping(t)
    if len(relay.conns()) != seen:
        problems.append(f"the relay took {len(relay.conns()) - seen} connection(s) after the DNAT "
                        "rule was flushed")
    linktype, packets = cap.stop()
    check_tampers_on_the_wire(tcp_connections(tcp_segments(linktype, packets), LINK_PORT),
                              relay, tampered, problems)

    # No session ended, nothing altered reached telnet, every icmp_seq exactly once.
    for name in ("sproxy", "cproxy"):
        closed = log_lines(env.daemon_log(name), r": closed: ")
        if closed:
            problems.append(f"{name} ended the session: {[x.strip() for x in closed]}")
    new = log_lines(env.daemon_log("sproxy"), NEW_SESSION_RE)
    if len(new) != 1:
        problems.append(f"expected one `new session` in sproxy's log, saw {len(new)}: {new}")
    status = env.sproxy_sessions()
    log(f"sproxy --status: {[(x['session'], x['link_peer'], x['resumes']) for x in status]}")
    if [x["session"] for x in status] != sessions or len(sessions) != 1:
        problems.append(f"sproxy's sessions were {sessions} before the attacker and are "
                        f"{[x['session'] for x in status]} after it went")
    if t.proc.poll() is not None:
        problems.append(f"telnet exited ({t.proc.returncode})")
    altered = check_ping_output_intact(t, at)
    if altered:
        problems.append(altered)
    try:
        netlab.verdict_changes(t, transmitted, received, at, delays)
    except Fail as e:
        problems.append(str(e))
    if problems:
        raise Fail(f"{len(problems)} problem(s):\n  " + "\n  ".join(problems))
    log(f"PASS onpath: {len(tampered)} tampers in {len(ROUNDS)} rounds through the relay "
        f"({', '.join(sorted(set(e['kind'] for e in tampered)))}): each link dropped, cproxy back "
        f"each time, no session ended, ping output intact, icmp_seq 1..{transmitted} each exactly once")


# ---------------------------------------------------------------- the attacker's flood

def flood_hello():
    """A protocol 3 HELLO NEW frame as a stranger sends it: fresh random nonce and key share
    (random bytes: sproxy cannot tell them from a real X25519 share), a 1 MiB window, the
    default service."""
    payload = (bytes([MODE_NEW]) + bytes(8) + os.urandom(32) + os.urandom(32)
               + struct.pack("!I", 1 << 20) + b"\0")
    return HEADER.pack(MAGIC, VERSION, T_HELLO, len(payload), 0, 0) + payload


class FloodConn:
    __slots__ = ("sock", "state", "t_conn", "hello", "sent", "got", "next_drip")

    def __init__(self, sock):
        self.sock, self.state, self.t_conn = sock, "connecting", None
        self.hello, self.sent, self.got, self.next_drip = b"", 0, b"", 0.0


def flood_main(argv):
    """Runs in the attacker namespace: keeps COUNT connections of one KIND to HOST PORT, each
    reopened the moment it ends, until SIGTERM; prints its counters as one JSON line every
    second (and a last one, `final`). KIND silent: connect and send nothing. slow: send the
    first FLOOD_SLOW_FIRST bytes of a HELLO, then one more byte every FLOOD_SLOW_DRIP_S (never
    the whole frame). hello: send a whole HELLO NEW, read sproxy's answer (its first frame, or
    nothing) and reset the connection: never a PROOF. RATE: at most that many connections
    opened per second, 0 = as fast as it can."""
    host, port, kind, count = argv[0], int(argv[1]), argv[2], int(argv[3])
    rate = float(argv[4]) if len(argv) > 4 else 0.0
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < count + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 100) if hard != resource.RLIM_INFINITY
                                                     else count + 100, hard))
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    sel = selectors.DefaultSelector()
    c = collections.Counter()
    c["max_held_s"] = 0.0
    waiting = collections.deque()       # times at which to open one more connection
    live = {}                           # fd -> FloodConn
    tokens, token_at = 1.0, time.monotonic()

    def open_one():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        c["attempts"] += 1
        err = s.connect_ex((host, port))
        if err not in (0, errno.EINPROGRESS):
            c["connect_failed"] += 1
            c[f"connect_failed_{errno.errorcode.get(err, err)}"] += 1
            s.close()
            waiting.append(time.monotonic() + FLOOD_RETRY_S)
            return
        fc = FloodConn(s)
        live[s.fileno()] = fc
        sel.register(s, selectors.EVENT_WRITE, fc)

    def end(fc, how, reopen_at=None):
        sel.unregister(fc.sock)
        del live[fc.sock.fileno()]
        if how == "ours":
            try:                        # a reset: no TIME_WAIT left on either side
                fc.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        fc.sock.close()
        now = time.monotonic()
        if fc.t_conn is not None and how != "ours":
            held = now - fc.t_conn
            c["closed_by_sproxy"] += 1
            c["held_1s" if held >= 1.0 else "ended_within_1s"] += 1
            c["max_held_s"] = max(c["max_held_s"], round(held, 2))
        waiting.append(reopen_at if reopen_at is not None else now)

    def report(final=False):
        out = dict(c, kind=kind, t=round(time.monotonic(), 3), open=sum(
            1 for fc in live.values() if fc.t_conn is not None))
        if final:
            out["final"] = True
        print(json.dumps(out), flush=True)

    for _ in range(count):
        waiting.append(0.0)
    next_report = time.monotonic() + FLOOD_REPORT_S
    while not stop:
        now = time.monotonic()
        if rate > 0:
            tokens = min(max(1.0, rate / 10), tokens + (now - token_at) * rate)
            token_at = now
        while waiting and waiting[0] <= now and not stop:
            if rate > 0:
                if tokens < 1:
                    break
                tokens -= 1
            waiting.popleft()
            open_one()
        if kind == "slow":
            for fc in list(live.values()):
                if fc.state == "open" and fc.next_drip <= now and fc.sent < len(fc.hello) - 1:
                    try:
                        fc.sent += fc.sock.send(fc.hello[fc.sent:fc.sent + 1])
                        c["bytes_dripped"] += 1
                    except OSError:
                        pass            # the read side sees the end
                    fc.next_drip = now + FLOOD_SLOW_DRIP_S
        if now >= next_report:
            report()
            next_report = now + FLOOD_REPORT_S
        for key, _ev in sel.select(timeout=0.02):
            fc = key.data
            if fc.state == "connecting":
                err = fc.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    # ECONNRESET: sproxy reset it at accept before this loop saw it connected.
                    c["connect_failed"] += 1
                    c[f"connect_failed_{errno.errorcode.get(err, err)}"] += 1
                    end(fc, "failed", time.monotonic() + FLOOD_RETRY_S)
                    continue
                c["connected"] += 1
                fc.t_conn = time.monotonic()
                fc.state = "open"
                sel.modify(fc.sock, selectors.EVENT_READ, fc)
                if kind in ("slow", "hello"):
                    fc.hello = flood_hello()
                    n = len(fc.hello) if kind == "hello" else FLOOD_SLOW_FIRST
                    try:
                        fc.sent = fc.sock.send(fc.hello[:n])
                    except OSError:
                        continue        # reset at accept already: the read side sees it
                    if kind == "hello" and fc.sent == len(fc.hello):
                        c["hellos_sent"] += 1
                    fc.next_drip = fc.t_conn + FLOOD_SLOW_DRIP_S
                continue
            try:
                data = fc.sock.recv(65536)
            except OSError:
                data = None
            if not data:
                c["reset_by_sproxy" if data is None else "closed_by_sproxy_fin"] += 1
                end(fc, "sproxy")
                continue
            if kind != "hello":
                c["unexpected_bytes"] += len(data)
                continue
            fc.got += data
            if len(fc.got) >= HEADER.size:
                _m, _v, ftype, length, _s, _a = HEADER.unpack_from(fc.got)
                if len(fc.got) >= HEADER.size + length:
                    c["welcomes" if ftype == T_WELCOME else f"answers_{TYPE_NAMES.get(ftype, ftype)}"] += 1
                    end(fc, "ours")     # never a PROOF
    for fc in list(live.values()):
        end(fc, "ours")
    report(final=True)
    return 0


class Flood:
    """The harness's side of the flood: one process per kind in the attacker namespace, each
    one of env's daemons (so stopped with them on every exit path), and their counters."""

    def __init__(self, env, plan):
        self.env = env
        self.kinds = [k for k, n, _r in plan if n]
        # Ports freed at once (every connection ends in a reset), but a wide range all the same.
        run(env.in_atk("sysctl", "-q", "-w", "net.ipv4.ip_local_port_range=1024 65535"))
        for kind, n, r in plan:
            if n:
                env.daemon(f"flood-{kind}", env.in_atk(
                    sys.executable, "-u", os.path.abspath(__file__), "--flood", ATK_SERVER_ADDR,
                    str(LINK_PORT), kind, str(n), str(r)))
        self.plan = plan
        wait_until(lambda: all(self.last(k).get("connected", 0) > 0 for k in self.kinds),
                   15, "every flood process to connect to sproxy", interval=0.2)
        log("attacker: " + ", ".join(
            f"{n} {kind} connection(s)" + (f" (at most {r:g} new per second)" if r else "")
            for kind, n, r in plan if n) + f" to {ATK_SERVER_ADDR}:{LINK_PORT}, each reopened "
            "as soon as it ends")

    def last(self, kind):
        """The latest counters the flood process of `kind` printed ({} before the first)."""
        name = f"flood-{kind}"
        p = self.env.daemons[name][0]
        text = self.env.daemon_log(name)
        for line in reversed(text.splitlines()):
            if line.startswith("{"):
                try:
                    return json.loads(line)
                except ValueError:
                    continue
        if p.poll() is not None:
            raise Fail(f"{name} exited ({p.returncode}): {text[-2000:]}")
        return {}

    def running(self):
        return [k for k in self.kinds if self.env.daemons[f"flood-{k}"][0].poll() is None]

    def stop(self):
        """SIGTERM to each flood process; their final counters {kind: {...}}."""
        dead = [k for k in self.kinds if k not in self.running()]
        if dead:
            raise Fail(f"flood process(es) {dead} died during the run: "
                       + "; ".join(self.env.daemon_log(f"flood-{k}")[-1000:] for k in dead))
        for k in self.kinds:
            os.killpg(self.env.daemons[f"flood-{k}"][0].pid, signal.SIGTERM)
        for k in self.kinds:
            try:
                self.env.daemons[f"flood-{k}"][0].wait(timeout=10)
            except subprocess.TimeoutExpired:
                raise Fail(f"flood-{k} did not stop on SIGTERM")
        out = {k: self.last(k) for k in self.kinds}
        if not all(v.get("final") for v in out.values()):
            raise Fail(f"a flood process stopped without its final counters: {out}")
        return out


def describe_flood(stats):
    parts = []
    for k, v in stats.items():
        why = ", ".join(f"{x[len('connect_failed_'):]} {n}" for x, n in sorted(v.items())
                        if x.startswith("connect_failed_"))
        s = (f"{k}: {v.get('connected', 0)} connects ({v.get('attempts', 0)} attempts, "
             f"{v.get('connect_failed', 0)} failed{': ' + why if why else ''}), "
             f"{v.get('closed_by_sproxy', 0)} ended by sproxy "
             f"({v.get('held_1s', 0)} after >= 1 s, longest {v.get('max_held_s', 0)} s)")
        if k == "slow":
            s += f", {v.get('bytes_dripped', 0)} bytes dripped"
        if k == "hello":
            s += f", {v.get('hellos_sent', 0)} HELLOs sent, {v.get('welcomes', 0)} WELCOMEs back"
        parts.append(s)
    return "; ".join(parts)


# ---------------------------------------------------------------- scenarios flood, flood-psk

def atk_connections(env):
    """Connections from the attacker that sproxy's kernel holds established now (accepted or
    still in the accept queue)."""
    out = run(env.in_srv("ss", "-Htn", "state", "established", "src", ATK_SERVER_ADDR,
                         "dst", ATTACKER_ADDR), check=False)
    return len([x for x in out.splitlines() if x.strip()])


def log_time(line):
    """Seconds since midnight of a log line that starts HH:MM:SS.mmm, or None."""
    m = re.match(r"(\d\d):(\d\d):(\d\d)\.(\d{3}) ", line)
    return None if not m else (int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3))
                                + int(m.group(4)) / 1000)


def log_resume_steps(env):
    """Where the resume's time went, from the daemons' own log lines: cproxy saw the new
    address, sproxy took the resume, cproxy resumed."""
    cp, sp = env.daemon_log("cproxy"), env.daemon_log("sproxy")
    seen = log_lines(cp, rf"address {re.escape(netlab.CLIENT_NEW_ADDR)} appeared")
    back = log_lines(sp, r"cproxy is back from ")
    resumed = log_lines(cp, r"resumed over link ")
    if not (seen and back and resumed):
        return
    t0 = log_time(seen[0])
    steps = [(x, log_time(y)) for x, y in (("sproxy took the resume", back[0]),
                                            ("cproxy resumed", resumed[0]))]
    if t0 is None or any(v is None for _, v in steps):
        return
    log("resume steps after cproxy saw " + netlab.CLIENT_NEW_ADDR + ": "
        + ", ".join(f"{x} +{(v - t0) * 1000:.0f} ms" for x, v in steps))


def scenario_flood(env):
    psk = env.psk
    if psk and not log_lines(env.daemon_log("sproxy"), r"new sessions must prove the pre-shared key"):
        raise Fail("sproxy does not say that new sessions must prove the pre-shared key")
    flood = Flood(env, FLOOD_PLAN)
    problems = []
    time.sleep(FLOOD_WARMUP_S)
    log(f"attacker after {FLOOD_WARMUP_S:g} s: {describe_flood({k: flood.last(k) for k in flood.kinds})}; "
        f"sproxy's kernel holds {atk_connections(env)} established connection(s) from {ATTACKER_ADDR}")
    t = netlab.open_session(env, "telnet")
    netlab.start_ping(t, "e2e00901" if not psk else "e2e00902")
    time.sleep(netlab.PING_BEFORE_S)
    t_del, t_add, offs = netlab.change_address(env, [t])
    delay, seq = netlab.wait_resumed(t, offs[t.name], t_add)
    held = atk_connections(env)
    local, peer = netlab.resumed_link(env, 0)
    log(f"{t.name}: ping output resumed {delay:.2f} s after the new address (icmp_seq={seq} first) "
        f"over {local} -> {peer}, under the flood; sproxy's kernel holds {held} established "
        f"connection(s) from {ATTACKER_ADDR}")
    netlab.check_quiet_during_outage(t, t_del, t_add)
    log_resume_steps(env)
    time.sleep(netlab.PING_AFTER_S)
    transmitted, received, at = netlab.stop_ping(t)
    try:
        netlab.verdict_changes(t, transmitted, received, at, [delay])
    except Fail as e:
        problems.append(str(e))
    # A new session while the flood goes on: login to the shell prompt.
    started = time.monotonic()
    t2 = netlab.open_session(env, "telnet-new", prompt_timeout=FLOOD_LOGIN_S)
    login_s = time.monotonic() - started
    start = t2.mark()
    t2.send("echo FLOOD-$((6*7))-LOGIN\r")
    t2.expect(r"FLOOD-42-LOGIN", 5, start=start, what="echo in the new session")
    during = {k: flood.last(k) for k in flood.kinds}
    stats = flood.stop()
    log(f"attacker stopped: {describe_flood(stats)}")

    # What sproxy made of it.
    sp = env.daemon_log("sproxy")
    cap = log_lines(sp, r"\bWARN\b.*" + re.escape(ATTACKER_ADDR)
                    + rf" already holds {PER_SOURCE_HANDSHAKES} handshake places")
    counted = log_lines(sp, r"handshake limit per source turned away \d+ more")
    if cap:
        log(f"sproxy: {cap[0].strip()}")
    else:
        problems.append(f"sproxy logged no WARN that {ATTACKER_ADDR} reached its "
                        f"{PER_SOURCE_HANDSHAKES} handshake places")
    for line in counted:
        log(f"sproxy: {line.strip()}")
    everyone = log_lines(sp, r"\bWARN\b.*all \d+ handshake places are taken")
    if everyone:
        problems.append(f"sproxy's handshake places were all taken (one source should hold a "
                        f"quarter at most): {everyone[0].strip()}")
    drops = len(log_lines(sp, r"\bWARN\b.*dropped connection from " + atk_pattern(r"\d+")
                          + r" during its handshake"))
    log(f"sproxy: {drops} WARN line(s) `dropped connection from {ATTACKER_ADDR}:... during its "
        f"handshake`, {len(sp.splitlines())} log lines in all")
    sessions = log_lines(sp, NEW_SESSION_RE)
    theirs = [x for x in sessions if re.search(atk_pattern(r"\d+"), x)]
    if theirs:
        problems.append(f"sproxy opened session(s) for the attacker: {theirs[:3]}")
    if len(sessions) != 2:
        problems.append(f"expected two `new session` lines in sproxy's log (the user's two), saw "
                        f"{len(sessions)}: {[x.strip() for x in sessions[:5]]}")
    connects = sum(v.get("connected", 0) for v in stats.values())
    held_1s = sum(v.get("held_1s", 0) for v in stats.values())
    hellos = stats.get("hello", {}).get("hellos_sent", 0)
    welcomes = stats.get("hello", {}).get("welcomes", 0)
    if connects < FLOOD_MIN_CONNECTS:
        problems.append(f"the attacker connected only {connects} times (floor {FLOOD_MIN_CONNECTS})")
    if hellos < FLOOD_MIN_HELLOS:
        problems.append(f"the attacker sent only {hellos} HELLOs (floor {FLOOD_MIN_HELLOS})")
    if held_1s < PER_SOURCE_HANDSHAKES:
        problems.append(f"only {held_1s} attacker connections were held 1 s or more: the flood "
                        "never held sproxy's handshake places")
    unexpected = sum(v.get("unexpected_bytes", 0) for v in stats.values())
    if unexpected:
        problems.append(f"sproxy sent {unexpected} bytes to silent or slow connections")
    if any(k.startswith("answers_") for k in stats.get("hello", {})):
        log(f"attacker: sproxy also answered HELLOs with "
            f"{ {k: v for k, v in stats['hello'].items() if k.startswith('answers_')} }")
    if problems:
        raise Fail(f"{len(problems)} problem(s) (attacker while the session ran: "
                   f"{describe_flood(during)}):\n  " + "\n  ".join(problems))
    log(f"PASS {'flood-psk' if psk else 'flood'}: under {connects} attacker connects "
        f"({held_1s} held >= 1 s) and {hellos} HELLOs ({welcomes} WELCOMEs back) from "
        f"{ATTACKER_ADDR}, ping resumed {delay:.2f} s after the new address, icmp_seq "
        f"1..{transmitted} each exactly once; a new login took {login_s:.2f} s; sproxy capped "
        f"the attacker at {PER_SOURCE_HANDSHAKES} handshake places and opened it no session")


# ---------------------------------------------------------------- main

SCENARIOS = {"capture": (scenario_capture, False, False), "onpath": (scenario_onpath, True, False),
             "flood": (scenario_flood, False, False), "flood-psk": (scenario_flood, False, True)}
ALL = ["capture", "onpath", "flood", "flood-psk"]


def preflight(args):
    return netlab.common_preflight(args, "network namespaces, inetd on port 23, tcpdump, nft",
                               ["tcpdump", "nft", "sysctl"], "tcpdump nftables procps")


def remove_stale_attacker_namespaces():
    """Attacker namespaces left by an earlier run that was SIGKILLed (netlab.run_all removes
    the server and client ones)."""
    out = run(["ip", "netns", "list"], check=False)
    for line in out.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.fullmatch(rf"{netlab.NS_PREFIX}-(\d+)-\d+-{ATK_SUFFIX}", name)
        if not m or int(m.group(1)) == os.getpid() or os.path.exists(f"/proc/{m.group(1)}"):
            continue
        log(f"removing stale namespace {name} from an earlier run")
        netlab.kill_namespace_processes(name)
        run(["ip", "netns", "del", name], check=False)


def run_scenario(args, index, name):
    """As roam_e2e.py's run_scenario, with the three-host environment."""
    fn, onpath, psk = SCENARIOS[name]
    if index == 0:
        remove_stale_attacker_namespaces()
    return netlab.run_env(args, name, SecEnv(args, index, onpath, psk), fn, SCENARIO_BUDGET_S)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--replay-client":
        return replay_client(sys.argv[2:])
    if len(sys.argv) > 1 and sys.argv[1] == "--relay":
        return relay_main(sys.argv[2:])
    if len(sys.argv) > 1 and sys.argv[1] == "--flood":
        return flood_main(sys.argv[2:])
    return netlab.main("security_e2e", __doc__, ALL, preflight, run_scenario)


if __name__ == "__main__":
    sys.exit(main())
