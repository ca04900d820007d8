#!/usr/bin/env bash
# Extracts api/jsonschema/schema.json and LICENSE of Argo Workflows v4.0.5 from its Go module (the module proxy, or
# the local module cache) into this directory, and checks schema.json's sha256 against README.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
go_cmd="$(command -v go || echo /usr/local/go/bin/go)"
module=github.com/argoproj/argo-workflows/v4@v4.0.5
zip="$(cd "$here" && GOFLAGS=-mod=mod "$go_cmd" mod download -json "$module" | sed -n 's/^[[:space:]]*"Zip": "\(.*\)",$/\1/p')"
[ -f "$zip" ] || { echo "update.sh: could not download $module" >&2; exit 1; }
unzip -p "$zip" "$module/api/jsonschema/schema.json" > "$here/schema.json"
unzip -p "$zip" "$module/LICENSE" > "$here/LICENSE"
want="$(grep -o '[0-9a-f]\{64\}' "$here/README.md" | head -n 1)"
got="$(sha256sum "$here/schema.json" | cut -d' ' -f1)"
[ "$want" = "$got" ] || { echo "update.sh: schema.json is $got, README.md says $want" >&2; exit 1; }
echo "update.sh: schema.json and LICENSE from $module ($got)"
