"""netlab: roamproxy's network lab in Linux network namespaces (Python 3 standard library).

Two namespaces, server and client, joined by a veth pair, inetd + telnetd and the packaged
sproxy and cproxy; telnet driven through a pty; the client's address changed under a live
session; and the checks on what the user sees. The end-to-end tests (src/test/e2e), the
demo (scripts/demo) and the benchmark (bench/) are built on it; see README.md here.

Everything is importable from the package itself, e.g. `netlab.Env`, `netlab.open_session`.
"""

from .core import (Fail, Interrupted, STOP_SIGNALS, become_subreaper, catch_signals,
                   find_ping, log, proc_alive, proc_identity, reap_orphans, run,
                   signals_ignored, wait_until)
from .env import Env
from .harness import (BASE_PACKAGES, BASE_TOOLS, SCENARIO_BUDGET_S, argument_parser,
                      common_preflight, main, run_all, run_env, scenario_names)
from .namespaces import (CLIENT_ADDR, CLIENT_NEW_ADDR, GW_ADDR, GW_CLIENT_ADDR, GW_IFACE,
                         GW_TABLE, IFACE, NS_PREFIX, PREFIX, PREFIX6, PROMPT, PROMPT_RE,
                         SERVER_ADDR, SERVER_ADDR6, SERVER_NAME, dual_addr, endpoint_ip,
                         ip_args, kill_namespace_processes, remove_stale_namespaces, v4)
from .session import (Change, DUALSTACK_OUTAGE_S, GATEWAY_OUTAGES_S, LOG_WAIT_S, OUTAGE_S,
                      PING_AFTER_S, PING_BEFORE_S, PING_BETWEEN_S, PING_LINE_RE, REMOVED_RE,
                      RESUMED_RE, RESUME_LIMIT_S, Resume, STATS_RE, address_changes, change_address,
                      change_and_resume, check_quiet_during_outage, fmt_seqs, link_sources,
                      open_session, ping_lines, record_resume, removal_logged, resumed_link,
                      start_ping, stop_ping, verdict, verdict_changes, verdict_within,
                      wait_resumed)
from .term import Term
