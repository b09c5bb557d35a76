#!/usr/bin/env python3
"""End-to-end security tests of roamproxy: what an attacker on the client's network can do
with what it records there. Run the way the user runs it.

Reuses roam_e2e.py (imported as a module, unchanged): its two namespaces joined by a veth
pair, inetd + telnetd, the packaged bin/sproxy and bin/cproxy, telnet on a pty running
`ping -i 0.2 127.0.0.1`, the address change (`ip addr del` 192.0.2.2, then `ip addr add`
192.0.2.3) and the gapless icmp_seq verdict. It adds a THIRD host, the attacker, joined to
the server by another veth pair:

    server namespace    192.0.2.1/24 (eth1)   198.51.100.1/24 (eth2)  sproxy on *:6200
    client namespace    192.0.2.2/24 -> 192.0.2.3/24 (eth1)           cproxy, telnet, tcpdump
    attacker namespace  198.51.100.2/24 (eth1)                        replays to 198.51.100.1:6200

`tcpdump -i eth1 tcp port 6200` in the client namespace records the link from before the
login until after the resume. The capture is parsed with the standard library only (pcap
records, Ethernet, IPv4/IPv6, TCP reassembly by sequence number).

Scenarios (default: all):
  replay  default settings (no TLS). Type a marker (`echo PASSWORD-<random>`) and run ping;
          change the client's address. The capture must show the plain link: the new
          session (HELLO NEW / WELCOME NEW_SESSION), the resume (HELLO RESUME, CHALLENGE,
          PROOF, WELCOME RESUMED), and, as the control for the `tls` scenario, the marker and
          `icmp_seq` in clear. Then, from the attacker's host, replay what cproxy sent on the
          resume connection, twice: first step by step (the HELLO, wait for sproxy's
          CHALLENGE, the recorded PROOF), then all recorded bytes at once. Each time sproxy
          must answer a fresh CHALLENGE and then WELCOME status BAD_PROOF (8) and nothing
          else, log one WARN naming the attacker's address and port, and keep the live link
          (the same TCP connection from 192.0.2.3 before and after). ping must stay gapless
          with every icmp_seq exactly once through the end.
  tls     the same with --tls on both proxies (key store and known-servers file in the temp
          dir). A second tcpdump records telnet <-> cproxy on the client's loopback (port
          5200), where the session is plain text by design. Neither the marker nor
          `icmp_seq` may appear in the link capture (raw file, and every reassembled stream),
          while the same check on the loopback capture of the same run must find both (the
          control that proves the check can fail), and the link must have carried at least as
          many bytes towards the client as telnet received (so the capture saw the session).
          Then the attacker replays the recorded resume connection, step by step (flight by
          flight, as the capture shows them) and all at once: sproxy's TLS handshake must fail
          on the replayed bytes, not at its deadline (WARN `dropped connection from
          <attacker>:<port> during its handshake`), the
          attacker must get no roamproxy frame, the live link stays, and ping stays gapless.

Usage (as root; needs what roam_e2e.py needs, and tcpdump):
  mvn -q -DskipTests package
  sudo python3 src/test/e2e/security_e2e.py --dist target/roamproxy [replay|tls|all]

Only 192.0.2.0/24, 198.51.100.0/24 (both reserved for documentation) and loopback are used,
only inside the namespaces this script creates. Every namespace, process, temp dir and
capture it creates is removed on success, failure, Ctrl-C and SIGTERM. Exit status: 0 all
passed, 1 a scenario failed, 2 cannot run, 130 interrupted.
"""

import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, HERE)
import roam_e2e as rt                   # noqa: E402  (after the path is set)
from roam_e2e import Fail, log, run, wait_until   # noqa: E402

