# shellcheck shell=bash
#
# Shared helpers for Surge's bash scripts. Source this file, don't run it:
#
#   SURGE_LOG_PREFIX=myscript          # optional, defaults to basename of $0
#   # shellcheck source=lib/common.sh
#   source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
#
# Every function is prefixed with surge_ so sourcing never clobbers a
# caller's own names. Nothing here changes shell options.

if [[ -n "${_SURGE_COMMON_SH_LOADED:-}" ]]; then
    return 0
fi
_SURGE_COMMON_SH_LOADED=1

SURGE_LOG_PREFIX=${SURGE_LOG_PREFIX:-$(basename -- "$0")}
# 1 silences surge_info; warnings and errors are always printed.
SURGE_QUIET=${SURGE_QUIET:-0}

# --- messages (all on stderr) ------------------------------------------------

surge_info() {
    [[ "$SURGE_QUIET" == 1 ]] || printf '%s: %s\n' "$SURGE_LOG_PREFIX" "$*" >&2
}

surge_warn() {
    printf '%s: warning: %s\n' "$SURGE_LOG_PREFIX" "$*" >&2
}

surge_error() {
    printf '%s: error: %s\n' "$SURGE_LOG_PREFIX" "$*" >&2
}

surge_die() {
    surge_error "$*"
    exit 1
}

# surge_log_tail FILE [LINES]: print the last lines of a log to stderr,
# indented, so a failure message shows what the service complained about.
surge_log_tail() {
    local file=$1 lines=${2:-25}
    if [[ -s "$file" ]]; then
        printf '%s: --- last %s lines of %s ---\n' "$SURGE_LOG_PREFIX" "$lines" "$file" >&2
        tail -n "$lines" -- "$file" | sed 's/^/    /' >&2
        printf '%s: --- end of %s ---\n' "$SURGE_LOG_PREFIX" "$file" >&2
    else
        printf '%s: (%s is empty or missing)\n' "$SURGE_LOG_PREFIX" "$file" >&2
    fi
}

# --- paths -------------------------------------------------------------------

# Absolute path of the repository (parent of scripts/).
surge_repo_root() {
    (cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)
}

# surge_abspath PATH: absolute, normalised path; PATH need not exist.
surge_abspath() {
    realpath -m -- "$1"
}

# --- small checks ------------------------------------------------------------

surge_need_cmd() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || surge_die "required command not found: $c"
    done
}

surge_is_uint() {
    [[ "${1:-}" =~ ^[0-9]+$ ]]
}

