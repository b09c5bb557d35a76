#!/usr/bin/env python3
"""End-to-end test of several services through one cproxy/sproxy pair, and of --status
(issue 14), run the way the user runs it.

Built on the netlab library (tools/netlab): its two namespaces joined by a veth
pair, inetd + telnetd, telnet on a pty, the address change (`ip addr del` 192.0.2.2, 5 s
without an address, `ip addr add` 192.0.2.3) and the gapless icmp_seq verdict. It adds a
real OpenSSH sshd in the server namespace and runs the proxies with a second service:

    server namespace  192.0.2.1/24   inetd -> telnetd on :23, sshd on 127.0.0.1:22,
                                     bin/sproxy --service ssh=127.0.0.1:22 on :6200
    client namespace  192.0.2.2/24   bin/cproxy --forward 5222=ssh 192.0.2.1
                                     (127.0.0.1:5200 -> telnet, 127.0.0.1:5222 -> ssh)

sshd runs by hand (`sshd -D -e -f <tmp>/sshd_config`) with a host key, a client key and
authorized_keys made in the temp dir: key-only login for root, no PAM, in its own mount
namespace with private tmpfs /run (for /run/sshd) and /var/log, so the host's utmp, wtmp and
lastlog stay untouched. It listens on 127.0.0.1:22 of the server namespace only.

Scenarios (default: all):
  services  `telnet localhost 5200` runs `ping -i 0.2 127.0.0.1` in its shell, and
            `ssh -tt -p 5222 root@127.0.0.1 ping -i 0.2 127.0.0.1` runs beside it, both
            through the one proxy pair. `sproxy --status --json` (server namespace) and
            `cproxy --status --json` (client namespace) must each list exactly these two
            sessions, services `default` and `ssh`, linked, 0 resumes, the same session ids
            and services on both sides. Then the client's address changes once; both ping
            outputs must resume and show every icmp_seq exactly once, in order, and nothing
            may arrive while the client has no address. While both pings still run, the JSON
            status must show the two sessions again, each resumed (at least once) and
            linked over the new address 192.0.2.3, and the plain `--status` output of both
            daemons must name both services.
  reload    The configuration changes while sessions run, as `systemctl reload` does it:
            sproxy starts from a config file without the ssh service, cproxy from one that
            forwards 5222 to it. While ping runs in telnet, the ssh service is added to
            sproxy.conf and a log level to cproxy.conf, and both daemons get SIGHUP; each must
            log that it reloaded and kept its sessions. Then ssh through 5222 must work (the
            service the reload added), both daemons get SIGHUP once more while both pings
            run, and in the end both pings show every icmp_seq exactly once, in order, the
            daemons are the processes they were, and `--status --json` shows both sessions
            linked with 0 resumes: a reload does not even drop a link.

The daemons and the --status commands share one environment per host, with XDG_RUNTIME_DIR
set to a directory of that host in the temp dir (so the status sockets are
<tmp>/run-srv/roamproxy/sproxy-6200.sock and <tmp>/run-cli/roamproxy/cproxy-5200.sock, and
no other roamproxy on this machine can answer instead); the socket files must exist there,
admitting nobody beyond their user and group, in a directory of mode 0700 that the daemon
made, before --status is asked. No resume time is
asserted (no wall-clock speed threshold); a session that does not resume within 30 s fails.

Usage (as root; needs what roam_e2e.py needs, and sshd, ssh, ssh-keygen: Debian
openssh-server openssh-client):
  mvn -q -DskipTests package
  sudo python3 src/test/e2e/services_e2e.py --dist target/roamproxy [services|reload|all]

Only 192.0.2.0/24 (reserved for documentation) and loopback are used, only inside the
namespaces this script creates. Every namespace, process (inetd, telnetd, sshd, the proxies,
telnet, ssh, the pings) and temp dir it creates is removed on success, failure, Ctrl-C and
SIGTERM. Exit status: 0 passed, 1 failed, 2 cannot run, 130 interrupted.
"""

import json
import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(HERE, "../../../tools"))
import netlab                           # noqa: E402  (after the path is set)
from netlab import Fail, log, run, wait_until     # noqa: E402

