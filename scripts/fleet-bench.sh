#!/usr/bin/env bash
# fleet-bench: the fleet figures of README's Performance section (issue 12),
# measured on this machine with the meshc CLI, side by side with what they
# are compared to. Run it on a quiet machine: every figure but the ratios
# taken in one run is a wall-clock time.
#
#   scripts/fleet-bench.sh            # or: make fleet-bench
#
#   SIZES="1000 2000 4000 8000"  clusters of the many-mesh fleets (2 meshes,
#                                10 namespaces per cluster)
#   SAMPLES=20                   istiod releases run through helm template
#   RENDERED_CLUSTERS=1000       clusters of the rendered target's fleet (100
#                                meshes)
#   MESHC_BENCH_DIR=DIR          where fleets and outputs go (default: a
#                                temporary folder, removed at the end)
#   SETTLE=SECONDS               how long after removing a tree to wait before
#                                the next measured build (default: 370 on ext4
#                                without a journal, else 0; see below)
#
# On ext4 without a journal, the kernel does not reuse an inode freed in the
# last 60 seconds (360 while its inode table block is dirty, as it is again
# as soon as anything allocates beside it), and each new inode's search
# walks past every such inode of its block group (recently_deleted in
# fs/ext4/ialloc.c): creating n files within minutes of removing m costs
# O(n × m) of system time, for meshc and cp -r alike. A build measured soon
# after a tree was removed pays for the removal, not for itself. So every
# removal here is followed by sync (the inode tables written back) and a
# wait of SETTLE seconds before the next measured build: 370 on such a
# disk (65 proved too short: the build dirties the freed inodes' blocks
# again), which makes a full run take about 40 minutes there. A folder on
# tmpfs (MESHC_BENCH_DIR=/dev/shm/...) has no such rule and needs no wait;
# SETTLE=0 measures back to back.
#
# It needs Go, GNU time (/usr/bin/time) and, for the rendered target's
# comparison, Helm 3 at the version meshc's go.mod pins, which
# e2e/build-binaries.sh builds from the Go module proxy once per machine.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
export GOTOOLCHAIN=local
SIZES=${SIZES:-"1000 2000 4000 8000"}
SAMPLES=${SAMPLES:-20}
RENDERED_CLUSTERS=${RENDERED_CLUSTERS:-1000}
if [ -n "${MESHC_BENCH_DIR:-}" ]; then
  work=$MESHC_BENCH_DIR
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi

