# shellcheck shell=bash
# Instances and the nginx in front of them, for scripts/serve --instances N. Sourced after
# common.sh. State under DIR/run: surge-K.pid, surge-K.port and surge-K.admin-port (its admin
# listener: /metrics, /health in full, /dashboard) per instance, instances (N),
# nginx.conf, nginx.pid; logs under DIR/log/surge-K.log and nginx-error.log.

# surge_instance_pid DIR K / surge_instance_port DIR K: what is recorded for instance K.
surge_instance_pid() { surge_read_pidfile "$1/run/surge-$2.pid"; }
surge_instance_port() {
    local port=""
    [[ -r "$1/run/surge-$2.port" ]] && read -r port <"$1/run/surge-$2.port"
    printf '%s' "$port"
}
surge_instance_admin_port() {
    local port=""
    [[ -r "$1/run/surge-$2.admin-port" ]] && read -r port <"$1/run/surge-$2.admin-port"
    printf '%s' "$port"
}
surge_instance_count() {
    local n=0
    [[ -r "$1/run/instances" ]] && read -r n <"$1/run/instances"
    printf '%s' "$n"
}

# surge_healthy PORT: true when the instance on PORT answers /health with 200.
surge_healthy() {
    curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:$1/health"
}

# surge_start_instance DIR K PORT BIN [FLAGS...]: start instance K detached on PORT and wait
# until it is healthy (30 s at most). The instance name stays surge-K across restarts, so a
# restarted instance finishes the orders it had read; its admin listener keeps its port too
# (a free one the first time), so scrape configurations stay valid.
surge_start_instance() {
    local dir=$1 k=$2 port=$3 bin=$4 admin_port
    shift 4
    admin_port=$(surge_instance_admin_port "$dir" "$k")
    [[ -n $admin_port ]] || admin_port=$(surge_pick_free_port) || surge_die "no free port for instance $k's admin listener"
    # The instances sit behind nginx on this host: only its forwarding headers are believed.
    surge_spawn_detached "$dir/log/surge-$k.log" "$bin" serve --listen 127.0.0.1 --port "$port" \
        --admin-listen "127.0.0.1:$admin_port" --trusted-proxy 127.0.0.1/32 \
        --instance "surge-$k" "$@"
    local pid=$SURGE_SPAWNED_PID
    echo "$pid" >"$dir/run/surge-$k.pid"
    echo "$port" >"$dir/run/surge-$k.port"
    echo "$admin_port" >"$dir/run/surge-$k.admin-port"
    local deadline=$((SECONDS + 30))
    until surge_healthy "$port"; do
        if ! surge_pid_alive "$pid"; then
            surge_log_tail "$dir/log/surge-$k.log"
            surge_die "instance $k exited during start-up (log: $dir/log/surge-$k.log)"
        fi
        ((SECONDS < deadline)) || surge_die "instance $k not healthy after 30 s (log: $dir/log/surge-$k.log)"
        sleep 0.1
    done
    surge_info "instance $k: pid $pid, http://127.0.0.1:$port (admin http://127.0.0.1:$admin_port/dashboard)"
}

# surge_env_put FILE KEY VALUE: set KEY=VALUE in a KEY=VALUE file, replacing an earlier value.
surge_env_put() {
    local file=$1 key=$2 value=$3
    if grep -q "^$key=" "$file" 2>/dev/null; then
        sed -i "s|^$key=.*|$key=$value|" "$file"
    else
        echo "$key=$value" >>"$file"
    fi
}

# surge_write_admin_addresses DIR ENV_FILE: SURGE_ADMIN_ADDRESS (instance 1's admin listener)
# and SURGE_ADMIN_ADDRESSES (every instance's, comma-separated) into the env file.
surge_write_admin_addresses() {
    local dir=$1 env_file=$2 n k all=""
    n=$(surge_instance_count "$dir")
    for ((k = 1; k <= n; k++)); do
        all+="${all:+,}127.0.0.1:$(surge_instance_admin_port "$dir" "$k")"
    done
    surge_env_put "$env_file" SURGE_ADMIN_ADDRESS "127.0.0.1:$(surge_instance_admin_port "$dir" 1)"
    surge_env_put "$env_file" SURGE_ADMIN_ADDRESSES "$all"
}

# surge_stop_instance DIR K: SIGTERM (the instance drains), then wait for it to exit.
surge_stop_instance() {
    local pid
    pid=$(surge_instance_pid "$1" "$2")
    [[ -n "$pid" ]] || return 0
    if surge_pid_alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        surge_wait_pid_exit "$pid" 20 || surge_stop_pid "$pid" "instance $2" 5
    fi
    rm -f "$1/run/surge-$2.pid"
}

# surge_render_nginx DIR LISTEN WEB_ROOT [DOWN_K]: write DIR/run/nginx.conf from
# deploy/nginx/surge.conf.in for the instances recorded in DIR/run; instance DOWN_K, if given,
# is marked down (nginx sends it nothing new) for a rolling restart.
surge_render_nginx() {
    local dir=$1 listen=$2 web_root=$3 down=${4:-} n k servers=""
    n=$(surge_instance_count "$dir")
    for ((k = 1; k <= n; k++)); do
        servers+="server 127.0.0.1:$(surge_instance_port "$dir" "$k") max_fails=2 fail_timeout=5s"
        [[ "$k" == "$down" ]] && servers+=" down"
        servers+="; "
    done
    mkdir -p "$dir/run" "$dir/log"
    sed -e "s|@RUN_DIR@|$dir/run|g" -e "s|@LOG_DIR@|$dir/log|g" -e "s|@LISTEN@|$listen|g" \
        -e "s|@WEB_ROOT@|$web_root|g" -e "s|@UPSTREAM_SERVERS@|$servers|g" \
        "$(surge_repo_root)/deploy/nginx/surge.conf.in" >"$dir/run/nginx.conf.new"
    mv "$dir/run/nginx.conf.new" "$dir/run/nginx.conf"
}

# surge_write_prometheus DIR: a scrape configuration for the recorded instances' admin
# listeners (the public port answers /metrics 404).
surge_write_prometheus() {
    local dir=$1 n k
    n=$(surge_instance_count "$dir")
    {
        echo "# Written by scripts/serve for the instances under $dir."
        echo "global: {scrape_interval: 5s}"
        echo "scrape_configs:"
        echo "  - job_name: surge"
        echo "    static_configs:"
        echo "      - targets:"
        for ((k = 1; k <= n; k++)); do echo "          - 127.0.0.1:$(surge_instance_admin_port "$dir" "$k")"; done
    } >"$dir/run/prometheus.yml"
}

# surge_nginx_reload DIR: make the running nginx read DIR/run/nginx.conf again (old workers
# finish their requests first).
surge_nginx_reload() {
    nginx -t -q -c "$1/run/nginx.conf" -p "$1/run" || surge_die "nginx refused $1/run/nginx.conf"
    nginx -q -c "$1/run/nginx.conf" -p "$1/run" -s reload
}