LINK_PORT = 6200
TELNET_LOCAL_PORT = 5200
SSH_LOCAL_PORT = 5222
SSH_PORT = 22
SERVICE = "ssh"
SERVICES = ["default", SERVICE]
SCENARIO_BUDGET_S = 120                 # hard cap, hang => failure
STATUS_TIMEOUT_S = 30                   # one --status command (a JVM start)
SSH_FIRST_PING_S = 20                   # ssh login through the proxies and the first ping line



def sshd_path():
    return shutil.which("sshd") or ("/usr/sbin/sshd" if os.access("/usr/sbin/sshd", os.X_OK) else None)


# ---------------------------------------------------------------- the two hosts

class SvcEnv(netlab.Env):
    """netlab's two hosts, plus sshd in the server namespace, sproxy with
    --service ssh=127.0.0.1:22 and cproxy with --forward 5222=ssh; one XDG_RUNTIME_DIR per
    host, shared by its daemon and its --status commands."""

    def __init__(self, args, index, from_config_files=False):
        super().__init__(args, index, direct=False)
        # The reload scenario: the proxies read config files, which it then changes.
        self.conf = ({d: os.path.join(self.tmp, f"{d}.conf") for d in ("sproxy", "cproxy")}
                     if from_config_files else None)
        self.client_key = os.path.join(self.tmp, "id_ed25519")
        self.run_dirs = {"sproxy": os.path.join(self.tmp, "run-srv"),
                         "cproxy": os.path.join(self.tmp, "run-cli")}
        self.ns_of = {"sproxy": self.srv, "cproxy": self.cli}
        self.ports = {"sproxy": LINK_PORT, "cproxy": TELNET_LOCAL_PORT}
        self.proxy_env = {}

    def ssh_options(self):
        """Client options: only our key, no config file, no known_hosts, never a prompt."""
        return ["-F", "none", "-i", self.client_key, "-o", "IdentitiesOnly=yes",
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "GlobalKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
                "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=15"]

    def start_proxies(self):
        """Called by netlab.Env.start() after inetd: sshd first, then the two proxies."""
        self.start_sshd()
        dist = self.args.dist
        for daemon, d in self.run_dirs.items():
            os.mkdir(d, 0o700)
            env = dict(os.environ, ROAMPROXY_LOG_LEVEL=self.args.log_level,
                       XDG_STATE_HOME=os.path.join(self.tmp, "state"), XDG_RUNTIME_DIR=d)
            for var in ("STATE_DIRECTORY", "RUNTIME_DIRECTORY"):
                env.pop(var, None)
            self.proxy_env[daemon] = env
        s_opts = ["--service", f"{SERVICE}=127.0.0.1:{SSH_PORT}"]
        c_opts = ["--forward", f"{SSH_LOCAL_PORT}={SERVICE}"]
        if self.conf:
            # sproxy without the ssh service: the reload adds it.
            with open(self.conf["sproxy"], "w") as f:
                f.write("# services_e2e.py reload: the default service only, for now\n")
            with open(self.conf["cproxy"], "w") as f:
                f.write(f"forward = {SSH_LOCAL_PORT}={SERVICE}\n")
            s_opts, c_opts = ["--config", self.conf["sproxy"]], ["--config", self.conf["cproxy"]]
        self.daemon("sproxy", self.in_srv(os.path.join(dist, "bin", "sproxy"), *s_opts),
                    self.proxy_env["sproxy"])
        self.wait_listening("sproxy", self.srv, LINK_PORT, 30)
        self.daemon("cproxy", self.in_cli(os.path.join(dist, "bin", "cproxy"), *c_opts,
                                          self.server), self.proxy_env["cproxy"])
        self.wait_listening("cproxy", self.cli, TELNET_LOCAL_PORT, 30)
        self.wait_listening("cproxy", self.cli, SSH_LOCAL_PORT, 30)
        log(f"sproxy {shlex.join(s_opts)} listening on :{LINK_PORT}; cproxy "
            f"{shlex.join(c_opts + [self.server])} listening on 127.0.0.1:{TELNET_LOCAL_PORT} "
            f"and 127.0.0.1:{SSH_LOCAL_PORT}")
        for daemon in self.run_dirs:
            self.check_status_socket(daemon)

    def status_socket(self, daemon):
        return os.path.join(self.run_dirs[daemon], "roamproxy",
                            f"{daemon}-{self.ports[daemon]}.sock")

    def check_status_socket(self, daemon):
        """The daemon's status socket is in its own runtime directory (so --status cannot get
        its answer from another roamproxy on this machine), admitting its user and group only,
        in a 0700 directory (the daemon made it: only its user gets in)."""
        path = self.status_socket(daemon)
        p = self.daemons[daemon][0]

        def there():
            if p.poll() is not None:
                raise Fail(f"{daemon} exited with status {p.returncode}")
            return os.path.exists(path)
        try:
            wait_until(there, 10, f"{daemon}'s status socket {path}")
        except Fail as e:
            raise Fail(f"{e}; {daemon} was started with XDG_RUNTIME_DIR={self.run_dirs[daemon]}")
        st, dst = os.stat(path), os.stat(os.path.dirname(path))
        if not stat.S_ISSOCK(st.st_mode):
            raise Fail(f"{path} is not a socket")
        mode, dmode = stat.S_IMODE(st.st_mode), stat.S_IMODE(dst.st_mode)
        if mode & 0o007 or dmode & 0o077:
            raise Fail(f"{daemon}'s status socket {path} has mode {mode:04o} in a directory of mode "
                       f"{dmode:04o}: others than its user (root) can ask it")
        log(f"{daemon} status socket {path} (mode {mode:04o}, directory {dmode:04o})")

    def start_sshd(self):
        sshd = sshd_path()
        host_key = os.path.join(self.tmp, "ssh_host_ed25519_key")
        for key, comment in ((host_key, "roamproxy-e2e-host"),
                             (self.client_key, "roamproxy-e2e-client")):
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", key])
        authorized = os.path.join(self.tmp, "authorized_keys")
        shutil.copyfile(self.client_key + ".pub", authorized)
        os.chmod(authorized, 0o600)
        conf = os.path.join(self.tmp, "sshd_config")
        with open(conf, "w") as f:
            f.write(f"# sshd for services_e2e.py only: 127.0.0.1:{SSH_PORT} of the server namespace\n"
                    f"ListenAddress 127.0.0.1:{SSH_PORT}\n"
                    f"HostKey {host_key}\n"
                    f"PidFile {os.path.join(self.tmp, 'sshd.pid')}\n"
                    f"AuthorizedKeysFile {authorized}\n"
                    "PermitRootLogin prohibit-password\n"
                    "PubkeyAuthentication yes\n"
                    "PasswordAuthentication no\n"
                    "KbdInteractiveAuthentication no\n"
                    "UsePAM no\n"
                    "StrictModes no\n"
                    "PrintMotd no\n"
                    "PrintLastLog no\n"
                    "X11Forwarding no\n"
                    "AllowTcpForwarding no\n"
                    "Subsystem sftp internal-sftp\n")
        # sshd needs /run/sshd (privilege separation) and records pty logins in utmp, wtmp and
        # lastlog: give it private tmpfs /run and /var/log in its own mount namespace.
        def private(*sshd_args):
            inner = ("mount -t tmpfs -o mode=0755 e2e-sshd-run /run && "
                     "mount -t tmpfs -o mode=0755 e2e-sshd-log /var/log && "
                     "mkdir -m 0755 /run/sshd && "
                     f"exec {shlex.join([sshd, *sshd_args, '-f', conf])}")
            return self.in_srv("unshare", "-m", "sh", "-c", inner)
        run(private("-t"))              # a mistake in the config fails here, with sshd's words
        self.daemon("sshd", private("-D", "-e"))
        self.wait_listening("sshd", self.srv, SSH_PORT, 15)
        # Sanity: key login as root works straight to sshd, inside the server namespace.
        out = run(self.in_srv("ssh", *self.ssh_options(), "-p", str(SSH_PORT), "root@127.0.0.1",
                              "echo SSHD-$((6*7))-OK"), timeout=30, check=False)
        if "SSHD-42-OK" not in out:
            raise Fail(f"ssh -p {SSH_PORT} root@127.0.0.1 in the server namespace did not run "
                       f"`echo` (key login to the test sshd failed):\n{out}")
        log(f"sshd listening on 127.0.0.1:{SSH_PORT} in the server namespace; key login as "
            "root works there")


