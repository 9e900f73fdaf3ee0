#!/usr/bin/env bash
# Compares `nvctk test --api all` (five containers, concurrently) with running the same five
# containers one by one with `docker run`, on one private engine, in one run, as a ratio.
# The `nvidia` runtime is a shim over runc and the images are busybox trees whose tools print
# the captured outputs in tests/data/gputest, so no GPU and no network are needed.
# Needs root, dockerd, busybox-static and hyperfine. Not a test: run on demand.
# PROFILE=debug uses target/debug (no release build).
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${PROFILE:-release}
if [ "$profile" = release ]; then cargo build --release --quiet; else cargo build --quiet; fi
bin="$PWD/target/$profile/nvctk"
data="$PWD/tests/data/gputest"
dir=$(mktemp -d /tmp/nvtb.XXXX)
trap 'kill "$(cat "$dir/pid" 2>/dev/null)" 2>/dev/null || true; sleep 1; rm -rf "$dir"' EXIT
printf '#!/bin/sh\nexec runc "$@"\n' > "$dir/shim"; chmod +x "$dir/shim"
printf '{"runtimes":{"nvidia":{"path":"%s"}}}\n' "$dir/shim" > "$dir/daemon.json"
dockerd --data-root "$dir/data" --exec-root "$dir/x" --pidfile "$dir/pid" -H "unix://$dir/s" \
  --config-file "$dir/daemon.json" --iptables=false --bridge=none >"$dir/log" 2>&1 &
for _ in $(seq 100); do docker -H "unix://$dir/s" version >/dev/null 2>&1 && break; sleep 0.1; done
export DOCKER_HOST="unix://$dir/s" NO_COLOR=1 NVCTK_NVML_LIB=/nonexistent

# image TOOL SAMPLE [extra files...]: a busybox tree where /usr/bin/TOOL prints SAMPLE.
image() {
  local ref=$1 tool=$2 sample=$3 root="$dir/root-$RANDOM"
  mkdir -p "$root/bin" "$root/usr/bin" "$root/tmp" "$root/usr/lib/x86_64-linux-gnu"
  cp "$(command -v busybox)" "$root/bin/busybox"
  for a in sh cat ls head echo; do ln -s busybox "$root/bin/$a"; done
  { echo '#!/bin/sh'
    [ "$tool" = nvidia-smi ] && echo '[ "$1" = -L ] && { echo "GPU 0: NVIDIA GeForce RTX 4090 (UUID: GPU-0)"; exit 0; }'
    echo "cat <<'EOF_S'"; cat "$data/$sample"; echo 'EOF_S'; } > "$root/usr/bin/$tool"
  chmod +x "$root/usr/bin/$tool"
  : > "$root/usr/lib/x86_64-linux-gnu/libnvidia-encode.so.1"
  : > "$root/usr/lib/x86_64-linux-gnu/libnvcuvid.so.1"
  tar -C "$root" -c . | docker import --change 'ENV PATH=/usr/bin:/bin' - "$ref" >/dev/null
}
image nvidia/cuda:12.4.1-base-ubuntu22.04 nvidia-smi nvidia-smi.txt
image nvidia/opengl:1.2-glvnd-runtime-ubuntu22.04 eglinfo eglinfo-nvidia.txt
image nvidia/vulkan:1.3-470 vulkaninfo vulkaninfo-nvidia.txt
image nvidia/opencl:devel-ubuntu20.04 clinfo clinfo-nvidia.txt

lock="--network none --read-only --cap-drop ALL --security-opt no-new-privileges --runtime nvidia -e NVIDIA_VISIBLE_DEVICES=all"
cat > "$dir/one-by-one.sh" <<SH
#!/bin/sh
set -e
docker run --rm $lock -e NVIDIA_DRIVER_CAPABILITIES=compute,utility nvidia/cuda:12.4.1-base-ubuntu22.04 nvidia-smi >/dev/null
docker run --rm $lock -e NVIDIA_DRIVER_CAPABILITIES=graphics,utility nvidia/opengl:1.2-glvnd-runtime-ubuntu22.04 eglinfo >/dev/null
docker run --rm $lock -e NVIDIA_DRIVER_CAPABILITIES=graphics,utility nvidia/vulkan:1.3-470 vulkaninfo --summary >/dev/null
docker run --rm $lock -e NVIDIA_DRIVER_CAPABILITIES=compute,utility nvidia/opencl:devel-ubuntu20.04 clinfo >/dev/null
docker run --rm $lock -e NVIDIA_DRIVER_CAPABILITIES=video,compute,utility nvidia/cuda:12.4.1-base-ubuntu22.04 sh -c 'nvidia-smi -L; ls /usr/lib/*/libnvidia-encode.so.1 /usr/lib/*/libnvcuvid.so.1' >/dev/null
SH
chmod +x "$dir/one-by-one.sh"
"$bin" test --api all --mode runtime --pull never >&2   # must pass before timing
hyperfine --warmup 1 --runs "${RUNS:-10}" -N --export-json "$dir/result.json" \
  "$dir/one-by-one.sh" "$bin test --api all --mode runtime --pull never --format json" >&2
python3 - "$dir/result.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
seq, nv = r[0]["mean"], r[1]["mean"]
print(f"docker run x5 one by one: {seq*1000:.0f} ms   nvctk test --api all: {nv*1000:.0f} ms   ratio nvctk/sequential: {nv/seq:.2f}")
PY