LINK_PORT = 6200
LOCAL_PORT = 5200
ATK_SERVER_ADDR = "198.51.100.1"        # sproxy's address on the attacker's network
ATTACKER_ADDR = "198.51.100.2"
ATK_PREFIX = 24
ATK_SERVER_IFACE = "eth2"               # in the server namespace
ATK_IFACE = "eth1"                      # in the attacker namespace
ATK_SUFFIX = "atk"
SCENARIO_BUDGET_S = 150                 # hard cap per scenario, hang => failure
REPLAY_IO_TIMEOUT_S = 10                # the replay client's bound on each read
STEP_WAIT_S = 3                         # steps: longest wait for sproxy's answer to a flight
AFTER_REPLAY_S = 2.0                    # ping keeps running this long after the replays

# Wire format (src/main/java/net/roamproxy/protocol/Wire.java and beside it).
MAGIC = 0x5250
VERSION = 2
HEADER = struct.Struct("!HBBIQQ")       # magic, version, type, length, seq, ack: 24 bytes
T_HELLO, T_WELCOME, T_HEARTBEAT, T_DATA, T_ACK, T_END, T_CHALLENGE, T_PROOF = range(1, 9)
TYPE_NAMES = {1: "HELLO", 2: "WELCOME", 3: "HEARTBEAT", 4: "DATA", 5: "ACK", 6: "END",
              7: "CHALLENGE", 8: "PROOF", 9: "ABORT", 10: "STOPPING"}
HELLO_SIZE = 62                 # a resume's HELLO: 61 fixed bytes and an empty service name's length
WELCOME_SIZE = 77
CHALLENGE_NONCE_SIZE = 32
PROOF_SIZE = 32
MODE_NEW, MODE_RESUME = 1, 2
ST_NEW_SESSION, ST_RESUMED, ST_BAD_PROOF = 1, 2, 8
STATUS_NAMES = {1: "NEW_SESSION", 2: "RESUMED", 3: "UNKNOWN_SESSION", 4: "VERSION_MISMATCH",
                5: "TARGET_UNAVAILABLE", 6: "BUSY", 7: "AUTH_FAILED", 8: "BAD_PROOF",
                9: "TLS_REQUIRED"}
TLS_RECORD_NAMES = {20: "change_cipher_spec", 21: "alert", 22: "handshake", 23: "application_data"}



# ---------------------------------------------------------------- the three hosts

class SecEnv(rt.Env):
    """roam_e2e's two hosts, proxies with or without --tls, and a third host, the attacker,
    on its own veth pair to the server namespace."""

    def __init__(self, args, index, tls):
        super().__init__(args, index, direct=False)
        self.tls = tls
        self.atk = self.srv[:-len("srv")] + ATK_SUFFIX

    def in_atk(self, *argv):
        return ["ip", "netns", "exec", self.atk, *argv]

    def start(self):
        super().start()
        self.start_attacker_host()

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
        self.rst = False

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
            c.rst = True
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
    many bytes they cover. Raises Fail on bytes that are not roamproxy frames."""
    frames, off = [], 0
    while off + HEADER.size <= len(data):
        magic, version, ftype, length, seq, ack = HEADER.unpack_from(data, off)
        if magic != MAGIC or version != VERSION:
            raise Fail(f"not a roamproxy v{VERSION} frame at offset {off}: {data[off:off + 24].hex()}")
        if off + HEADER.size + length > len(data):
            break
        raw = data[off:off + HEADER.size + length]
        frames.append((ftype, {"magic": magic, "version": version, "type": ftype, "length": length,
                               "seq": seq, "ack": ack}, raw[HEADER.size:], raw))
        off += HEADER.size + length
    return frames, off


def frame_names(frames):
    return " ".join(TYPE_NAMES.get(t, str(t)) + (f"({STATUS_NAMES.get(p[0], p[0])})" if t == T_WELCOME else "")
                    for t, _h, p, _r in frames)


def tls_records(data):
    """[(content type, length)] of the TLS records at the start of `data`."""
    out, off = [], 0
    while off + 5 <= len(data):
        ctype, _ver, length = struct.unpack("!BHH", data[off:off + 5])
        if off + 5 + length > len(data):
            break
        out.append((ctype, length))
        off += 5 + length
    return out


def offers_tls_resumption(c2s):
    """Whether the first record is a ClientHello with a pre_shared_key extension (41)."""
    if len(c2s) < 9 or c2s[0] != 22 or c2s[5] != 1:
        return False
    body = c2s[9:5 + struct.unpack("!H", c2s[3:5])[0]]
    off = 2 + 32                                   # legacy_version, random
    off += 1 + body[off]                           # legacy_session_id
    off += 2 + struct.unpack("!H", body[off:off + 2])[0]   # cipher_suites
    off += 1 + body[off]                           # legacy_compression_methods
    end = off + 2 + struct.unpack("!H", body[off:off + 2])[0]
    off += 2
    while off + 4 <= end:
        etype, elen = struct.unpack("!HH", body[off:off + 4])
        if etype == 41:
            return True
        off += 4 + elen
    return False


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
    t.expect(rt.PROMPT_RE, 5, start=m.end(), what="prompt after echo")
    log(f"{t.name}: typed `echo {marker}` (stands in for a password)")


def ping_across_address_change(env, t):
    """roam_e2e's roam scenario up to the resume (no speed limit). Returns (t_add, delay)."""
    rt.start_ping(t, "e2e00501")
    time.sleep(rt.PING_BEFORE_S)
    t_del, t_add, offs = rt.change_address(env, [t])
    delay, seq = rt.wait_resumed(t, offs[t.name], t_add)
    log(f"{t.name}: ping output resumed {delay:.2f} s after the new address (icmp_seq={seq} "
        f"first); link now from {rt.link_sources(env)}")
    rt.check_quiet_during_outage(t, t_del, t_add)
    time.sleep(rt.PING_AFTER_S)
    return delay


