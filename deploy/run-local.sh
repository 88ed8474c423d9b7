#!/usr/bin/env bash
# M6-Rec without Docker: gunicorn, one Celery worker (queues small + large) and Celery beat,
# against the local PostgreSQL and Redis, with the production settings (plain HTTP on
# 127.0.0.1, so no HTTPS redirect). Pids and logs under var/ (M6REC_VAR_DIR).
#
#   deploy/run-local.sh start      migrate, collectstatic, start the three processes, wait healthy
#   deploy/run-local.sh stop       SIGTERM each process, wait, SIGKILL what is left
#   deploy/run-local.sh run        start, then stay in the foreground; SIGTERM/SIGINT stop all
#   deploy/run-local.sh status     which processes run
#   deploy/run-local.sh manage ARGS...   manage.py with the launcher's environment
#   deploy/run-local.sh smoke [ARGS...]  deploy/smoke.py against the running launcher
#   deploy/run-local.sh env        print the environment the processes get (secrets masked)
#
# Environment (all optional): DATABASE_URL (default postgres://postgres@127.0.0.1:5432/m6rec_local;
# the database is created when missing), REDIS_URL (redis://127.0.0.1:6379/0), CELERY_BROKER_URL,
# M6REC_PORT (8000), M6REC_HOST (127.0.0.1), WEB_CONCURRENCY (2), M6REC_WORKER_CONCURRENCY (2),
# M6REC_VAR_DIR (var/), M6REC_PYTHON (.venv/bin/python, else python3), M6REC_STOP_TIMEOUT (60 s),
# DJANGO_SECRET_KEY (generated once into var/secret-key).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [[ -n "${M6REC_PYTHON:-}" ]]; then PY="$M6REC_PYTHON"
elif [[ -x "$ROOT/.venv/bin/python" ]]; then PY="$ROOT/.venv/bin/python"
else PY="$(command -v python3)"; fi

VAR="${M6REC_VAR_DIR:-$ROOT/var}"
mkdir -p "$VAR"
VAR="$(cd "$VAR" && pwd)"
RUN="$VAR/run"
LOG="$VAR/log"
PROCS=(web worker beat)
STOP_TIMEOUT="${M6REC_STOP_TIMEOUT:-60}"

log() { printf '[run-local] %s\n' "$*" >&2; }

setup_env() {
  mkdir -p "$RUN" "$LOG" "$VAR/media" "$VAR/staticfiles"
  if [[ -z "${DJANGO_SECRET_KEY:-}" ]]; then
    if [[ ! -s "$VAR/secret-key" ]]; then
      (umask 077 && "$PY" -c 'import secrets; print(secrets.token_urlsafe(50))' >"$VAR/secret-key")
    fi
    DJANGO_SECRET_KEY="$(cat "$VAR/secret-key")"
  fi
  export DJANGO_SECRET_KEY
  export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-m6rec.settings.production}"
  export M6REC_HOST="${M6REC_HOST:-127.0.0.1}"
  export M6REC_PORT="${M6REC_PORT:-8000}"
  export DJANGO_ALLOWED_HOSTS="${DJANGO_ALLOWED_HOSTS:-127.0.0.1,localhost,$M6REC_HOST}"
  export DJANGO_SECURE_SSL_REDIRECT="${DJANGO_SECURE_SSL_REDIRECT:-False}"
  export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/m6rec_local}"
  export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
  export CELERY_BROKER_URL="${CELERY_BROKER_URL:-$REDIS_URL}"
  export M6REC_MEDIA_ROOT="${M6REC_MEDIA_ROOT:-$VAR/media}"
  export DJANGO_STATIC_ROOT="${DJANGO_STATIC_ROOT:-$VAR/staticfiles}"
  export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$VAR/prometheus}"
  export GUNICORN_BIND="${GUNICORN_BIND:-$M6REC_HOST:$M6REC_PORT}"
  export WEB_CONCURRENCY="${WEB_CONCURRENCY:-2}"
  export KERAS_HOME="${KERAS_HOME:-$VAR/keras}"
  export PYTHONUNBUFFERED=1
  # implicit (ALS) and numpy: one BLAS thread per process; parallelism comes from processes.
  export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
  # web and the worker share this machine: training runs niced with one thread per numeric
  # library (m6rec.ops.worker_limits; docs/production.md "Training beside web processes")
  export M6REC_WORKER_NICE="${M6REC_WORKER_NICE:-10}"
  export M6REC_WORKER_THREADS="${M6REC_WORKER_THREADS:-1}"
}

pid_of() { cat "$RUN/$1.pid" 2>/dev/null || true; }

alive() {
  local pid
  pid="$(pid_of "$1")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null
}

spawn() {  # spawn NAME CMD...: background, detached from the terminal, pid in var/run/NAME.pid
  local name="$1"
  shift
  if alive "$name"; then
    log "$name already running (pid $(pid_of "$name"))"
    return 0
  fi
  nohup "$@" >>"$LOG/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
  log "$name started (pid $!, log $LOG/$name.log)"
}

