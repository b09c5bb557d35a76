"""Logging, failures, signals, short commands, waiting, and processes by pid."""

import contextlib
import os
import shlex
import signal
import subprocess
import time

T0 = time.monotonic()
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def log(msg):
    print(f"[{time.monotonic() - T0:7.2f}s] {msg}", flush=True)


class Fail(Exception):
    """A scenario assertion failed (or the environment broke during a scenario)."""


class Interrupted(BaseException):
    """SIGTERM/SIGHUP/SIGINT: stop now, but clean up first."""


def _on_signal(signum, _frame):
    raise Interrupted(signal.Signals(signum).name)


def catch_signals():
    """From now on SIGINT, SIGTERM and SIGHUP raise Interrupted, so that the caller can clean
    up before it exits."""
    for s in STOP_SIGNALS:
        signal.signal(s, _on_signal)


@contextlib.contextmanager
def signals_ignored():
    """Cleanup in this block finishes even if the user presses Ctrl-C again or CI sends
    SIGTERM; the handlers are restored afterwards."""
    saved = {s: signal.signal(s, signal.SIG_IGN) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, h in saved.items():
            signal.signal(s, h)


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