# ---------------------------------------------------------------- ssh running ping

def start_ssh_ping(env, name, marker):
    """`ssh -tt -p 5222 root@127.0.0.1 ping ...` on its own pty in the client namespace: the
    remote ping gets a pty too, so its lines come at once and Ctrl-C reaches it."""
    argv = env.in_cli("ssh", "-tt", *env.ssh_options(), "-p", str(SSH_LOCAL_PORT), "root@127.0.0.1",
                      "ping", "-i", "0.2", "-p", marker, "127.0.0.1")
    t = netlab.Term(name, argv, env.tmp)
    env.terms.append(t)
    t.marker = marker
    t.ping_start = 0
    t.expect(r"icmp_seq=1 ", SSH_FIRST_PING_S, what="first ping line through ssh")
    t.ping_pid = netlab.find_ping(marker)
    t.ping_id = netlab.proc_identity(t.ping_pid) if t.ping_pid else None
    log(f"{name}: `ssh -p {SSH_LOCAL_PORT} root@127.0.0.1 ping -i 0.2 -p {marker} 127.0.0.1` "
        f"running (server-side pid {t.ping_pid})")
    return t


def stop_ssh_ping(t):
    """Ctrl-C to the remote ping; its statistics, then ssh ends with it."""
    start = t.mark()
    t.send("\x03")
    m = t.expect(netlab.STATS_RE, 10, start=start, what="ping statistics after Ctrl-C")
    try:
        t.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        raise Fail(f"{t.name}: ssh did not end after the remote ping ended")
    return int(m.group(1)), int(m.group(2)), m.start()


