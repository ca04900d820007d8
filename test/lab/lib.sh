# Sourced by test/lab/*.sh: the lab's fixed facts, its directories and small helpers. No side effects but variables
# and functions (and the cache directory, which build/common.sh creates).
#
# The lab's addresses and ports are constants on purpose: the app image records its run image's address, so every
# part (Docker, the Dagger engine, the cluster) must read the run image at the same 10.123.0.1:5001 for one commit to
# give one digest.

LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$LAB_DIR/../.." && pwd)"
# shellcheck source=build/common.sh
. "$LAB_DIR/build/common.sh" # CACHE, log, die, go_retry (shared with the engine's and the cluster's build scripts)

STATE="${PACKLINE_LAB_STATE:-/var/lib/packline-lab}"
LAB_ADDR=10.123.0.1
APPS_REGISTRY="$LAB_ADDR:5000"   # htpasswd, where packline publishes
IMAGES_REGISTRY="$LAB_ADDR:5001" # anonymous, read-write: every test image under its upstream path
GIT_PORT=8080
FILES_PORT=8081
REGISTRY_USER=packline
GIT_USER=git
CNB_UID=1000
CNB_GID=1000
STACK_ID=io.packline.e2e.busybox
# The cgroup (in every v1 hierarchy, and in the v2 one) under which the lab's Docker puts its containers: `down`
# removes it, since cgroupfs is not namespaced. A lab with another state directory gets its own, so two labs on one
# machine never touch each other's.
LAB_CGROUP=packline-lab
[ "$STATE" = /var/lib/packline-lab ] || LAB_CGROUP="packline-lab-$(printf '%s' "$STATE" | sha256sum | cut -c1-8)"

RUN_DIR="$STATE/run"       # pid files and sockets the host side uses
LAB_PID_FILE="$STATE/lab.pid"
LAB_JSON="$STATE/lab.json"

require_root() {
  [ "$(id -u)" = 0 ] || die "the lab needs root (it makes namespaces, starts registries and dockerd, and apt-get installs); uid is $(id -u). Run it with sudo."
}

# The host pid of the lab's PID 1, or nothing when no lab runs. A stale pid file (the process is gone, or is not
# in a namespace of ours any more) counts as no lab.
lab_pid() {
  local pid
  [ -f "$LAB_PID_FILE" ] || return 1
  pid="$(cat "$LAB_PID_FILE")"
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  # PID 1 of the lab is in another pid namespace than ours
  [ "$(readlink "/proc/$pid/ns/pid")" != "$(readlink /proc/self/ns/pid)" ] || return 1
  echo "$pid"
}

# Runs a command in the lab's network namespace only (host mounts and pids): files are shared with the host side.
in_lab_net() {
  local pid
  pid="$(lab_pid)" || die "no lab is running (test/lab/lab.sh up)"
  nsenter -t "$pid" -n -- "$@"
}

# Runs a command in all of the lab's namespaces (network, mount, pid): it dies with the lab.
in_lab() {
  local pid
  pid="$(lab_pid)" || die "no lab is running (test/lab/lab.sh up)"
  nsenter -t "$pid" -m -n -p --wd="$PWD" -- "$@"
}

# A short hash of a set of files (a tool module, a buildpack), so a changed input rebuilds what depends on it.
files_key() { # dir [find args...]
  local dir="$1"; shift
  (cd "$dir" && find . -type f "$@" -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12)
}

deb_version() { dpkg-query -W -f='${Version}' "$1"; }

# Holds an exclusive lock on $CACHE/locks/NAME.lock until the calling script exits, so that two runs writing the same
# files (lab.sh up and the cluster's cluster.sh at once, two CI jobs on one machine) take turns instead of mixing.
cache_lock() { # name
  mkdir -p "$CACHE/locks"
  exec {_lock_fd}> "$CACHE/locks/$1.lock"
  flock -w 1800 "$_lock_fd" || die "waited 30 minutes for $CACHE/locks/$1.lock"
}