def finish_ping(t, delay):
    """Stop ping; every icmp_seq exactly once, in order. No wall-clock limit on the resume."""
    transmitted, received, at = rt.stop_ping(t)
    rt.verdict_within(t, transmitted, received, at, delay, math.inf)
    return transmitted


def atk_pattern(port):
    return rf"(?:\[?(?:::ffff:)?){re.escape(ATTACKER_ADDR)}\]?:{port}\b"


def log_lines(text, pattern):
    rx = re.compile(pattern)
    return [line for line in text.splitlines() if rx.search(line)]


def one_warn_each(sp, reports, before, after, what):
    """[(port, line)]: the one WARN line of sproxy's log `sp` about each attacker connection in
    `reports`, which reads `before` + the attacker's address + `after`; fails naming `what`."""
    found = []
    for r in reports:
        port = r["local"].rsplit(":", 1)[1]
        warns = log_lines(sp, r"\bWARN\b.*" + re.escape(before) + atk_pattern(port) + re.escape(after))
        if len(warns) != 1:
            raise Fail(f"expected one WARN in sproxy's log {what} {ATTACKER_ADDR}:{port}, "
                       f"saw {len(warns)}: {warns}")
        log(f"sproxy: {warns[0].strip()}")
        found.append((port, warns[0]))
    return found


def check_attacker_never_attached(env):
    sp = env.daemon_log("sproxy")
    back = log_lines(sp, r"cproxy is back from ")
    bad = [x for x in back if ATTACKER_ADDR in x]
    if bad:
        raise Fail(f"sproxy took the attacker's replay as a resume: {bad}")
    if not any(rt.CLIENT_NEW_ADDR in x for x in back):
        raise Fail(f"sproxy's log shows no resume from {rt.CLIENT_NEW_ADDR}: {back}")


def check_live_link_kept(env, before):
    after = env.server_links()
    log(f"sproxy's established link connections after the replays: {sorted(after) or 'none'}")
    if after != before:
        raise Fail(f"sproxy's link connections changed across the replays: before "
                   f"{sorted(before)}, after {sorted(after)} (the replay touched the live link)")


# ---------------------------------------------------------------- scenarios

