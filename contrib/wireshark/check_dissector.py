#!/usr/bin/env python3
"""Checks contrib/wireshark/roamproxy.lua with tshark on a capture made here, frame by frame.

The frames come from the design report's hex dumps (src/docs/generated/hexdumps.adoc, written
by WireDumpsTest from the proxies' own classes, so they are what the code sends), plus frames
built here for what the dumps do not show: a signed and an unauthenticated REFUSED, a HELLO
for a named service, a version-2 VERSION_MISMATCH answer, an unknown type, a bad length and
a connection that is not roamproxy at all. They go into a pcap of TCP connections to port 6200
(and one to another port, found by the heuristic), split across segments in the awkward ways
TCP can: a frame in three segments, several frames in one, a segment that ends one frame and
starts the next. tshark must show every frame with its type, seq, ack and length, the expected
Info summary per packet, the host key's fingerprint as sproxy prints it, and expert info (no
Lua error) for each broken one.

Usage: python3 contrib/wireshark/check_dissector.py [--keep DIR]
Exit status: 0 passed, or skipped with one line when tshark is missing; 1 failed (also when
tshark is missing as root with CI=true).
"""

import argparse
import base64
import hashlib
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DISSECTOR = os.path.join(HERE, "roamproxy.lua")
HEXDUMPS = os.path.join(ROOT, "src", "docs", "generated", "hexdumps.adoc")
HEADER = struct.Struct("!HBBIQQ")
PORT = 6200


def hexdumps(path):
    """{anchor: frame bytes} from the report's generated hex dumps."""
    frames, anchor, inside, buf = {}, None, False, bytearray()
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            m = re.fullmatch(r"\[\[(hex-[a-z-]+)\]\]", line)
            if m:
                anchor = m.group(1)
            elif line == "----":
                if inside and anchor:
                    frames[anchor] = bytes(buf)
                inside, buf = not inside, bytearray()
            elif inside and re.match(r"[0-9a-f]{4}  ", line):
                buf += bytes.fromhex(line[6:53])
    return frames


def frame(ftype, payload=b"", seq=0, ack=0, version=3, length=None, sealed=None):
    """A frame's bytes; a sealed type gets `payload` as fake ciphertext and a fake tag."""
    if sealed is None:
        sealed = ftype not in (1, 2, 11)
    body = payload + (bytes(range(0xf0, 0x100)) if sealed else b"")
    return HEADER.pack(0x5250, version, ftype, len(body) if length is None else length, seq, ack) + body


# ---------------------------------------------------------------- a pcap of TCP connections

class Pcap:
    def __init__(self):
        self.records = []
        self.t = 1_700_000_000.0

    def packet(self, src, dst, sport, dport, seq, ack, flags, payload=b""):
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xffffffff, ack & 0xffffffff,
                          5 << 4, flags, 65535, 0, 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0,
                         bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
        eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
        data = eth + ip + tcp
        self.t += 0.001
        self.records.append(struct.pack("<IIII", int(self.t), int(self.t % 1 * 1e6), len(data), len(data)) + data)
        return len(self.records)

    def write(self, path):
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
            f.writelines(self.records)


class Conn:
    """One TCP connection; send() adds one segment in a direction and returns its packet number."""

    def __init__(self, pcap, cport, sport=PORT, client="192.0.2.2", server="192.0.2.1"):
        self.pcap, self.cport, self.sport, self.client, self.server = pcap, cport, sport, client, server
        self.next = {"c2s": 1000, "s2c": 5000}
        pcap.packet(client, server, cport, sport, 999, 0, 0x02)
        pcap.packet(server, client, sport, cport, 4999, 1000, 0x12)
        pcap.packet(client, server, cport, sport, 1000, 5000, 0x10)

    def send(self, direction, data):
        other = "s2c" if direction == "c2s" else "c2s"
        src, dst, sp, dp = ((self.client, self.server, self.cport, self.sport) if direction == "c2s"
                            else (self.server, self.client, self.sport, self.cport))
        n = self.pcap.packet(src, dst, sp, dp, self.next[direction], self.next[other], 0x18, data)
        self.next[direction] += len(data)
        return n


