# Shared by the benchmarks that run servers on 127.0.0.1 (sourced, not run): a private work
# directory, the servers started (their PIDs in `pids`, stopped on exit), and small helpers.
# Expects: here, and WORK_PREFIX (the work directory's name before its random suffix).
# Provides: py, work, pids, free_port, median. KEEP=1 keeps the work directory (logs).
py=/usr/bin/python3
work=$(mktemp -d "/tmp/${WORK_PREFIX}-XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "${KEEP:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT INT TERM
# A TCP port free on 127.0.0.1 now.
free_port() { $py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# The median of the numbers on standard input, one per line ("n/a" for none).
median() { sort -n | awk '{v[NR]=$1} END {if (NR == 0) print "n/a"; else print (NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2)}'; }
