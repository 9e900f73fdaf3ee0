#!/usr/bin/env bash
# Compares `nvctk doctor` with `docker info` on the same private engine, in one run, as a ratio.
# Needs root, dockerd and hyperfine (apt-get install hyperfine). Not a test: run on demand.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
dir=$(mktemp -d /tmp/nvbench.XXXX)
trap 'kill "$(cat "$dir/pid" 2>/dev/null)" 2>/dev/null || true; sleep 1; rm -rf "$dir"' EXIT
echo '{}' > "$dir/daemon.json"
dockerd --data-root "$dir/data" --exec-root "$dir/x" --pidfile "$dir/pid" -H "unix://$dir/s" \
  --config-file "$dir/daemon.json" --iptables=false --bridge=none >"$dir/log" 2>&1 &
for _ in $(seq 100); do docker -H "unix://$dir/s" version >/dev/null 2>&1 && break; sleep 0.1; done
export DOCKER_HOST="unix://$dir/s" NO_COLOR=1
hyperfine --warmup 3 --runs "${RUNS:-30}" -N --ignore-failure --export-json "$dir/result.json" \
  'docker info' './target/release/nvctk doctor --format json' >&2
python3 - "$dir/result.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
info, doctor = r[0]["mean"], r[1]["mean"]
print(f"docker info: {info*1000:.1f} ms   nvctk doctor: {doctor*1000:.1f} ms   ratio doctor/info: {doctor/info:.2f}")
PY
