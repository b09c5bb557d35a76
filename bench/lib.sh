# Shared by bench/run and bench/profile (sourced, not executed).
#
# Builds roamproxy, copies the distribution into bench/work/ (so that a concurrent rebuild of
# target/ cannot change the jars under a running benchmark), compiles the harness, and makes
# two network namespaces joined by a veth pair:
#
#   client netns  c0 192.0.2.2/24  <-- veth -->  s0 192.0.2.1/24  server netns
#   harness, cproxy, socat (client side)         sproxy, socat (server side), target
#
# The namespaces get unique names and are removed, with every process still inside them, on
# every exit path (normal end, error, Ctrl-C, TERM, HUP).

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(dirname "$bench_dir")
work_dir="$bench_dir/work"
ns_id="rpb$$x$RANDOM"
nsc="${ns_id}c"
nss="${ns_id}s"
ns_made=""

die() { echo "bench: $*" >&2; exit 1; }

need_tools() {
    [ "$(id -u)" = 0 ] || die "needs root (network namespaces and address changes); try: sudo $0 $*"
    local t
    for t in java javac mvn socat ip jcmd; do
        command -v "$t" >/dev/null || die "missing '$t' (apt-get install socat iproute2 openjdk-17-jdk-headless maven)"
    done
}

build() {
    if [ "${skip_build:-}" != 1 ]; then
        echo "bench: building roamproxy (mvn -q -o -DskipTests package)"
        (cd "$repo_dir" && { mvn -q -o -DskipTests package || mvn -q -DskipTests package; }) || die "build failed"
    fi
    [ -x "$repo_dir/target/roamproxy/bin/sproxy" ] || die "no target/roamproxy: build first"
    mkdir -p "$work_dir"
    rm -rf "$work_dir/dist" "$work_dir/classes"
    cp -r "$repo_dir/target/roamproxy" "$work_dir/dist"
    mkdir -p "$work_dir/classes"
    javac -nowarn -d "$work_dir/classes" "$bench_dir"/src/*.java || die "harness does not compile"
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    if [ -n "$ns_made" ]; then
        local ns pid
        for ns in $nsc $nss; do
            for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
        done
        sleep 1
        for ns in $nsc $nss; do
            for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
            ip netns del "$ns" 2>/dev/null || true
        done
    fi
    exit "$rc"
}

make_netns() {
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
    ns_made=1
    ip netns add "$nsc"
    ip netns add "$nss"
    ip link add c0 netns "$nsc" type veth peer name s0 netns "$nss"
    ip -n "$nsc" link set lo up
    ip -n "$nss" link set lo up
    ip -n "$nsc" addr add 192.0.2.2/24 dev c0
    ip -n "$nss" addr add 192.0.2.1/24 dev s0
    ip -n "$nsc" link set c0 up
    ip -n "$nss" link set s0 up
    # wait for the link (and IPv6 DAD noise) to settle
    command -v ping >/dev/null || { sleep 2; return 0; }
    local i
    for i in $(seq 50); do
        ip netns exec "$nsc" ping -c1 -W1 192.0.2.1 >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    die "veth link between the namespaces does not come up"
}

machine_line() {
    local cpu
    cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: *//')
    echo "$(nproc) CPUs ($cpu), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, Linux $(uname -r), $(java -version 2>&1 | head -1)"
}
