# Shared by the lab's build scripts (sourced): logging, the cache root, Go with retries.
CACHE="${PACKLINE_CACHE:-/var/cache/packline}"
mkdir -p "$CACHE"
export PATH="/usr/local/go/bin:$PATH"
_t0=$SECONDS
log() { printf '[lab %4ss] %s\n' "$((SECONDS - _t0))" "$*" >&2; }
die() { printf '[lab] FAILED: %s\n' "$*" >&2; exit 1; }
# The Go module proxy sometimes refuses for a moment: try a go command three times.
go_retry() {
  local i
  for i in 1 2 3; do
    if GOTOOLCHAIN=local go "$@"; then return 0; fi
    log "go $1 failed (attempt $i)"; sleep $((i * 3))
  done
  return 1
}
