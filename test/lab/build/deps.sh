#!/usr/bin/env bash
# The archives the deps fixture (test/e2e/fixture-deps-app/packline-deps.lock) lists, fetched into
# $PACKLINE_CACHE/deps with the go command (host network: run before entering the lab). They are real Go module
# zips, laid out as the module proxy serves them (<module>/@v/<version>.zip); the lab's file server serves that tree
# at http://10.123.0.1:8081/deps/. A module zip's bytes never change once published, so the lockfile's sha256 are
# checked here too: a mismatch fails now, with the file named, rather than in a buildpack deep in a test.
# Prints the directory on stdout.
set -euo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
cache_lock deps

lock="${1:-$REPO_ROOT/test/e2e/fixture-deps-app/packline-deps.lock}"
out="$CACHE/deps"
mkdir -p "$out"
while read -r sha url _rest; do
  case "$sha" in '' | '#'*) continue ;; esac
  path="${url#*/deps/}"                         # golang.org/x/sys/@v/v0.33.0.zip
  [ "$path" != "$url" ] && [[ "$path" == */@v/*.zip ]] || die "$lock: $url is not .../deps/<module>/@v/<version>.zip"
  file="$out/$path"
  if [ ! -f "$file" ] || [ "$(sha256sum "$file" | cut -c1-64)" != "$sha" ]; then
    # the proxy's escaping of capitals ("!x" for "X") undone for the go command
    module="$(printf '%s' "${path%%/@v/*}" | sed 's/!\([a-z]\)/\U\1/g')"
    version="$(basename "$path" .zip)"
    zip="$(cd / && GOFLAGS=-mod=mod go_retry mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Zip": "\(.*\)",*$/\1/p')"
    [ -f "$zip" ] || die "go mod download $module@$version gave no zip"
    mkdir -p "$(dirname "$file")"
    cp "$zip" "$file.tmp" && mv "$file.tmp" "$file"
  fi
  got="$(sha256sum "$file" | cut -c1-64)"
  [ "$got" = "$sha" ] || die "$path: $lock says sha256 $sha, the module proxy's zip is $got"
done < "$lock"
log "deps: $(find "$out" -name '*.zip' | wc -l) archives in $out ($(du -sh "$out" | cut -f1))"
echo "$out"
