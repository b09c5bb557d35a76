# Bash completion for cproxy and sproxy (roamproxy): options, files where an option takes a
# file, and host names for cproxy's SERVER. Installed as
# /usr/share/bash-completion/completions/cproxy and .../sproxy; by hand: source this file.
# The option lists are checked against the commands' own options by the project's tests.

_roamproxy_options_cproxy="-l --listen -p --port -s --server-port --forward --server-fingerprint --known-servers --max-sessions --no-address-watch --heartbeat --missed --buffer --memory --detach-timeout --secret-file --log-level --metrics -c --config --status --json -h --help -V --version"
_roamproxy_values_cproxy="-l --listen -p --port -s --server-port --forward --server-fingerprint --known-servers --max-sessions --heartbeat --missed --buffer --memory --detach-timeout --secret-file --log-level --metrics -c --config"
_roamproxy_options_sproxy="-l --listen -p --port -t --target --max-sessions --service --host-key --fingerprint --new-secret --max-handshakes --max-sessions-per-source --instance --heartbeat --missed --buffer --memory --detach-timeout --secret-file --log-level --metrics -c --config --status --json -h --help -V --version"
_roamproxy_values_sproxy="-l --listen -p --port -t --target --max-sessions --service --host-key --new-secret --max-handshakes --max-sessions-per-source --instance --heartbeat --missed --buffer --memory --detach-timeout --secret-file --log-level --metrics -c --config"
_roamproxy_files="--known-servers --secret-file -c --config --host-key --new-secret"

_roamproxy() {
    local cmd=${COMP_WORDS[0]##*/} cur=${COMP_WORDS[COMP_CWORD]} prev=
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    local options values
    case $cmd in
        cproxy) options=$_roamproxy_options_cproxy values=$_roamproxy_values_cproxy ;;
        sproxy) options=$_roamproxy_options_sproxy values=$_roamproxy_values_sproxy ;;
        *) return ;;
    esac
    COMPREPLY=()
    if [[ " $values " == *" $prev "* ]]; then
        # The option's value: a file name where it is one, else nothing to guess.
        [[ " $_roamproxy_files " == *" $prev "* ]] && mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        return
    fi
    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$options" -- "$cur")
    elif [[ $cmd == cproxy ]]; then
        mapfile -t COMPREPLY < <(compgen -A hostname -- "$cur")
    fi
}

complete -F _roamproxy cproxy sproxy