def scenario_replay(env):
    cap = Capture(env, "tcpdump-link", rt.IFACE, LINK_PORT)
    t = rt.open_session(env, "telnet")
    marker = f"PASSWORD-{secrets.token_hex(6)}"
    type_marker(t, marker)
    delay = ping_across_address_change(env, t)
    linktype, packets = cap.stop()
    conns = tcp_connections(tcp_segments(linktype, packets), LINK_PORT)
    for c in conns:
        c2s, s2c = c.stream("c2s"), c.stream("s2c")
        log(f"capture: connection {c.describe()}: cproxy sent {len(c2s)} bytes "
            f"[{frame_names(parse_frames(c2s)[0][:4])} ...], sproxy sent {len(s2c)} bytes "
            f"[{frame_names(parse_frames(s2c)[0][:4])} ...]")

    # The control for the tls scenario: on the plain link, the check finds what it looks for.
    needles = [marker.encode(), b"icmp_seq"]
    found = find_plaintext(cap.path, conns, needles)
    for n in needles:
        log(f"capture: {n.decode()!r} in clear: {'; '.join(found.get(n, ['nowhere']))}")
    missing = [n.decode() for n in needles if n not in found]
    if missing:
        raise Fail(f"the plain link's capture lacks {missing}: the plaintext check cannot "
                   "tell a leak from none, so the tls scenario's check proves nothing")

    # The new session, then exactly one successful resume of it.
    if not conns:
        raise Fail("the capture holds no connection to port 6200")
    first_c2s, _ = parse_frames(conns[0].stream("c2s"))
    first_s2c, _ = parse_frames(conns[0].stream("s2c"))
    if not (first_c2s and first_c2s[0][0] == T_HELLO and first_c2s[0][2][0] == MODE_NEW
            and first_s2c and first_s2c[0][0] == T_WELCOME and first_s2c[0][2][0] == ST_NEW_SESSION):
        raise Fail(f"the first link connection is not a new session: cproxy sent "
                   f"[{frame_names(first_c2s[:3])}], sproxy [{frame_names(first_s2c[:3])}]")
    session_id = first_s2c[0][2][1:9]
    resumes = []
    for c in conns[1:]:
        c2s, _ = parse_frames(c.stream("c2s"))
        s2c, _ = parse_frames(c.stream("s2c"))
        if c2s and c2s[0][0] == T_HELLO and c2s[0][2][0] == MODE_RESUME:
            if c2s[0][2][1:9] != session_id:
                raise Fail(f"{c.describe()} resumes session {c2s[0][2][1:9].hex()}, not "
                           f"{session_id.hex()}")
            ok = [f for f in s2c if f[0] == T_WELCOME and f[2][0] == ST_RESUMED]
            if ok:
                resumes.append((c, c2s, s2c))
    if len(resumes) != 1:
        raise Fail(f"expected exactly one successful resume of session {session_id.hex()} in the "
                   f"capture, found {len(resumes)}")
    conn, c2s, s2c = resumes[0]
    if [f[0] for f in c2s[:2]] != [T_HELLO, T_PROOF] or [f[0] for f in s2c[:2]] != [T_CHALLENGE, T_WELCOME]:
        raise Fail(f"unexpected resume exchange on {conn.describe()}: cproxy "
                   f"[{frame_names(c2s[:3])}], sproxy [{frame_names(s2c[:3])}]")
    hello, proof = c2s[0][3], c2s[1][3]
    if (len(hello), len(proof)) != (HEADER.size + HELLO_SIZE, HEADER.size + PROOF_SIZE):
        raise Fail(f"the recorded HELLO is {len(hello)} bytes and PROOF {len(proof)}, expected "
                   f"{HEADER.size + HELLO_SIZE} and {HEADER.size + PROOF_SIZE}")
    recorded_nonce = s2c[0][2][:CHALLENGE_NONCE_SIZE]
    whole = conn.stream("c2s")
    log(f"the resume to replay: {conn.describe()}, session {session_id.hex()}: HELLO RESUME "
        f"({len(hello)} bytes), PROOF ({len(proof)} bytes); {len(whole)} bytes from cproxy in all")

    # The attacker replays it twice while the session runs.
    before = env.server_links()
    log(f"sproxy's established link connections before the replays: {sorted(before) or 'none'}")
    if len(before) != 1:
        raise Fail(f"expected one live link before the replays, saw {sorted(before)}")
    # Step by step: the HELLO, then sproxy's CHALLENGE (one frame, as recorded), then the PROOF.
    reports = [replay(env, [(hello, 0), (proof, len(s2c[0][3]))], "steps", 1),
               replay(env, [(whole, 0)], "burst", 2)]
    nonces = [recorded_nonce]
    for r in reports:
        frames, used = parse_frames(r["received"])
        if used != len(r["received"]):
            raise Fail(f"attacker {r['local']}: sproxy sent {len(r['received']) - used} bytes "
                       "that are not whole frames")
        types = [f[0] for f in frames]
        if types != [T_CHALLENGE, T_WELCOME]:
            raise Fail(f"attacker {r['local']}: expected CHALLENGE then WELCOME from sproxy, got "
                       f"[{frame_names(frames)}]")
        nonce = frames[0][2][:CHALLENGE_NONCE_SIZE]
        if nonce in nonces:
            raise Fail(f"attacker {r['local']}: sproxy's CHALLENGE nonce {nonce.hex()} is not fresh")
        nonces.append(nonce)
        _t, h, payload, raw = frames[1]
        if (h["magic"], h["version"], h["type"], h["length"]) != (MAGIC, VERSION, T_WELCOME, WELCOME_SIZE):
            raise Fail(f"attacker {r['local']}: malformed WELCOME header {raw[:24].hex()}")
        status = payload[0]
        log(f"attacker {r['local']}: sproxy answered CHALLENGE (fresh nonce {nonce[:8].hex()}...), "
            f"then WELCOME magic 0x{h['magic']:04x} v{h['version']} type {h['type']} length "
            f"{h['length']} seq {h['seq']} ack {h['ack']} status {status} "
            f"({STATUS_NAMES.get(status, '?')})")
        if status != ST_BAD_PROOF:
            raise Fail(f"attacker {r['local']}: sproxy answered the replayed resume with status "
                       f"{status} ({STATUS_NAMES.get(status, '?')}), not BAD_PROOF")
        if r["end"] not in ("closed by sproxy", "reset by sproxy"):
            raise Fail(f"attacker {r['local']}: the connection was not closed by sproxy ({r['end']})")

    time.sleep(AFTER_REPLAY_S)
    one_warn_each(env.daemon_log("sproxy"), reports, "refused resume from ",
                  ": its proof of the session secret is wrong", "refusing the resume from")
    check_attacker_never_attached(env)
    check_live_link_kept(env, before)
    transmitted = finish_ping(t, delay)
    log(f"PASS replay: {reports[0]['sent']} bytes (step by step) and {reports[1]['sent']} bytes "
        f"(at once) replayed from {ATTACKER_ADDR}: BAD_PROOF both times, the live link kept, "
        f"icmp_seq 1..{transmitted} each exactly once")