# ---------------------------------------------------------------- --status

def status(env, daemon, as_json):
    """`bin/<daemon> --status [--json]` in the daemon's namespace and environment: stdout."""
    argv = env.in_srv if daemon == "sproxy" else env.in_cli
    argv = argv(os.path.join(env.args.dist, "bin", daemon), "--status", *(["--json"] if as_json else []))
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=STATUS_TIMEOUT_S, env=env.proxy_env[daemon])
    except subprocess.TimeoutExpired:
        raise Fail(f"{shlex.join(argv)} did not answer within {STATUS_TIMEOUT_S} s")
    out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
    if p.returncode != 0:
        raise Fail(f"{daemon} --status{' --json' if as_json else ''} exited {p.returncode}:\n"
                   f"{out}{err}")
    return out


def status_json(env, daemon):
    out = status(env, daemon, True)
    try:
        doc = json.loads(out)
    except ValueError as e:
        raise Fail(f"{daemon} --status --json printed no valid JSON ({e}):\n{out}")
    log(f"{daemon} --status --json: {json.dumps(doc, sort_keys=True)}")
    return doc


def check_sessions(daemon, doc, resumes, link_from=None):
    """Exactly two sessions, services default and ssh, both linked; no resume if `resumes` is
    0, else at least `resumes` each (not exactly: a link lost again soon after, e.g. on a
    loaded machine, is resumed once more without anything being wrong); link_from: the client
    address each link must now come from. {session id: service}."""
    problems = []
    sessions = doc.get("sessions") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or doc.get("daemon") != daemon:
        problems.append(f"\"daemon\" is {doc.get('daemon') if isinstance(doc, dict) else doc!r}, "
                        f"not {daemon!r}")
    if not isinstance(sessions, list) or len(sessions) != 2:
        raise Fail(f"{daemon} --status --json: expected exactly 2 sessions, got "
                   f"{len(sessions) if isinstance(sessions, list) else sessions!r}")
    services = sorted(str(s.get("service")) for s in sessions)
    if services != SERVICES:
        problems.append(f"services {services}, expected {SERVICES}")
    for s in sessions:
        what = f"session {s.get('session')} (service {s.get('service')})"
        got = s.get("resumes")
        if not isinstance(got, int) or (got != 0 if resumes == 0 else got < resumes):
            problems.append(f"{what}: resumes {got!r}, expected "
                            f"{resumes if resumes == 0 else f'at least {resumes}'}")
        if s.get("state") != "linked":
            problems.append(f"{what}: state {s.get('state')!r}, expected 'linked'")
        if link_from is not None:
            end = s.get("link_local") if daemon == "cproxy" else s.get("link_peer")
            try:
                host = str(netlab.endpoint_ip(str(end)))
            except Fail as e:
                host = f"? ({e})"
            if host != link_from:
                problems.append(f"{what}: link from {end!r}, expected from {link_from}")
    if problems:
        raise Fail(f"{daemon} --status --json: " + "; ".join(problems))
    return {s.get("session"): s.get("service") for s in sessions}


