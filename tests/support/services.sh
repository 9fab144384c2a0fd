# Start/stop real PostgreSQL and Redis servers on loopback for the suite (sourced by run_suite.sh).
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

start_redis() {
  local dir="$1"
  command -v redis-server >/dev/null 2>&1 || { echo "redis-server not found: Redis tests will fail"; return 1; }
  local port; port=$(free_port)
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --pidfile "$PWD/$dir/redis.pid" --logfile "$PWD/$dir/redis.log" >/dev/null
  for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  CKB_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
}

start_postgres() {
  local dir="$1" bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
  [ -n "$bin" ] || bin=$(dirname "$(command -v pg_ctl 2>/dev/null)")
  [ -x "$bin/pg_ctl" ] || { echo "PostgreSQL not found: PostgreSQL pass skipped"; return 1; }
  local data="$PWD/$dir/pg" port; port=$(free_port)
  rm -rf "$data"; mkdir -p "$data"
  local runas=""
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd -r -M postgres
    chown -R postgres "$PWD/$dir"; runas="runuser -u postgres --"
  fi
  $runas "$bin/initdb" -D "$data" -U ckb -A trust >/dev/null || return 1
  $runas "$bin/pg_ctl" -D "$data" -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c fsync=off" -l "$data/log" -w start >/dev/null || return 1
  "$bin/createdb" -h 127.0.0.1 -p "$port" -U ckb ckb_test || return 1
  PG_BIN="$bin"; PG_DATA="$data"; PG_RUNAS="$runas"
  CKB_TEST_POSTGRES_URL="postgresql+psycopg://ckb@127.0.0.1:$port/ckb_test"
}

stop_services() {
  local dir="$1"
  [ -f "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null
  [ -n "${PG_DATA:-}" ] && $PG_RUNAS "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate stop >/dev/null 2>&1
  return 0
}