def scenario_tls(env):
    link = Capture(env, "tcpdump-link", rt.IFACE, LINK_PORT)
    local = Capture(env, "tcpdump-loopback", "lo", LOCAL_PORT)
    t = rt.open_session(env, "telnet")
    marker = f"PASSWORD-{secrets.token_hex(6)}"
    type_marker(t, marker)
    delay = ping_across_address_change(env, t)
    linktype, packets = link.stop()
    conns = tcp_connections(tcp_segments(linktype, packets), LINK_PORT)
    l_linktype, l_packets = local.stop()
    l_conns = tcp_connections(tcp_segments(l_linktype, l_packets), LOCAL_PORT)

    # The link: TLS only, and it carried the session.
    for c in conns:
        c2s, s2c = c.stream("c2s"), c.stream("s2c")
        log(f"capture: connection {c.describe()}: cproxy sent {len(c2s)} bytes in "
            f"{len(tls_records(c2s))} TLS records, sproxy {len(s2c)} bytes in "
            f"{len(tls_records(s2c))}; first bytes {c2s[:3].hex()} / {s2c[:3].hex()}")
        for d, data in (("c2s", c2s), ("s2c", s2c)):
            if data and not (data[0] in TLS_RECORD_NAMES and data[1] == 3):
                raise Fail(f"{c.describe()} {d} does not start with a TLS record: {data[:24].hex()}")
    talking = [c for c in conns if c.stream("c2s") and c.stream("s2c")]
    if len(talking) < 2:
        raise Fail(f"expected the login and the resume connection in the capture, found "
                   f"{len(talking)} connections with data both ways")
    link_down = sum(len(c.stream("s2c")) for c in conns)
    local_down = sum(len(c.stream("s2c")) for c in l_conns)
    log(f"capture: sproxy -> cproxy {link_down} bytes on the link (TLS); cproxy -> telnet "
        f"{local_down} bytes on the client's loopback (plain)")
    if link_down < local_down:
        raise Fail(f"the link carried {link_down} bytes towards the client, fewer than the "
                   f"{local_down} telnet received: the capture missed part of the session")

    needles = [marker.encode(), b"icmp_seq"]
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
        log(f"capture: {n.decode()!r} on the TLS link: {'; '.join(leaks.get(n, ['nowhere']))}")
    if leaks:
        raise Fail(f"the TLS link leaks plaintext: {leaks}")

    # The resume connection (the one that carries the session now), replayed.
    before = env.server_links()
    log(f"sproxy's established link connections before the replays: {sorted(before) or 'none'}")
    if len(before) != 1:
        raise Fail(f"expected one live link before the replays, saw {sorted(before)}")
    live = [c for c in talking if f"{c.client[0]}:{c.client[1]}" in before]
    if len(live) != 1 or live[0] is talking[0] or live[0].client[0] != rt.CLIENT_NEW_ADDR:
        raise Fail(f"the live link {sorted(before)} is not a resume from {rt.CLIENT_NEW_ADDR} in the "
                   f"capture: {[c.describe() for c in talking]}")
    conn = live[0]
    flights = conn.flights()
    whole = conn.stream("c2s")
    resumption = offers_tls_resumption(whole)
    log(f"the resume to replay: {conn.describe()}: {len(whole)} bytes from cproxy in "
        f"{len(flights)} flights ({', '.join(str(len(f)) for f, _ in flights)} bytes); its ClientHello "
        f"{'offers' if resumption else 'does not offer'} TLS session resumption (pre_shared_key)")
    reports = [replay(env, flights, "steps", 1), replay(env, [(whole, 0)], "burst", 2)]
    for r in reports:
        got = r["received"]
        records = tls_records(got)
        log(f"attacker {r['local']}: sproxy sent {len(got)} bytes: TLS records "
            f"[{', '.join(f'{TLS_RECORD_NAMES.get(c, c)}({n})' for c, n in records)}]")
        if got and not (got[0] in TLS_RECORD_NAMES and got[1] == 3):
            raise Fail(f"attacker {r['local']}: sproxy answered with something other than TLS: "
                       f"{got[:24].hex()}")
        if struct.pack("!HB", MAGIC, VERSION) in got:
            raise Fail(f"attacker {r['local']}: a plain roamproxy frame header in sproxy's answer")
        if r["end"] not in ("closed by sproxy", "reset by sproxy", "reset by sproxy (while sending)",
                            "closed by sproxy before the last flight"):
            raise Fail(f"attacker {r['local']}: the connection was not closed by sproxy ({r['end']})")

    time.sleep(AFTER_REPLAY_S)
    sp = env.daemon_log("sproxy")
    for port, drop in one_warn_each(sp, reports, "dropped connection from ", " during its handshake",
                                    "dropping, during its handshake,"):
        if "not completed within" in drop:
            raise Fail(f"sproxy dropped {ATTACKER_ADDR}:{port} at its handshake deadline, not on "
                       "the replayed bytes: the replay did not deliver what cproxy had sent")
    other = log_lines(sp, r"refused resume from " + re.escape(ATTACKER_ADDR))
    if other:
        raise Fail(f"the replayed TLS bytes reached roamproxy's own handshake: {other}")
    check_attacker_never_attached(env)
    check_live_link_kept(env, before)

    # The TLS files went where they were told, and cproxy trusted sproxy on first use.
    st = os.stat(env.keystore)
    if stat.S_IMODE(st.st_mode) != 0o600:
        raise Fail(f"{env.keystore} has mode {stat.S_IMODE(st.st_mode):o}, not 600")
    with open(env.known_servers) as f:
        known = [x for line in f if line.strip() and not line.startswith("#") for x in line.split()]
    if len(known) != 2 or known[0] != f"{rt.SERVER_ADDR}:{LINK_PORT}" or not known[1].startswith("SHA256:"):
        raise Fail(f"{env.known_servers} does not record {rt.SERVER_ADDR}:{LINK_PORT}: {known}")
    if known[1] not in env.daemon_log("sproxy"):
        raise Fail(f"the fingerprint cproxy recorded, {known[1]}, is not the one sproxy logged")
    log(f"known_servers: {' '.join(known)}, the fingerprint sproxy logged; key store mode 0600")
    transmitted = finish_ping(t, delay)
    log(f"PASS tls: neither {marker!r} nor 'icmp_seq' on the link (both on loopback); "
        f"{reports[0]['sent']} bytes replayed flight by flight and {reports[1]['sent']} at once from "
        f"{ATTACKER_ADDR}: the TLS handshake failed both times, the live link kept, "
        f"icmp_seq 1..{transmitted} each exactly once")


