#!/usr/bin/env bash
# Restore a PostgreSQL dump (pg_dump -Fc) into a fresh database and run `phieukin check`
# on it: proof that the backup restores and that what it holds is consistent.
#
#   scripts/restore_and_check.sh DUMP [--round R ...] [--keep]
#
# The server comes from libpq's variables (PGHOST, PGPORT, PGUSER, PGPASSWORD); the
# database is created as phieukin_restore_<time>_<pid> and dropped afterwards unless
# --keep is given. PHIEUKIN names the command to run (default: phieukin on PATH).
# Exit status: 0 consistent, 1 not consistent, 2 the restore itself failed.
set -euo pipefail

if [ $# -lt 1 ] || [ ! -f "$1" ]; then
  echo "usage: $0 DUMP [--round R ...] [--keep]" >&2
  exit 2
fi
dump=$1
shift
keep=0
args=()
for arg in "$@"; do
  if [ "$arg" = "--keep" ]; then keep=1; else args+=("$arg"); fi
done

host=${PGHOST:-127.0.0.1}
port=${PGPORT:-5432}
user=${PGUSER:-postgres}
export PGHOST=$host PGPORT=$port PGUSER=$user
name="phieukin_restore_$(date -u +%Y%m%d%H%M%S)_$$"

createdb "$name"
cleanup() {
  if [ "$keep" = 1 ]; then
    echo "kept the restored database: $name"
  else
    dropdb --if-exists --force "$name"
  fi
}
trap cleanup EXIT

echo "== restoring $dump into $name"
if ! pg_restore --no-owner --no-privileges --exit-on-error -d "$name" "$dump"; then
  echo "== the restore failed" >&2
  exit 2
fi

echo "== phieukin check ${args[*]:-}"
PHIEUKIN_DATABASE_URL="postgresql+psycopg://$user@$host:$port/$name" \
  "${PHIEUKIN:-phieukin}" check "${args[@]}"
