# Sourced by the server scripts: wait_for_server BASE PID LOG [TRIES] polls BASE/health every 0.1 s
# (TRIES times, default 300) until the server answers; if the process PID exits first, or it never
# answers, prints its LOG and exits 1.
wait_for_server() {
  local base=$1 pid=$2 log=$3 tries=${4:-300}
  for _ in $(seq 1 "$tries"); do
    curl -fsS "$base/health" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$log"; echo "sparrow serve exited" >&2; exit 1; }
    sleep 0.1
  done
  cat "$log"; echo "sparrow serve did not answer /health" >&2; exit 1
}
