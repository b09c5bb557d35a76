#!/usr/bin/env python3
"""End-to-end test of TCP half-close through roamproxy, with an address change in the middle.

Uses the namespaces of the netlab library (tools/netlab: its Env, address change, logging
and cleanup), with a small Python target on :23 of the server namespace instead of telnetd:

    server namespace  192.0.2.1/24   target on 127.0.0.1:23, bin/sproxy on :6200
    client namespace  192.0.2.2/24   bin/cproxy 192.0.2.1 on 127.0.0.1:5200, the client below

Scenarios (default: all):
  reply   the client sends 2 MB (the address changes after the first 1 MB), shuts down its
          sending side, and must receive the server's SHA-256 of those 2 MB plus a 64 KiB
          tail, then an orderly EOF.
  upload  the server sends 200 KB and shuts down its sending side; the client reads it to
          EOF, then sends 1 MB (the address changes after the first 500 KB) and shuts down;
          the server must receive exactly that 1 MB.
  logout  telnet through the proxies to the real telnetd of netlab's Env, an address change,
          then `exit`: telnet must end at once (the shell's logout ends both directions)
          and the shell must be gone on the server.
All: both proxies must then log that the session ended with both directions delivered.

Usage (as root; Python 3 standard library only):
  mvn -q -DskipTests package
  sudo python3 src/test/e2e/halfclose_e2e.py --dist target/roamproxy [reply|upload|logout|all]

Only 192.0.2.0/24 and loopback are used, only inside the namespaces this script creates,
and every namespace, process and temp dir is removed on success, failure and signals.
Exit status: 0 all passed, 1 a scenario failed, 2 cannot run, 130 interrupted.
"""

import hashlib
import os
import queue
import random
import shutil
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../tools"))
import netlab  # noqa: E402  (the lab this one builds on)
from netlab import Fail, log, wait_until  # noqa: E402

THIS = os.path.abspath(__file__)
TARGET_PORT = 23
REQUEST_BYTES = 2_000_000
TAIL_BYTES = 64 * 1024
GREETING_BYTES = 200_000
UPLOAD_BYTES = 1_000_000
CLIENT_LIMIT_S = 60
ENDED_LINE = "both directions ended"


def data(seed, n):
    """The same pseudo-random bytes on both sides."""
    return random.Random(seed).randbytes(n)


def read_to_eof(sock):
    chunks = []
    while True:
        b = sock.recv(65536)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


# ---------------------------------------------------------------- the two endpoints

def serve(mode, result_path):
    """The target: one connection, then exit. Writes 'OK ...' or 'FAIL ...' to result_path."""
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", TARGET_PORT))
    ls.listen(1)
    conn, _ = ls.accept()
    verdict = "FAIL no verdict"
    try:
        if mode == "reply":
            got = read_to_eof(conn)
            conn.sendall(hashlib.sha256(got).digest() + data(2, TAIL_BYTES))
            conn.shutdown(socket.SHUT_WR)
            ok = got == data(1, REQUEST_BYTES)
            verdict = f"{'OK' if ok else 'FAIL'} request of {len(got)} bytes sha256 {hashlib.sha256(got).hexdigest()}"
        else:
            conn.sendall(data(3, GREETING_BYTES))
            conn.shutdown(socket.SHUT_WR)
            got = read_to_eof(conn)
            ok = got == data(4, UPLOAD_BYTES)
            verdict = f"{'OK' if ok else 'FAIL'} upload of {len(got)} bytes sha256 {hashlib.sha256(got).hexdigest()}"
    except OSError as e:
        verdict = f"FAIL {e!r}"
    finally:
        conn.close()
        with open(result_path, "w") as f:
            f.write(verdict + "\n")


def send_then_end(s, payload):
    """Sends the first half, prints PAUSE and waits for GO on stdin, sends the rest, ends our side."""
    half = len(payload) // 2
    s.sendall(payload[:half])
    print("PAUSE", flush=True)
    sys.stdin.readline()
    s.sendall(payload[half:])
    s.shutdown(socket.SHUT_WR)


def client(mode):
    """The application: prints PAUSE at the midpoint and waits for GO on stdin."""
    s = socket.create_connection(("127.0.0.1", 5200))
    if mode == "reply":
        request = data(1, REQUEST_BYTES)
        send_then_end(s, request)
        got = read_to_eof(s)
        want = hashlib.sha256(request).digest() + data(2, TAIL_BYTES)
        if got != want:
            print(f"FAIL reply of {len(got)} bytes, wanted {len(want)} "
                  f"(digest {'matches' if got[:32] == want[:32] else 'differs'})", flush=True)
            return 1
        print(f"OK reply: digest of {REQUEST_BYTES} bytes and a {TAIL_BYTES}-byte tail, then EOF", flush=True)
    else:
        greeting = read_to_eof(s)
        if greeting != data(3, GREETING_BYTES):
            print(f"FAIL greeting of {len(greeting)} bytes", flush=True)
            return 1
        print(f"greeting of {len(greeting)} bytes and EOF; our side still open", flush=True)
        send_then_end(s, data(4, UPLOAD_BYTES))
        rest = read_to_eof(s)
        if rest:
            print(f"FAIL {len(rest)} bytes after the greeting's EOF", flush=True)
            return 1
        print(f"OK upload of {UPLOAD_BYTES} bytes sent after the server's EOF", flush=True)
    s.close()
    return 0