def fingerprint(host_key):
    """As sproxy --fingerprint prints it: SHA256: and the unpadded base64 of the key's SHA-256."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(host_key).digest()).decode().rstrip("=")


def build(pcap):
    """The capture; returns [(packet number, direction, [(type, seq, ack, length)], info, experts)]:
    what tshark must show for each packet that completes at least one roamproxy frame."""
    dumps = hexdumps(HEXDUMPS)
    for name in ("hex-hello", "hex-welcome", "hex-proof", "hex-token", "hex-data", "hex-heartbeat",
                 "hex-hello-resume", "hex-welcome-resumed", "hex-refused"):
        if name not in dumps:
            raise SystemExit(f"FAIL: {HEXDUMPS} has no [[{name}]] dump")
    sid = "907d103bd57621e2"
    expect = []

    def want(n, direction, frames, info, experts=(), host_key=None):
        expect.append((n, direction, frames, info, list(experts), fingerprint(host_key) if host_key else ""))

    def hdr(b):
        _m, _v, t, length, seq, ack = HEADER.unpack_from(b)
        return (t, seq, ack, length)

    # 1. A new session, as the dumps show it, then traffic split every which way.
    c = Conn(pcap, 40001)
    want(c.send("c2s", dumps["hex-hello"]), "c2s", [hdr(dumps["hex-hello"])], "HELLO NEW")
    w = dumps["hex-welcome"]
    c.send("s2c", w[:100])                              # the WELCOME in two segments
    want(c.send("s2c", w[100:]), "s2c", [hdr(w)], f"WELCOME NEW_SESSION id={sid}", host_key=w[24 + 77:24 + 109])
    want(c.send("c2s", dumps["hex-proof"]), "c2s", [hdr(dumps["hex-proof"])], "PROOF")
    two = dumps["hex-token"] + dumps["hex-data"]        # two frames in one segment
    want(c.send("s2c", two), "s2c", [hdr(dumps["hex-token"]), hdr(dumps["hex-data"])],
         "TOKEN, DATA seq=0 ack=0 len=7")
    hb = dumps["hex-heartbeat"]                         # a 40-byte frame in three segments
    c.send("c2s", hb[:10])
    c.send("c2s", hb[10:20])
    want(c.send("c2s", hb[20:]), "c2s", [hdr(hb)], "HEARTBEAT seq=0 ack=7")
    d1 = frame(4, b"x" * 3000, seq=0, ack=7)
    d2 = frame(4, b"y" * 1000, seq=3000, ack=7)
    end = frame(6, seq=4000, ack=7)
    ack = frame(5, seq=4001, ack=7)
    stream = d1 + d2 + end + ack
    cut1, cut2 = 1400, len(d1) + 500                    # ... d1 | d1 d2 | d2 END ACK
    c.send("c2s", stream[:cut1])
    want(c.send("c2s", stream[cut1:cut2]), "c2s", [hdr(d1)], "DATA seq=0 ack=7 len=3000")
    want(c.send("c2s", stream[cut2:]), "c2s", [hdr(d2), hdr(end), hdr(ack)],
         "DATA seq=3000 ack=7 len=1000, END seq=4000 ack=7, ACK seq=4001 ack=7")
    big = frame(4, bytes(65536), seq=7, ack=4001)       # the largest frame, in MSS-sized pieces
    for i in range(0, len(big) - 1448, 1448):
        c.send("s2c", big[i:i + 1448])
    want(c.send("s2c", big[len(big) - (len(big) % 1448 or 1448):]), "s2c", [hdr(big)],
         "DATA seq=7 ack=4001 len=65536")
    for ftype, name in ((9, "ABORT"), (10, "STOPPING")):
        f = frame(ftype, seq=65543, ack=4001)
        want(c.send("s2c", f), "s2c", [hdr(f)], f"{name} seq=65543 ack=4001")

    # A retransmission that overlaps data already seen and carries more: with
    # tcp.reassemble_out_of_order (as the README says), the frames in it are not lost.
    retx = frame(4, b"z" * 100, seq=65543, ack=4001) + frame(3, seq=65643, ack=4001)
    c.send("s2c", retx[:60])
    c.next["s2c"] -= 60
    want(c.send("s2c", retx), "s2c", [hdr(retx), hdr(retx[140:])],
         "[TCP Out-Of-Order] DATA seq=65543 ack=4001 len=100, HEARTBEAT seq=65643 ack=4001",
         ["out-of-order segment"])

    # 2. A resume, and a resume of a session sproxy does not know (MAC-authenticated refusal).
    c = Conn(pcap, 40002, client="192.0.2.3")
    want(c.send("c2s", dumps["hex-hello-resume"]), "c2s", [hdr(dumps["hex-hello-resume"])],
         f"HELLO RESUME id={sid} ack=7")
    want(c.send("s2c", dumps["hex-welcome-resumed"]), "s2c", [hdr(dumps["hex-welcome-resumed"])],
         f"WELCOME RESUMED id={sid} ack=0")
    c = Conn(pcap, 40003)
    want(c.send("c2s", dumps["hex-hello-resume"]), "c2s", [hdr(dumps["hex-hello-resume"])],
         f"HELLO RESUME id={sid} ack=7")
    want(c.send("s2c", dumps["hex-refused"]), "s2c", [hdr(dumps["hex-refused"])], "REFUSED UNKNOWN_SESSION (MAC)")

    # 3. A named service refused with a signature, and an unauthenticated refusal.
    c = Conn(pcap, 40004)
    hello = frame(1, bytes([1]) + bytes(8) + bytes(range(32)) + bytes(range(32, 64)) + struct.pack("!I", 65536)
                  + bytes([5]) + b"shell")
    want(c.send("c2s", hello), "c2s", [hdr(hello)], "HELLO NEW service=shell")
    refused = frame(11, bytes([10]) + bytes(range(96)))
    want(c.send("s2c", refused), "s2c", [hdr(refused)], "REFUSED UNKNOWN_SERVICE (signed)",
         host_key=bytes(range(32)))
    c = Conn(pcap, 40005)
    busy = frame(11, bytes([6]))
    want(c.send("s2c", busy), "s2c", [hdr(busy)], "REFUSED BUSY (unauthenticated)", ["REFUSED without authentication"])
    c = Conn(pcap, 40011)
    wrong = frame(11, bytes([11]))
    want(c.send("s2c", wrong), "s2c", [hdr(wrong)], "REFUSED WRONG_INSTANCE (unauthenticated)",
         ["REFUSED without authentication"])

    # 4. What a peer refuses: an old cproxy and sproxy's answer in its format, an unknown type,
    # a bad length, a HELLO whose fields break the rules. Each one flagged, none a Lua error.
    c = Conn(pcap, 40006)
    v2hello = frame(1, bytes(77), version=2)
    want(c.send("c2s", v2hello), "c2s", [hdr(v2hello)], "version 2 frame, type 1", ["version 2"])
    mismatch = frame(2, bytes([4]) + bytes(40) + struct.pack("!I", 1) + bytes(32), version=2)
    want(c.send("s2c", mismatch), "s2c", [hdr(mismatch)],
         "version 2 WELCOME VERSION_MISMATCH (sproxy refuses the old version)", ["version 2"])
    c = Conn(pcap, 40007)
    seven = frame(7, bytes(4), sealed=False)
    want(c.send("c2s", seven), "c2s", [hdr(seven)], "type 7 (unknown) seq=0 ack=0 length=4",
         ["frame type 7 is unknown"])
    fat = frame(3, bytes(4), seq=1, ack=2)              # a HEARTBEAT carries nothing but its tag
    want(c.send("c2s", fat), "c2s", [hdr(fat)], "HEARTBEAT seq=1 ack=2", ["HEARTBEAT length 20 not in 16"])
    odd = frame(1, bytes([2]) + bytes(8) + bytes(64) + bytes(4) + bytes([0]))
    want(c.send("c2s", odd), "c2s", [hdr(odd)], "HELLO RESUME id=0000000000000000 ack=0",
         ["HELLO RESUME with session id 0", "window 0 is not in 1..2^31-1"])
    c = Conn(pcap, 40008)
    v9 = frame(1, bytes(10), version=9)
    n = c.send("c2s", v9)
    want(n, "c2s", [], "version 9 (unknown)", ["version 9"])

    # 5. Not roamproxy at all on port 6200: flagged, the rest of the segment not interpreted.
    c = Conn(pcap, 40009)
    want(c.send("c2s", b"GET / HTTP/1.1\r\nHost: example\r\n\r\n"), "c2s", [], "not roamproxy (bad magic)",
         ["magic 0x4745"])

    # 6. Another port: found by the heuristic from its first frame.
    c = Conn(pcap, 40010, sport=16200)
    want(c.send("c2s", dumps["hex-hello"]), "c2s", [hdr(dumps["hex-hello"])], "HELLO NEW")
    want(c.send("s2c", dumps["hex-welcome"]), "s2c", [hdr(dumps["hex-welcome"])], f"WELCOME NEW_SESSION id={sid}",
         host_key=w[24 + 77:24 + 109])
    want(c.send("c2s", dumps["hex-proof"]), "c2s", [hdr(dumps["hex-proof"])], "PROOF")
    return expect


FIELDS = ["frame.number", "tcp.srcport", "roamproxy.type", "roamproxy.seq", "roamproxy.ack",
          "roamproxy.length", "_ws.col.Info", "_ws.expert.message", "_ws.lua.error", "roamproxy.host_key_fingerprint"]


def tshark(pcap_path, extra=()):
    cmd = ["tshark", "-n", "-r", pcap_path, "-X", f"lua_script:{DISSECTOR}", "-Y", "roamproxy or _ws.lua.error",
           "-o", "tcp.reassemble_out_of_order:TRUE",
           "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=|"]
    for fld in FIELDS:
        cmd += ["-e", fld]
    cmd += list(extra)
    p = subprocess.run(cmd, capture_output=True, text=True)
    errors = [x for x in p.stderr.splitlines() if x.strip() and "Running as user" not in x]
    return p.returncode, p.stdout, errors, cmd


def split(value):
    return value.split("|") if value else []


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", help="write the capture into this directory and keep it")
    args = ap.parse_args()
    if not shutil.which("tshark"):
        if os.environ.get("CI") == "true" and os.geteuid() == 0:
            print("FAIL: tshark is not installed (apt-get install tshark); CI must check the dissector")
            return 1
        print("skipped: the Wireshark dissector check needs tshark (Debian: apt-get install tshark)")
        return 0
    pcap = Pcap()
    expect = build(pcap)
    tmp = args.keep or tempfile.mkdtemp(prefix="roamproxy-dissector-")
    os.makedirs(tmp, exist_ok=True)
    path = os.path.join(tmp, "roamproxy-dissector-check.pcap")
    pcap.write(path)
    try:
        rc, out, errors, cmd = tshark(path)
        problems = []
        if rc != 0 or errors:
            problems.append(f"tshark exited {rc}: {errors[:5]}")
        rows = {}
        for line in out.splitlines():
            cols = line.split("\t")
            cols += [""] * (len(FIELDS) - len(cols))
            rows[int(cols[0])] = cols
        for n, direction, frames, info, experts, host_key_fp in expect:
            row = rows.pop(n, None)
            if row is None:
                problems.append(f"packet {n} ({info}): tshark shows no roamproxy frame")
                continue
            _num, _port, types, seqs, acks, lengths, got_info, got_experts, lua, got_fp = row
            got = list(zip(split(types), split(seqs), split(acks), split(lengths)))
            exp = [tuple(str(x) for x in fr) for fr in frames]
            if got != exp:
                problems.append(f"packet {n}: frames (type, seq, ack, length) {got}, expected {exp}")
            if got_fp != host_key_fp:
                problems.append(f"packet {n}: host key fingerprint {got_fp!r}, expected {host_key_fp!r}")
            if got_info != info:
                problems.append(f"packet {n}: Info {got_info!r}, expected {info!r}")
            for e in experts:
                if e not in got_experts:
                    problems.append(f"packet {n}: no expert info {e!r} (has {got_experts!r})")
            if not experts and got_experts:
                problems.append(f"packet {n} ({info}): unexpected expert info {got_experts!r}")
            # An exception in the dissector shows as "Malformed Packet (Exception occurred)".
            if lua or "Lua Error" in got_experts or "Exception occurred" in got_experts:
                problems.append(f"packet {n}: a Lua error or an exception: {got_experts!r}")
        for n, row in sorted(rows.items()):
            problems.append(f"packet {n}: unexpected roamproxy frames {row[2:7]}")
        print(f"dissector check: {len(expect)} packets expected, tshark showed {len(out.splitlines())}")
        if problems:
            print(f"FAIL: {len(problems)} problem(s) with {DISSECTOR} on {path}:\n  " + "\n  ".join(problems))
            print("ran: " + " ".join(cmd))
            return 1
        frames = sum(len(x[2]) for x in expect)
        print(f"ok: roamproxy.lua decodes {frames} frames in {len(expect)} packets with the expected type, "
              f"seq, ack, length, Info and expert info")
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
