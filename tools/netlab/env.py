"""The lab: network namespaces joined by veth pairs, inetd + telnetd, and the packaged
sproxy and cproxy, each with its log; everything it made is removed by close()."""

import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time

from .core import Fail, log, reap_orphans, run, wait_until
from .namespaces import (CLIENT_ADDR, GW_ADDR, GW_CLIENT_ADDR, GW_IFACE, GW_TABLE, IFACE,
                         NS_PREFIX, PREFIX, PREFIX6, PROMPT, PROMPT_RE, SERVER_ADDR, SERVER_ADDR6,
                         SERVER_NAME, kill_namespace_processes)
from .term import Term


class Env:
    """Two namespaces, a veth pair, inetd+telnetd, and (unless direct) sproxy and cproxy.

    gateway: a third namespace behind the client's eth0 that drops everything, and the
    client's default route through it. dualstack: the server also has SERVER_ADDR6, and
    cproxy dials SERVER_NAME, which the client namespace's own hosts file maps to both.
    args.cproxy_args (optional) are options for cproxy. The namespaces are called
    <prefix>-<pid>-<index>-srv, -cli and -gw."""

    def __init__(self, args, index, direct, gateway=False, dualstack=False, prefix=NS_PREFIX):
        self.args = args
        self.direct = direct
        self.gateway = gateway
        self.dualstack = dualstack
        tag = f"{prefix}-{os.getpid()}-{index}"
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