ensure_database() {
  "$PY" - <<'EOF'
import os, sys
from urllib.parse import urlsplit, unquote
import psycopg2
from psycopg2 import sql

url = urlsplit(os.environ["DATABASE_URL"])
name = unquote(url.path.lstrip("/"))
params = dict(host=url.hostname or "127.0.0.1", port=url.port or 5432,
              user=unquote(url.username or "postgres"), password=unquote(url.password or ""),
              dbname="postgres", connect_timeout=5)
try:
    conn = psycopg2.connect(**params)
except psycopg2.OperationalError as exc:
    sys.exit(f"[run-local] PostgreSQL is not reachable ({params['host']}:{params['port']}): {exc}")
conn.autocommit = True
with conn.cursor() as cur:
    cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
    if cur.fetchone() is None:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        print(f"[run-local] created database {name}", file=sys.stderr)
conn.close()
EOF
}

check_redis() {
  "$PY" - <<'EOF'
import os, sys
import redis
for var in ("REDIS_URL", "CELERY_BROKER_URL"):
    try:
        redis.Redis.from_url(os.environ[var], socket_connect_timeout=3).ping()
    except Exception as exc:
        sys.exit(f"[run-local] Redis is not reachable at {var}={os.environ[var]}: {exc}")
EOF
}

wait_healthy() {
  local url="http://$M6REC_HOST:$M6REC_PORT"
  for _ in $(seq 120); do
    if ! alive web; then
      log "web exited during start-up; last log lines:"
      tail -n 30 "$LOG/web.log" >&2 || true
      return 1
    fi
    if "$PY" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + '/readyz', timeout=2)" "$url" 2>/dev/null; then
      log "ready: $url (health $url/healthz, metrics $url/metrics)"
      return 0
    fi
    sleep 0.5
  done
  log "web did not become ready within 60 s; see $LOG/web.log"
  return 1
}

cmd_start() {
  setup_env
  ensure_database
  check_redis
  log "migrate"
  "$PY" manage.py migrate --noinput >>"$LOG/manage.log" 2>&1 || {
    tail -n 30 "$LOG/manage.log" >&2
    return 1
  }
  log "collectstatic"
  "$PY" manage.py collectstatic --noinput >>"$LOG/manage.log" 2>&1 || {
    tail -n 30 "$LOG/manage.log" >&2
    return 1
  }
  if ! alive web; then
    rm -rf "$PROMETHEUS_MULTIPROC_DIR"  # stale samples of an earlier run
  fi
  mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
  # gunicorn first: it empties the metrics directory when it starts (deploy/gunicorn.conf.py).
  spawn web "$PY" -m gunicorn --config deploy/gunicorn.conf.py m6rec.wsgi:application
  wait_healthy || { cmd_stop; return 1; }
  spawn worker "$PY" -m celery -A m6rec worker --queues=small,large \
    --concurrency="${M6REC_WORKER_CONCURRENCY:-2}" --hostname="local-$M6REC_PORT@%h" \
    --without-gossip --without-mingle --loglevel=INFO
  spawn beat "$PY" -m celery -A m6rec beat --schedule="$RUN/celerybeat-schedule" --pidfile= \
    --loglevel=INFO
  sleep 1
  for p in worker beat; do
    if ! alive "$p"; then
      log "$p exited during start-up; last log lines:"
      tail -n 30 "$LOG/$p.log" >&2 || true
      cmd_stop
      return 1
    fi
  done
}

stop_one() {
  local name="$1" pid
  pid="$(pid_of "$name")"
  if [[ -z "$pid" ]] || ! kill -0 "$pid" 2>/dev/null; then
    rm -f "$RUN/$name.pid"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq $((STOP_TIMEOUT * 5))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name (pid $pid) ignored SIGTERM for ${STOP_TIMEOUT}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$RUN/$name.pid"
  log "$name stopped"
}

cmd_stop() {
  local p
  # beat first (no new work), then the worker (finishes its task), then web.
  for p in beat worker web; do stop_one "$p"; done
}

cmd_status() {
  local p rc=0
  for p in "${PROCS[@]}"; do
    if alive "$p"; then echo "$p running (pid $(pid_of "$p"))"; else echo "$p stopped"; rc=3; fi
  done
  return $rc
}

cmd_run() {
  trap 'log "signal: stopping"; cmd_stop; exit 0' TERM INT
  cmd_start
  log "running in the foreground; SIGTERM or Ctrl-C stops everything"
  while true; do
    for p in "${PROCS[@]}"; do
      if ! alive "$p"; then
        log "$p exited unexpectedly; stopping the others (see $LOG/$p.log)"
        cmd_stop
        exit 1
      fi
    done
    sleep 2 &
    wait $! || true
  done
}

case "${1:-}" in
  start) cmd_start ;;
  stop) setup_env; cmd_stop ;;
  restart) setup_env; cmd_stop; cmd_start ;;
  status) cmd_status ;;
  run) cmd_run ;;
  manage) shift; setup_env; exec "$PY" manage.py "$@" ;;
  smoke)
    shift
    setup_env
    exec "$PY" deploy/smoke.py --base-url "http://$M6REC_HOST:$M6REC_PORT" \
      --manage "$PY manage.py" "$@"
    ;;
  env)
    setup_env
    env | grep -E '^(DJANGO_|DATABASE_URL|REDIS_URL|CELERY_|M6REC_|PROMETHEUS_|GUNICORN_|WEB_)' \
      | sed -E 's/^(DJANGO_SECRET_KEY=).*/\1***/' | sort
    ;;
  *)
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