# measure CMD... runs CMD with its output discarded and sets wall, cpu
# (user + system seconds) and rss (MiB) from GNU time.
measure() {
  local status=0
  /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$@" >/dev/null 2>&1 || status=$?
  # GNU time puts "Command exited with non-zero status" before its line.
  read -r wall user sys rss < <(tail -1 "$work/time")
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
  rss=$((rss / 1024))
  return $status
}
# settle waits until SETTLE seconds have passed since the last removal
# (removed records one; see the note at the top).
last_removal=0
removed() { last_removal=$(date +%s); }
settle() {
  sync
  local wait=$((last_removal + SETTLE - $(date +%s)))
  if [ "$wait" -gt 0 ]; then sleep "$wait"; fi
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

echo "== machine"
echo "date:   $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "cpu:    $(nproc) × $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
echo "memory: $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
dev=$(df --output=source "$work" | tail -1)
fstype=$(df --output=fstype "$work" | tail -1)
journal=
if [ "$fstype" = ext4 ] && [ -d "/proc/fs/ext4/${dev##*/}" ] && ! ls /proc/fs/jbd2 2>/dev/null | grep -q "^${dev##*/}-"; then
  journal=" without a journal (new inodes skip those freed in the last minute)"
fi
SETTLE=${SETTLE:-$([ -n "$journal" ] && echo 370 || echo 0)}
echo "disk:   $fstype on $dev$journal; ${SETTLE} s between a removal and the next measured build"
echo "load:   $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min; figures are noisy above 0.5)"
echo "go:     $(go version)"
go build -trimpath -o "$work/meshc" ./cmd/meshc
meshc=$work/meshc
echo "meshc:  $(git describe --tags --always --dirty 2>/dev/null || echo devel)"

echo
echo "== many-mesh fleets: build into an empty folder, then cp -r of its output"
echo "| clusters | meshes | files | build | CPU | max RSS | cp -r | build / copy | growth (wall, CPU) |"
echo "|---|---|---|---|---|---|---|---|---|"
first=$(echo "$SIZES" | awk '{print $1}') # its output stays, for the rebuilds below
prev= prev_cpu=
for n in $SIZES; do
  go run ./internal/fleet/gen -clusters "$n" -meshes $((2 * n)) -namespaces $((10 * n)) >"$work/fleet-$n.yaml"
  settle
  measure "$meshc" build "$work/fleet-$n.yaml" -o "$work/out-$n"
  b_wall=$wall b_cpu=$cpu b_rss=$rss
  files=$(find "$work/out-$n" -type f | wc -l)
  sync
  measure cp -r "$work/out-$n" "$work/copy-$n"
  c_wall=$wall
  growth=-
  [ -n "$prev" ] && growth="$(ratio "$b_wall" "$prev")×, $(ratio "$b_cpu" "$prev_cpu")×"
  prev=$b_wall prev_cpu=$b_cpu
  echo "| $n | $((2 * n)) | $files | ${b_wall} s | ${b_cpu} s | ${b_rss} MiB | ${c_wall} s | $(ratio "$b_wall" "$c_wall") | $growth |"
  rm -rf "$work/copy-$n"
  [ "$n" = "$first" ] || rm -rf "$work/out-$n"
  removed
done

echo
echo "== compile only (build --check against an empty folder: nothing read or written)"
n=$first
mkdir -p "$work/empty"
measure "$meshc" build "$work/fleet-$n.yaml" --check -o "$work/empty" || true
echo "$n clusters, $((2 * n)) meshes, $((10 * n)) namespaces: ${wall} s, CPU ${cpu} s, max RSS ${rss} MiB"

echo
echo "== edit and rebuild, $n clusters (median of 3 each)"
if [ -d "$work/out-$n" ]; then
  sed 's/t00007-ns03/t00007-nsx3/' "$work/fleet-$n.yaml" >"$work/fleet-$n-edit.yaml"
  median() { sort -n | sed -n 2p; }
  unchanged=() edit=() unchanged_cpu=() edit_cpu=()
  # An edit of one namespace changes one cluster's namespaces folder, which
  # meshc stages and exchanges alone (compiler/output/subtree.go): it
  # removes that folder's dozen files, not a tree, so no settling between.
  settle
  for i in 1 2 3; do
    measure "$meshc" build "$work/fleet-$n.yaml" -o "$work/out-$n"
    unchanged+=("$wall") unchanged_cpu+=("$cpu")
    measure "$meshc" build "$work/fleet-$n-edit.yaml" -o "$work/out-$n"
    edit+=("$wall") edit_cpu+=("$cpu")
    measure "$meshc" build "$work/fleet-$n.yaml" -o "$work/out-$n" # back: the next unchanged is unchanged
    edit+=("$wall") edit_cpu+=("$cpu")
  done
  u=$(printf '%s\n' "${unchanged[@]}" | median) uc=$(printf '%s\n' "${unchanged_cpu[@]}" | median)
  e=$(printf '%s\n' "${edit[@]}" | sort -n | sed -n 3p) ec=$(printf '%s\n' "${edit_cpu[@]}" | sort -n | sed -n 3p)
  echo "| rebuild | wall | CPU |"
  echo "|---|---|---|"
  echo "| unchanged | ${u} s | ${uc} s |"
  echo "| one namespace edited | ${e} s | ${ec} s |"
  echo "| edit / unchanged | $(ratio "$e" "$u") | $(ratio "$ec" "$uc") |"
  rm -rf "$work/out-$n"
  removed
fi

echo
echo "== rendered target: the benchmark fleet ($RENDERED_CLUSTERS clusters, 100 meshes), cold"
go run ./internal/fleet/gen -clusters "$RENDERED_CLUSTERS" -namespaces $((10 * RENDERED_CLUSTERS)) >"$work/fleet.yaml"
rm -rf "$work/rendered" "$work/helm"
mkdir -p "$work/empty-rendered"
measure "$meshc" build "$work/fleet.yaml" --target rendered --check -o "$work/empty-rendered" || true
r_wall=$wall r_cpu=$cpu r_rss=$rss
settle
measure "$meshc" build "$work/fleet.yaml" --target rendered -o "$work/rendered"
w_wall=$wall w_cpu=$cpu w_rss=$rss
measure "$meshc" build "$work/fleet.yaml" --target helm -o "$work/helm"
mapfile -t releases < <(find "$work/helm" -name 'helmrelease-istiod*.yaml' | sort)
count=${#releases[@]}
echo "istiod releases (control planes and remote installs): $count"
echo "| meshc, rendered target | wall | CPU | CPU per release | max RSS |"
echo "|---|---|---|---|---|"
echo "| compile (--check, nothing written) | ${r_wall} s | ${r_cpu} s | $(awk -v c="$r_cpu" -v n="$count" 'BEGIN { printf "%.1f", 1000 * c / n }') ms | ${r_rss} MiB |"
echo "| build, every file written | ${w_wall} s | ${w_cpu} s | $(awk -v c="$w_cpu" -v n="$count" 'BEGIN { printf "%.1f", 1000 * c / n }') ms | ${w_rss} MiB |"
rm -rf "$work/rendered"

helmbin=$(bash e2e/build-binaries.sh helm | tail -1)/bin/helm-$(go list -m -f '{{.Version}}' helm.sh/helm/v3)
step=$(((count + SAMPLES - 1) / SAMPLES))
sample=()
for ((i = 0; i < count; i += step)); do sample+=("${releases[$i]}"); done
mkdir -p "$work/values"
go run ./internal/fleet/helmvalues "$work/values" "${sample[@]}" >"$work/values/list"
cat >"$work/helm-all.sh" <<EOF
#!/usr/bin/env bash
set -e
while read -r chart version release namespace values; do
  "$helmbin" template "\$release" "$repo/compiler/charts/released/\$version/\$chart" -n "\$namespace" -f "\$values" >/dev/null
done <"$work/values/list"
EOF
measure bash "$work/helm-all.sh"
h=$(awk -v c="$cpu" -v n="${#sample[@]}" 'BEGIN { printf "%.1f", 1000 * c / n }')
m=$(awk -v c="$r_cpu" -v n="$count" 'BEGIN { printf "%.2f", 1000 * c / n }')
echo
echo "| per istiod release | CPU |"
echo "|---|---|"
echo "| helm template ($("$helmbin" version --template '{{.Version}}'), ${#sample[@]} releases of the fleet, same values) | ${h} ms |"
echo "| meshc, rendered target (compile above) | ${m} ms |"
echo "| helm template / meshc | $(ratio "$h" "$m")× |"