SCENARIOS = {"replay": (scenario_replay, False), "tls": (scenario_tls, True)}
ALL = ["replay", "tls"]


# ---------------------------------------------------------------- main

def preflight(args):
    problems = []
    if os.geteuid() != 0:
        problems.append("must run as root (network namespaces, inetd on port 23, tcpdump)")
    tools = ["ip", "ss", "inetd", "telnet", "ping", "setsid", "unshare", "mount", "sh", "tcpdump"]
    missing = [x for x in tools if not shutil.which(x)]
    if not (shutil.which("telnetd") or shutil.which("in.telnetd")):
        missing.append("telnetd")
    if missing:
        problems.append(f"missing tools: {' '.join(missing)} (Debian: apt-get install -y telnetd "
                        "openbsd-inetd telnet iputils-ping iproute2 util-linux tcpdump)")
    for b in ("cproxy", "sproxy"):
        if not os.access(os.path.join(args.dist, "bin", b), os.X_OK):
            problems.append(f"{args.dist}/bin/{b} not found or not executable "
                            "(build with: mvn -q -DskipTests package)")
    return problems


def remove_stale_attacker_namespaces():
    """Attacker namespaces left by an earlier run that was SIGKILLed (roam_e2e removes the
    server and client ones)."""
    out = run(["ip", "netns", "list"], check=False)
    for line in out.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.fullmatch(rf"{rt.NS_PREFIX}-(\d+)-\d+-{ATK_SUFFIX}", name)
        if not m or int(m.group(1)) == os.getpid() or os.path.exists(f"/proc/{m.group(1)}"):
            continue
        log(f"removing stale namespace {name} from an earlier run")
        rt.kill_namespace_processes(name)
        run(["ip", "netns", "del", name], check=False)


def run_scenario(args, index, name):
    """As roam_e2e.run_scenario, with the three-host environment."""
    fn, tls = SCENARIOS[name]
    return rt.run_env(args, name, SecEnv(args, index, tls), fn, SCENARIO_BUDGET_S)

def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--replay-client":
        return replay_client(sys.argv[2:])
    ap = rt.argument_parser(__doc__, ALL)
    args = ap.parse_args()
    names = rt.scenario_names(ap, args, ALL)
    return rt.run_all("security_e2e", preflight(args), names, lambda i, name: run_scenario(args, i, name))


if __name__ == "__main__":
    sys.exit(main())