# ---------------------------------------------------------------- the driver

class HalfCloseEnv(netlab.Env):
    """netlab's namespaces and proxies, with the half-close target instead of inetd."""

    def __init__(self, args, index, mode):
        super().__init__(args, index, direct=False)
        self.mode = mode
        self.result = os.path.join(self.tmp, "target-result")

    def start_inetd(self):
        self.daemon("target", self.in_srv("python3", "-u", THIS, "serve", self.mode, self.result))
        self.wait_listening("target", self.srv, TARGET_PORT, 10)
        log(f"half-close target ({self.mode}) listening on :{TARGET_PORT} in the server namespace")


def run_client(env, mode):
    p = subprocess.Popen(env.in_cli("python3", "-u", THIS, "client", mode), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    lines = queue.Queue()

    def pump():
        for raw in p.stdout:
            lines.put(raw.decode(errors="replace").rstrip())
        lines.put(None)
    threading.Thread(target=pump, daemon=True).start()
    return p, lines


def next_line(lines, timeout, what):
    try:
        line = lines.get(timeout=timeout)
    except queue.Empty:
        raise Fail(f"no output from the client within {timeout} s waiting for {what}")
    if line is None:
        raise Fail(f"the client ended while waiting for {what}")
    log(f"client: {line}")
    return line


def scenario(env):
    p, lines = run_client(env, env.mode)
    while next_line(lines, CLIENT_LIMIT_S, "PAUSE") != "PAUSE":
        pass
    cproxy_log = env.daemons["cproxy"][1]
    wait_until(lambda: "started over link" in open(cproxy_log, errors="replace").read(), 20,
                  "cproxy's session to have its first link (the change must cut a live link)")
    log("client paused mid-transfer, its session linked: changing its address")
    netlab.change_address(env, [])
    p.stdin.write(b"GO\n")
    p.stdin.flush()
    verdict = None
    while True:
        line = lines.get(timeout=CLIENT_LIMIT_S)
        if line is None:
            break
        log(f"client: {line}")
        verdict = line
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        raise Fail("the client did not exit")
    if rc != 0 or not (verdict or "").startswith("OK"):
        raise Fail(f"client failed (exit {rc}): {verdict}")
    wait_until(lambda: os.path.exists(env.result) and open(env.result).read().endswith("\n"), 20,
                  "the target's verdict")
    target = open(env.result).read().strip()
    log(f"target: {target}")
    if not target.startswith("OK"):
        raise Fail(f"target: {target}")
    cproxy_log = open(env.daemons["cproxy"][1], errors="replace").read()
    if "resumed over link" not in cproxy_log:
        raise Fail("cproxy never resumed the session: the address change did not happen mid-transfer")
    await_both_ended(env)


def await_both_ended(env):
    for name in ("cproxy", "sproxy"):
        path = env.daemons[name][1]
        wait_until(lambda: ENDED_LINE in open(path, errors="replace").read(), 10,
                      f"{name} to log that the session ended with {ENDED_LINE}")
    log(f"both proxies logged the session closed: {ENDED_LINE}")


def scenario_logout(env):
    t = netlab.open_session(env, "telnet")
    netlab.change_address(env, [t])
    start = t.mark()
    t.send("echo BACK-$((6*7))\r")
    t.expect(r"BACK-42", 15, start=start, what="the shell answering after the address change")
    t.send("exit\r")
    try:
        t.proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        raise Fail("telnet did not end within 5 s of `exit`")
    wait_until(lambda: not netlab.proc_alive(t.shell_pid, t.shell_id), 5,
               "the server-side shell to be gone")
    log("telnet ended on `exit` and the shell is gone")
    await_both_ended(env)


def run_one(args, index, mode):
    if mode == "logout":
        return netlab.run_env(args, mode, netlab.Env(args, index, direct=False), scenario_logout)
    return netlab.run_env(args, mode, HalfCloseEnv(args, index, mode), scenario)

def preflight(args, names):
    problems = []
    if os.geteuid() != 0:
        problems.append("must run as root (network namespaces)")
    tools = ["ip", "ss", "python3"]
    if "logout" in names:
        tools += ["inetd", "telnet", "unshare", "mount", "sh"]
    missing = [x for x in tools if not shutil.which(x)]
    if missing:
        problems.append(f"missing tools: {' '.join(missing)}")
    for b in ("cproxy", "sproxy"):
        if not os.access(os.path.join(args.dist, "bin", b), os.X_OK):
            problems.append(f"{args.dist}/bin/{b} not found (build with: mvn -q -DskipTests package)")
    return problems


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3])
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "client":
        return client(sys.argv[2])
    all_names = ["reply", "upload", "logout"]
    ap = netlab.argument_parser(__doc__, all_names)
    ap.set_defaults(log_level="INFO")
    args = ap.parse_args()
    names = netlab.scenario_names(ap, args, all_names)
    return netlab.run_all("halfclose_e2e", preflight(args, names), names,
                          lambda i, name: run_one(args, i, name))


if __name__ == "__main__":
    sys.exit(main())