def check_status(env, resumes, link_from=None):
    """Both daemons' JSON status agree on the two sessions: same ids, same services."""
    views = {d: check_sessions(d, status_json(env, d), resumes, link_from)
             for d in ("cproxy", "sproxy")}
    if views["cproxy"] != views["sproxy"]:
        raise Fail(f"cproxy and sproxy disagree on the sessions and their services: cproxy "
                   f"{views['cproxy']}, sproxy {views['sproxy']}")
    log(f"--status --json on both hosts: sessions {views['cproxy']}, linked, resumes "
        f"{resumes if resumes == 0 else f'at least {resumes}'} each"
        f"{', links from ' + link_from if link_from else ''}")


def check_status_text(env):
    for daemon in ("cproxy", "sproxy"):
        out = status(env, daemon, False)
        log(f"{daemon} --status:\n{out.rstrip()}")
        lines = out.splitlines()
        problems = []
        # Without -p, --status lists every daemon of the user, each under a line naming its port.
        # The second line goes on with the buffer memory in use: "cproxy: 2 sessions, buffers ...".
        head = [f"== {daemon} on port {5200 if daemon == 'cproxy' else 6200}", f"{daemon}: 2 sessions, buffers "]
        got = [line.strip() for line in lines[:2]]
        if len(got) < 2 or got[0] != head[0] or not got[1].startswith(head[1]):
            problems.append(f"first lines {lines[:2]!r}, expected {head[0]!r} and {head[1]!r}...")
        for svc in SERVICES:
            if not any(f" service {svc} " in line + " " for line in lines):
                problems.append(f"no session line names service {svc!r}")
        if problems:
            raise Fail(f"{daemon} --status: " + "; ".join(problems) + f"\n{out}")


# ---------------------------------------------------------------- the scenario

def scenario_services(env):
    telnet = netlab.open_session(env, "telnet")
    netlab.start_ping(telnet, "e2e01401")
    ssh = start_ssh_ping(env, "ssh", "e2e01402")
    terms = [telnet, ssh]
    check_status(env, resumes=0)        # the control: before the change, nothing has resumed
    time.sleep(netlab.PING_BEFORE_S)
    t_del, t_add, offs = netlab.change_address(env, terms)
    delays = {}
    for t in terms:
        delays[t.name], seq = netlab.wait_resumed(t, offs[t.name], t_add)
        log(f"{t.name}: ping output resumed {delays[t.name]:.2f} s after the new address "
            f"(icmp_seq={seq} first)")
    log(f"links now from {netlab.link_sources(env)}")
    for t in terms:
        netlab.check_quiet_during_outage(t, t_del, t_add)
    time.sleep(netlab.PING_AFTER_S)
    failures = []
    try:                                # while both sessions are still there
        check_status(env, resumes=1, link_from=netlab.CLIENT_NEW_ADDR)
        check_status_text(env)
    except Fail as e:
        failures.append(str(e))
    for t, stop in ((telnet, netlab.stop_ping), (ssh, stop_ssh_ping)):
        try:
            transmitted, received, at = stop(t)
            netlab.verdict_changes(t, transmitted, received, at, [delays[t.name]])
        except Fail as e:
            failures.append(str(e))
    if failures:
        raise Fail("; ".join(failures))
    log("PASS services: telnet (service default, port 5200) and ssh (service ssh, port 5222) "
        "through one proxy pair, both gapless across the address change; --status on both "
        "hosts lists both sessions, resumed")


