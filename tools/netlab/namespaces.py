"""The lab's addresses and names, and namespaces: killing what runs in one, removing the
ones a killed run left behind, and the client addresses an address change moves between."""

import ipaddress
import os
import re
import shutil
import signal
import time

from .core import Fail, log, run

SERVER_ADDR = "192.0.2.1"
CLIENT_ADDR = "192.0.2.2"
CLIENT_NEW_ADDR = "192.0.2.3"
PREFIX = 24
IFACE = "eth1"
NS_PREFIX = "rpe2e"         # namespaces are <NS_PREFIX>-<pid>-<index>-srv|cli|gw
PROMPT = "rp-e2e$ "
PROMPT_RE = re.escape(PROMPT)
GW_IFACE = "eth0"           # gateway: the client's second interface, veth to the gateway
GW_ADDR = "198.51.100.1"    # gateway: its address, the client's default route
GW_CLIENT_ADDR = "198.51.100.2"
GW_TABLE = "rpe2e_gw"       # gateway: the nftables table, in the gateway namespace only
SERVER_ADDR6 = "2001:db8::1"
PREFIX6 = 64
SERVER_NAME = "roamserver"  # dualstack: what cproxy dials; the client's hosts file has both


def kill_namespace_processes(ns):
    """SIGKILL what is still running in a namespace this run created (telnetd, shells, pings)."""
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


def remove_stale_namespaces(prefix=NS_PREFIX):
    """Namespaces (and /etc/netns directories) named with `prefix` that an earlier run left
    behind when it was SIGKILLed."""
    out = run(["ip", "netns", "list"], check=False)
    for line in out.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.fullmatch(rf"{prefix}-(\d+)-\d+-(srv|cli|gw)", name)
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
            m = re.fullmatch(rf"{prefix}-(\d+)-\d+-cli", name)
            if m and int(m.group(1)) != os.getpid() and not os.path.exists(f"/proc/{m.group(1)}"):
                log(f"removing stale /etc/netns/{name} from an earlier run")
                shutil.rmtree(os.path.join("/etc/netns", name), ignore_errors=True)


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


def dual_addr(i):
    """Client addresses for dualstack, alternating families: 192.0.2.2, 2001:db8::2,
    192.0.2.3, 2001:db8::3, ..."""
    return f"2001:db8::{2 + i // 2}" if i % 2 else v4(i // 2)

