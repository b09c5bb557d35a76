"""A program on its own pseudo-terminal, with every byte it prints and when it arrived."""

import bisect
import fcntl
import os
import re
import struct
import subprocess
import termios
import threading
import time

from .core import Fail


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