def sighup(env, daemon):
    """SIGHUP to the daemon (the JVM itself: ip netns exec and the launcher exec it) and its
    log line saying it reloaded and kept the sessions; returns that line."""
    p, _ = env.daemons[daemon]
    if p.poll() is not None:
        raise Fail(f"{daemon} exited with status {p.returncode}")
    mark = env.log_mark(daemon)
    os.kill(p.pid, signal.SIGHUP)

    def reloaded():
        if p.poll() is not None:
            raise Fail(f"{daemon} exited with status {p.returncode} on SIGHUP")
        text = env.log_text(daemon, mark)
        if "the new configuration is refused" in text:
            raise Fail(f"{daemon} refused the new configuration: {text.strip()}")
        m = re.search(rf"{daemon} reloaded its configuration: .*live sessions are kept", text)
        return m.group(0) if m else None
    line = wait_until(reloaded, 20, f"{daemon}'s reload line")
    log(f"SIGHUP to {daemon} (pid {p.pid}): {line}")
    return line


def scenario_reload(env):
    telnet = netlab.open_session(env, "telnet")
    netlab.start_ping(telnet, "e2e01403")
    pids = {d: env.daemons[d][0].pid for d in ("sproxy", "cproxy")}
    time.sleep(netlab.PING_BEFORE_S)

    with open(env.conf["sproxy"], "a") as f:
        f.write(f"service = {SERVICE}=127.0.0.1:{SSH_PORT}\n")
    with open(env.conf["cproxy"], "a") as f:
        f.write("log-level = info\n")
    line = sighup(env, "sproxy")
    if f"{SERVICE}=127.0.0.1:{SSH_PORT}" not in line:
        raise Fail(f"sproxy's reload line does not name the service {SERVICE} it added: {line}")
    line = sighup(env, "cproxy")
    if "log level INFO" not in line:
        raise Fail(f"cproxy's reload line does not name the log level it read: {line}")

    ssh = start_ssh_ping(env, "ssh", "e2e01404")   # the service the reload added
    time.sleep(netlab.PING_AFTER_S)
    for daemon in ("sproxy", "cproxy"):             # once more, with both sessions running
        sighup(env, daemon)
    time.sleep(netlab.PING_AFTER_S)

    failures = []
    try:
        check_status(env, resumes=0)
    except Fail as e:
        failures.append(str(e))
    for t, stop in ((telnet, netlab.stop_ping), (ssh, stop_ssh_ping)):
        try:
            transmitted, received, at = stop(t)
            netlab.verdict_changes(t, transmitted, received, at, [])
        except Fail as e:
            failures.append(str(e))
    for daemon, pid in pids.items():
        p = env.daemons[daemon][0]
        if p.poll() is not None or p.pid != pid:
            failures.append(f"{daemon} (pid {pid}) did not survive the reloads")
    if failures:
        raise Fail("; ".join(failures))
    log("PASS reload: SIGHUP to both daemons, twice, while ping ran: every icmp_seq exactly once, "
        "the ssh service the reload added works, no link was dropped")


SCENARIOS = {"services": scenario_services, "reload": scenario_reload}
ALL = ["services", "reload"]


# ---------------------------------------------------------------- main

def preflight(args):
    problems = netlab.common_preflight(args, "network namespaces, inetd on port 23, sshd on port 22",
                                   ["ssh", "ssh-keygen"], "openssh-server openssh-client")
    if not sshd_path():
        problems.append("missing sshd (Debian: apt-get install -y openssh-server)")
    return problems


def run_scenario(args, index, name):
    """As roam_e2e.py's run_scenario, with sshd and the two services."""
    return netlab.run_env(args, name, SvcEnv(args, index, from_config_files=(name == "reload")),
                      SCENARIOS[name], SCENARIO_BUDGET_S)

def main():
    return netlab.main("services_e2e", __doc__, ALL, preflight, run_scenario)


if __name__ == "__main__":
    sys.exit(main())
