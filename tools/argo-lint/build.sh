#!/usr/bin/env bash
# Builds packline's Argo Workflows checker (tools/argo-lint, see README.md) into a cache and prints the binary's path
# on standard output (build logs go to stderr).
#
#   bash tools/argo-lint/build.sh            -> .../bin/argo-lint
#
# Binary: ${PACKLINE_TOOLS_CACHE:-$HOME/.cache/packline}/bin/argo-lint
# The build is skipped when the binary is newer than the .go files, go.mod and go.sum, or when it was built from the
# same content of those files (a recorded sha256, so a fresh clone with new mtimes does not rebuild). Safe to run
# concurrently: builds are serialised with flock and the binary is replaced atomically. A run that has to wait for
# the lock says so on stderr, with the process that holds it, and again every 30 s.
# Time: a cold build (empty Go build cache) took 245 s on 2 busy cores, plus the module downloads from the Go module
# proxy when the module cache is empty too; with a warm Go build cache about 15 s; with the binary cached, nothing.
set -euo pipefail

src_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache_dir="${PACKLINE_TOOLS_CACHE:-${HOME:-/tmp}/.cache/packline}"
bin_dir="$cache_dir/bin"
bin="$bin_dir/argo-lint"
stamp="$bin.sha256"
sources=("$src_dir"/*.go "$src_dir/go.mod" "$src_dir/go.sum")

go_cmd="$(command -v go || true)"
if [ -z "$go_cmd" ] && [ -x /usr/local/go/bin/go ]; then
  go_cmd=/usr/local/go/bin/go
fi

sources_hash() {
  cat "${sources[@]}" | sha256sum | cut -d' ' -f1
}

up_to_date() {
  [ -x "$bin" ] || return 1
  local newer=1 f
  for f in "${sources[@]}"; do
    if [ ! "$bin" -nt "$f" ]; then newer=0; fi
  done
  [ "$newer" = 1 ] && return 0
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(sources_hash)" ]
}

mkdir -p "$bin_dir"
if up_to_date; then
  echo "$bin"
  exit 0
fi

lock="$bin_dir/.argo-lint.lock"
exec 9>>"$lock"

# Who holds the lock: the pid in /proc/locks for the lock file's inode, and that process's command and age.
lock_holder() {
  local inode pid
  inode="$(stat -c %i "$lock")"
  pid="$(awk -v inode="$inode" '$2 == "FLOCK" { n = split($6, dev, ":"); if (dev[n] == inode) { print $5; exit } }' /proc/locks 2>/dev/null || true)"
  if [ -z "$pid" ]; then
    echo "a process this one cannot see"
  elif ps -p "$pid" > /dev/null 2>&1; then
    echo "pid $pid, running for $(ps -o etime= -p "$pid" | tr -d ' '): $(ps -o args= -p "$pid" | cut -c1-200)"
  else
    echo "pid $pid (in another pid namespace, or just exited)"
  fi
}

# Never wait in silence: a cold build holds the lock for minutes, and npm test's files all come through here.
if ! flock -n 9; then
  waited=$SECONDS
  echo "argo-lint build.sh: waiting for the validator's build lock $lock, held by $(lock_holder); it is building $bin (a cold build takes minutes, see tools/argo-lint/README.md)" >&2
  until flock -w 30 9; do
    echo "argo-lint build.sh: still waiting for $lock after $((SECONDS - waited)) s, held by $(lock_holder)" >&2
  done
  echo "argo-lint build.sh: got the build lock after $((SECONDS - waited)) s" >&2
fi
# Another process may have built it while this one waited for the lock.
if up_to_date; then
  echo "$bin"
  exit 0
fi

if [ -z "$go_cmd" ]; then
  echo "argo-lint build.sh: no Go toolchain found (PATH or /usr/local/go/bin)" >&2
  exit 1
fi

hash="$(sources_hash)"
tmp="$(mktemp "$bin_dir/.argo-lint.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
start=$SECONDS
echo "argo-lint build.sh: building $bin with $("$go_cmd" version) (a cold build takes minutes; see tools/argo-lint/README.md)" >&2
(
  cd "$src_dir"
  # 9>&-: go and its children must not inherit the lock, or a killed build.sh would leave it held.
  GOFLAGS=-mod=readonly CGO_ENABLED=0 "$go_cmd" build -trimpath -ldflags='-s -w' -o "$tmp" . 9>&-
)
chmod 0755 "$tmp"
mv -f "$tmp" "$bin"
trap - EXIT
echo "$hash" > "$stamp"
echo "argo-lint build.sh: built in $((SECONDS - start)) s" >&2
echo "$bin"