# surge_valid_port N: 0..65535 (0 means "pick one").
surge_valid_port() {
    surge_is_uint "${1:-}" && ((10#$1 <= 65535))
}

# --- ports -------------------------------------------------------------------

# surge_port_listening PORT: true if something listens on loopback TCP PORT.
surge_port_listening() {
    local out
    out=$(ss -Hltn "sport = :$1" 2>/dev/null) || return 1
    [[ -n "$out" ]]
}

# surge_pick_free_port: print a loopback TCP port that is free right now.
# The kernel picks it (bind to port 0), so concurrent callers get different
# ports; callers must still cope with losing a race before they bind.
surge_pick_free_port() {
    local port
    if command -v python3 >/dev/null 2>&1 &&
        port=$(python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()' 2>/dev/null) && surge_is_uint "$port" && ! surge_port_listening "$port"; then
        printf '%s\n' "$port"
        return 0
    fi
    # Fallback without python: random ports below the ephemeral range.
    local i
    for ((i = 0; i < 200; i++)); do
        port=$((20000 + RANDOM % 12000))
        if ! surge_port_listening "$port"; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    return 1
}

# --- processes ---------------------------------------------------------------

# surge_pid_alive PID [COMM...]: true if PID is a live (non-zombie) process,
# and, when names are given, its /proc/PID/comm is one of them (guards
# against a recycled pid).
surge_pid_alive() {
    local pid=${1:-}
    shift || true
    surge_is_uint "$pid" || return 1
    [[ -r "/proc/$pid/stat" ]] || return 1
    local stat state
    { stat=$(<"/proc/$pid/stat"); } 2>/dev/null || return 1
    # Field 3, after the parenthesised command name (which may hold spaces).
    state=${stat##*) }
    state=${state%% *}
    [[ "$state" != Z && "$state" != X ]] || return 1
    (($# == 0)) && return 0
    local comm name
    { comm=$(<"/proc/$pid/comm"); } 2>/dev/null || return 1
    for name in "$@"; do
        [[ "$comm" == "$name" ]] && return 0
    done
    return 1
}

# surge_read_pidfile FILE: print the pid stored in FILE (empty if none).
surge_read_pidfile() {
    local pid=""
    if [[ -r "$1" ]]; then
        read -r pid <"$1" || true
    fi
    surge_is_uint "$pid" && printf '%s\n' "$pid"
    return 0
}

# surge_wait_pid_exit PID SECONDS: wait for PID to go away; false on timeout.
surge_wait_pid_exit() {
    local pid=$1 deadline=$((SECONDS + $2))
    while surge_pid_alive "$pid"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.1
    done
    return 0
}

# surge_stop_pid PID NAME GRACE: SIGTERM, wait GRACE seconds, then SIGKILL
# with a warning. For use after a polite shutdown request failed or timed out.
surge_stop_pid() {
    local pid=$1 name=$2 grace=${3:-10}
    surge_pid_alive "$pid" || return 0
    surge_warn "$name (pid $pid) still running; sending SIGTERM"
    kill -TERM "$pid" 2>/dev/null || true
    surge_wait_pid_exit "$pid" "$grace" && return 0
    surge_warn "$name (pid $pid) ignored SIGTERM for ${grace}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    surge_wait_pid_exit "$pid" 5 || {
        surge_error "$name (pid $pid) survived SIGKILL"
        return 1
    }
}

# surge_spawn_detached OUTFILE CMD [ARGS...]: start CMD in its own session,
# detached from the caller's terminal and pipes (stdin from /dev/null,
# stdout+stderr appended to OUTFILE, every other inherited descriptor
# closed, so e.g. a held lock or a test harness's pipe doesn't leak into a
# long-lived daemon). Sets SURGE_SPAWNED_PID to the daemon's pid.
SURGE_SPAWNED_PID=
surge_spawn_detached() {
    local out=$1
    shift
    (
        local fdpath fd
        for fdpath in /proc/"$BASHPID"/fd/*; do
            fd=${fdpath##*/}
            if surge_is_uint "$fd" && ((fd > 2)); then
                eval "exec $fd>&-" 2>/dev/null || true
            fi
        done
        # Not a process-group leader (no job control in scripts), so setsid
        # execs in place and $! below is the daemon's own pid.
        exec setsid "$@" </dev/null >>"$out" 2>&1
    ) &
    # shellcheck disable=SC2034  # read by the caller
    SURGE_SPAWNED_PID=$!
}

# --- env files -----------------------------------------------------------------

# surge_env_quote VALUE: VALUE as-is when it is plain, single-quoted otherwise,
# so KEY=VALUE lines stay both shell-sourceable and trivially parseable.
surge_env_quote() {
    local v=$1
    if [[ "$v" =~ ^[A-Za-z0-9_./:@%+,=-]*$ ]]; then
        printf '%s' "$v"
    else
        printf "'%s'" "${v//\'/\'\\\'\'}"
    fi
}

# surge_env_get FILE KEY: print KEY's value from a KEY=VALUE file (last one
# wins; surrounding single or double quotes removed). Empty if absent.
surge_env_get() {
    local file=$1 key=$2 line val=""
    [[ -r "$file" ]] || return 0
    while IFS= read -r line || [[ -n "$line" ]]; do
        [[ "$line" == "$key="* ]] && val=${line#"$key="}
    done <"$file"
    if [[ "$val" == \'*\' && ${#val} -ge 2 ]]; then
        val=${val:1:${#val}-2}
        val=${val//\'\\\'\'/\'}
    elif [[ "$val" == \"*\" && ${#val} -ge 2 ]]; then
        val=${val:1:${#val}-2}
    fi
    printf '%s' "$val"
}
