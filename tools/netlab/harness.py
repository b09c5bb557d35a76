"""What every scenario script on the lab shares: the preflight checks, the common options,
running one scenario within a time budget with cleanup on every exit path, and the exit status."""

import argparse
import os
import shutil
import signal
import sys
import traceback

from .core import Fail, Interrupted, become_subreaper, catch_signals, log, signals_ignored
from .namespaces import remove_stale_namespaces

SCENARIO_BUDGET_S = 120     # hard cap per scenario, hang => failure
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _on_alarm(_signum, _frame):
    raise Fail(f"scenario exceeded its {_budget_s} s budget (something hung)")


_budget_s = SCENARIO_BUDGET_S


BASE_TOOLS = ["ip", "ss", "inetd", "telnet", "ping", "setsid", "unshare", "mount", "sh"]
BASE_PACKAGES = "telnetd openbsd-inetd telnet iputils-ping iproute2 util-linux"


def common_preflight(args, why_root, tools=(), packages="", dist=True):
    """What every harness on this namespace set-up checks before it starts: root (`why_root`
    says what for), BASE_TOOLS and `tools` with the Debian packages that bring them
    (BASE_PACKAGES and `packages`), telnetd, and, if `dist`, the packaged bin/ scripts.
    Returns the problems found, each a line for the user."""
    problems = []
    if os.geteuid() != 0:
        problems.append(f"must run as root ({why_root})")
    missing = [x for x in BASE_TOOLS + list(tools) if not shutil.which(x)]
    if not (shutil.which("telnetd") or shutil.which("in.telnetd")):
        missing.append("telnetd")
    if missing:
        problems.append(f"missing tools: {' '.join(missing)} (Debian: apt-get install -y "
                        f"{' '.join([BASE_PACKAGES] + ([packages] if packages else []))})")
    if dist:
        for b in ("cproxy", "sproxy"):
            if not os.access(os.path.join(args.dist, "bin", b), os.X_OK):
                problems.append(f"{args.dist}/bin/{b} not found or not executable "
                                "(build with: mvn -q -DskipTests package)")
    return problems


def run_env(args, name, env, fn, budget_s=SCENARIO_BUDGET_S):
    """Starts `env`, runs `fn(env)` within `budget_s`, and always cleans up (also on a second
    Ctrl-C or a SIGTERM from CI); dumps logs and transcripts on failure. True if it passed.
    Every scenario script runs its scenarios through this."""
    global _budget_s
    log(f"===== scenario {name} =====")
    ok = False
    _budget_s = budget_s
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(budget_s)
    try:
        env.start()
        fn(env)
        ok = True
    except Fail as e:
        log(f"FAIL {name}: {e}")
    except Exception:
        log(f"FAIL {name}: harness error\n{traceback.format_exc()}")
    finally:
        signal.alarm(0)
        with signals_ignored():     # finish cleanup even on a second Ctrl-C or CI's SIGTERM
            if not ok:
                env.dump()
            env.close(args.keep or not ok and args.keep_on_failure)
    return ok


def argument_parser(doc, all_names):
    """The options every scenario script takes: --dist, --log-level, --keep,
    --keep-on-failure and the scenarios (default all)."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="SCENARIO: " + ", ".join(all_names) + " or all (default)")
    ap.add_argument("--dist", default=os.path.join(REPO, "target", "roamproxy"),
                    help="the packaged tree with bin/cproxy and bin/sproxy "
                         "(default: target/roamproxy of this checkout)")
    ap.add_argument("--log-level", default="DEBUG",
                    help="ROAMPROXY_LOG_LEVEL for the proxies (default: %(default)s)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir with logs and transcripts")
    ap.add_argument("--keep-on-failure", action="store_true",
                    help="keep the temp dir only when a scenario fails")
    ap.add_argument("scenarios", nargs="*", default=["all"], metavar="SCENARIO")
    return ap


def scenario_names(ap, args, all_names):
    """The scenarios asked for, `all` expanded; an unknown one is a usage error."""
    names = []
    for s in args.scenarios:
        if s == "all":
            names += all_names
        elif s in all_names:
            names.append(s)
        else:
            ap.error(f"unknown scenario {s!r}; choose from {', '.join(all_names)}, all")
    args.scenarios = names
    args.dist = os.path.abspath(args.dist)
    return names


def run_all(prog, problems, names, run):
    """Runs `run(index, name)` for each scenario after the preflight `problems` (exit 2 if
    any), with signal handling, child reaping and stale-namespace removal; logs one verdict
    per scenario. Exit status: 0 all passed, 1 one failed, 2 cannot run, 130 interrupted."""
    if problems:
        for p in problems:
            print(f"{prog}: cannot run: {p}", file=sys.stderr, flush=True)
        return 2
    catch_signals()
    become_subreaper()
    results = {}
    try:
        remove_stale_namespaces()
        for i, name in enumerate(names):
            results[name] = run(i, name)
    except Interrupted as e:
        log(f"interrupted by {e}; cleaned up")
        return 130
    for name, ok in results.items():
        log(f"{'PASS' if ok else 'FAIL'} {name}")
    return 0 if all(results.values()) else 1


def main(prog, doc, all_names, preflight, run_scenario):
    """The main() of a scenario script that needs no options of its own: the common options,
    the scenarios asked for, `preflight(args)` (problems, as common_preflight returns them),
    then `run_scenario(args, index, name)` for each through run_all. Returns the exit status."""
    ap = argument_parser(doc, all_names)
    args = ap.parse_args()
    names = scenario_names(ap, args, all_names)
    return run_all(prog, preflight(args), names, lambda i, name: run_scenario(args, i, name))
