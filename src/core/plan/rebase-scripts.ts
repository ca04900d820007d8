/**
 * The POSIX sh scripts of a rebase (README, "Rebase"): the check and the release run in the crane image's busybox sh,
 * the rebaser's wrapper in the builder image's /bin/sh. Like the build's (scripts.ts, whose prelude they share: the
 * lookups and the claim), they read every value from the environment, never from their own text.
 *
 * The release never trusts the rebaser: it reads the image the version holds, the staged image and the run image, and
 * compares them field by field before any tag moves. The crane image has no JSON tool, so JSON_PATHS below (awk)
 * turns a JSON document into one `path<TAB>value` line per leaf (`."config"."Labels"."a.b"<TAB>"x"`, values as
 * written), and the comparisons are comparisons of those lines.
 *
 * Exit codes: those of scripts.ts (0 done, 1 a retry may help, 3 credentials refused, 4 refused: nothing was
 * tagged), and 6 when the rebased image fails the verification (nothing was tagged).
 */
import { CRANE } from "../images.js";
import { PATHS } from "./constants.js";
import { BUILD_INPUTS_LABEL, CLAIM_LABELS, EXIT, OUT, PRELUDE } from "./scripts.js";

/** A literal for grep -E. */
const ere = (literal: string) => literal.replace(/[.]/g, "\\.");

/** Labels a rebase writes (README, "Rebase: what it records"). */
export const REBASE_LABELS = { from: "io.packline.rebased-from", runImage: "io.packline.run-image", rebasable: "io.packline.rebasable" } as const;

export const REBASE_EXIT = { ...EXIT, unverified: 6 } as const;

/** Where the rebase steps write what the result reads: the outcome, the digest, the tags moved. */
export const REBASE_OUT = { outcome: OUT.outcome, digest: OUT.digest, moved: `${OUT.dir}/moved` } as const;

/** The rebaser's log, beside its report (the wrapper reads it to explain a failure). */
const REBASER_LOG = `${PATHS.layers}/rebaser.log`;

/**
 * A JSON document on stdin -> one line per leaf: its path, a tab, its value as written (strings keep their quotes
 * and escapes; an empty object or array is `{}` or `[]`). Exit 2 on text that is not JSON. (busybox awk: no `'`.)
 */
export const JSON_PATHS = String.raw`function fail(m) { printf "not JSON: %s at character %d\n", m, pos > "/dev/stderr"; bad = 1; exit 2 }
function ws() { while (pos <= n && index(" \t\r\n", ch[pos])) pos++ }
function str(   start) {
  start = pos; pos++
  while (pos <= n) {
    if (ch[pos] == "\\") pos += 2
    else if (ch[pos] == "\"") { pos++; return substr(s, start, pos - start) }
    else pos++
  }
  fail("unterminated string")
}
function val(path,   c, k, i, start, shut) {
  ws(); c = ch[pos]
  if (c == "{" || c == "[") {
    shut = (c == "{") ? "}" : "]"
    pos++; ws()
    if (ch[pos] == shut) { pos++; print path "\t" c shut; return }
    for (i = 0; ; i++) {
      if (c == "{") { ws(); if (ch[pos] != "\"") fail("key expected"); k = str(); ws(); if (ch[pos] != ":") fail("colon expected"); pos++; val(path "." k) }
      else val(path "[" i "]")
      ws(); k = ch[pos]; pos++
      if (k == shut) return
      if (k != ",") fail("comma expected")
    }
  }
  if (c == "\"") { print path "\t" str(); return }
  start = pos
  while (pos <= n && !index(",]} \t\r\n", ch[pos])) pos++
  if (pos == start) fail("value expected")
  print path "\t" substr(s, start, pos - start)
}
{ s = s $0 "\n" }
END { if (bad) exit 2; n = split(s, ch, ""); pos = 1; val(""); ws(); if (pos <= n) fail("text after the document") }`;

/**
 * A JSON string token on stdin -> its text (`"{\"a\":1}"` -> `{"a":1}`): enough to read a label that holds JSON
 * (the lifecycle's metadata) or a plain value. Only `\\`, `\"` and `\/` are decoded; other escapes stay as written,
 * which is still the same JSON for what the comparisons read. (busybox awk: no `'`.)
 */
export const JSON_STRING = String.raw`{ s = s $0 }
END {
  if (s !~ /^".*"$/) exit 2
  s = substr(s, 2, length(s) - 2)
  gsub(/\\\\/, "\001", s); gsub(/\\"/, "\"", s); gsub(/\\\//, "/", s); gsub(/\001/, "\\", s)
  printf "%s", s
}`;

/** Shell helpers the check and the release share, after the build's prelude. */
const REBASE_PRELUDE = `# shellcheck disable=SC2034 # the build's prelude (scripts.ts) defines more than a rebase uses
${PRELUDE}# shellcheck disable=SC2016 # awk programs, in single quotes for awk
JSON_PATHS='${JSON_PATHS}'
# shellcheck disable=SC2016
JSON_STRING='${JSON_STRING}'
# paths FILE: the JSON document in FILE as path<TAB>value lines, into FILE.paths.
paths() { awk "$JSON_PATHS" "$1" > "$1.paths"; }
# value PATHS-FILE PATH: the value at PATH as written ("" when absent).
# shellcheck disable=SC2016 # an awk program
value() { awk -F '\t' -v p="$2" '$1 == p { print $2; exit }' "$1"; }
# text PATHS-FILE PATH: the string at PATH, decoded.
text() { value "$1" "$2" | awk "$JSON_STRING"; }
# label PATHS-FILE KEY: an image config's label, decoded.
label() { text "$1" ".\\"config\\".\\"Labels\\".\\"$2\\""; }
# The crane flags for a reference: --insecure when its registry is one the plan names as insecure.
flags_for() {
  case " $PACKLINE_INSECURE_REGISTRIES " in *" \${1%%/*} "*) echo --insecure ;; *) echo "" ;; esac
}
# fetch KIND REF FILE: crane's KIND (config, manifest, digest) of REF into FILE; exits with the lookup's rules
# (scripts.ts: absent is 1 here, credentials 3, anything else a retry may fix), returns 1 when REF does not exist.
fetch() {
  # shellcheck disable=SC2046
  if crane "$1" $(flags_for "$2") "$2" > "$3" 2> "$3.error"; then return 0; fi
  if grep -Eq 'MANIFEST_UNKNOWN|NAME_UNKNOWN|manifest unknown|name unknown|404 Not Found' "$3.error"; then return 1; fi
  if grep -Eq 'UNAUTHORIZED|DENIED|401 Unauthorized|403 Forbidden|authentication required|unauthorized' "$3.error"; then
    echo "packline: the registry of $2 refused the credentials: check the registry user and password (or the registry secret), and that the account may read and push there." >&2
    cat "$3.error" >&2
    exit ${EXIT.credentials}
  fi
  echo "packline: could not read $2 (a retry may help):" >&2
  cat "$3.error" >&2
  exit ${EXIT.transient}
}
# refuse MESSAGE: a refusal; nothing was tagged.
refuse() { echo "packline: $1" >&2; exit ${EXIT.refused}; }
# The image's run-image metadata: its lifecycle metadata label as paths, into FILE.md.paths.
metadata() {
  label "$1.paths" io.buildpacks.lifecycle.metadata > "$1.md"
  [ -s "$1.md" ] && paths "$1.md"
}
# repo_of REFERENCE: its repository as the lifecycle writes one (go-containerregistry: Docker Hub as index.docker.io,
# library/ for official images), without tag or digest.
repo_of() {
  r=\${1%%@*}
  case \${r##*/} in *:*) r=\${r%:*} ;; esac
  case $r in
    */*) first=\${r%%/*} ;;
    *) first="" ;;
  esac
  case $first in
    *.* | *:* | localhost) ;;
    *) r="docker.io/$r" ;;
  esac
  case $r in docker.io/*) r="index.docker.io/\${r#docker.io/}" ;; esac
  case $r in index.docker.io/*/*) ;; index.docker.io/*) r="index.docker.io/library/\${r#index.docker.io/}" ;; esac
  echo "$r"
}
# The diff ids of an image config (paths file), one a line, in order.
diff_ids() { grep '^\\."rootfs"\\."diff_ids"\\[' "$1" | cut -f 2; }
# The layer digests of an image manifest (paths file), one a line, in order.
layer_digests() { grep '^\\."layers"\\[[0-9]*\\]\\."digest"'"$tab" "$1" | cut -f 2; }
d=${OUT.dir}
tab=$(printf '\t')
`;

/**
 * The check: the version must be published, built by packline, with buildpacks metadata, rebasable; its run image
 * must exist. Same top layer as the run image now: `current` (nothing to do, the existing digest is the result).
 * Otherwise it claims the version (scripts.ts) and says `rebase`.
 */
export const REBASE_CHECK_SCRIPT = `${REBASE_PRELUDE}if ! fetch config "$ref" $d/from.json; then
  refuse "$ref is not published: there is no version $PACKLINE_VERSION in $PACKLINE_IMAGE to rebase; give a published version (packline tags lists what a version publishes), or build it first."
fi
paths $d/from.json || refuse "$ref has a config that is not JSON: it is not an image packline built; rebuild the version instead."
if [ "$(label $d/from.json.paths org.opencontainers.image.version)" != "$PACKLINE_VERSION" ] || [ -z "$(label $d/from.json.paths ${BUILD_INPUTS_LABEL})" ]; then
  refuse "$ref was not built by packline (no ${BUILD_INPUTS_LABEL} label, or org.opencontainers.image.version is not $PACKLINE_VERSION): packline rebases only images it built; rebuild the version with packline build."
fi
metadata $d/from.json || refuse "$ref has no buildpacks metadata (io.buildpacks.lifecycle.metadata): it was not built with Cloud Native Buildpacks, and only such an image can be rebased; rebuild the version instead."
if [ "$(label $d/from.json.paths io.buildpacks.rebasable)" = false ] || [ "$(label $d/from.json.paths ${REBASE_LABELS.rebasable})" = false ]; then
  refuse "$ref is marked not rebasable (io.buildpacks.rebasable or ${REBASE_LABELS.rebasable} is false): its OS layers cannot be swapped safely; publish a new version built on the new run image."
fi
top=$(text $d/from.json.md.paths '."runImage"."topLayer"')
[ -n "$top" ] || refuse "$ref records no run image top layer in its buildpacks metadata: it cannot be rebased; rebuild the version instead."
run="$PACKLINE_RUN_IMAGE"
if [ -z "$run" ]; then
  run=$(text $d/from.json.md.paths '."runImage"."image"')
  [ -n "$run" ] || run=$(text $d/from.json.md.paths '."stack"."runImage"."image"')
  [ -n "$run" ] || refuse "$ref records no run image name: give the run image with --run-image."
  # The lifecycle records the builder's run image (run.toml) when a build's --run-image is not listed there, so the
  # name may not be the image the version stands on (runImage.reference): rebasing onto it would swap the OS.
  used=$(text $d/from.json.md.paths '."runImage"."reference"')
  if [ -n "$used" ]; then
    named=no
    for name in "$run" $(grep '^\\."runImage"\\."mirrors"\\[' $d/from.json.md.paths | cut -f 2 | sed 's/^"//; s/"$//'); do
      if [ "$(repo_of "$name")" = "$(repo_of "$used")" ]; then named=yes; fi
    done
    if [ "$named" = no ]; then
      refuse "$ref stands on $used, but its buildpacks metadata names the run image $run (the lifecycle records the builder's run image when the build's run image is not listed in the builder's run.toml): a rebase would swap in another OS, and the lifecycle refuses any other run image; rebuild the version with a builder whose run.toml lists its run image."
    fi
  fi
fi
if ! fetch config "$run" $d/run.json; then
  refuse "the run image $run does not exist: give a run image that does (--run-image), or check its name."
fi
paths $d/run.json || refuse "the run image $run has a config that is not JSON: give another run image."
run_top=$(diff_ids $d/run.json.paths | tail -n 1 | awk "$JSON_STRING")
fetch digest "$ref" $d/from.digest || refuse "$ref disappeared while it was checked: run the rebase again."
if [ "$run_top" = "$top" ]; then
  echo current > ${REBASE_OUT.outcome}
  cp $d/from.digest ${REBASE_OUT.digest}
  echo "packline: $ref ($(cat $d/from.digest)) already stands on the run image $run (top layer $top): nothing to rebase."
  exit 0
fi
claim
echo rebase > ${REBASE_OUT.outcome}
cp $d/from.digest ${REBASE_OUT.digest}
echo "packline: $ref ($(cat $d/from.digest)) stands on top layer $top; $run is now $run_top: rebasing."
`;

/**
 * The rebaser, as the builder's CNB user with umask 022 (as the creator: creator.ts), its output kept to explain a
 * refusal in packline's words (the lifecycle's own ends in "please provide -force", which packline never does).
 */
export const REBASER_SCRIPT = `umask 0022
{ /cnb/lifecycle/rebaser "$@" 2>&1; echo $? > ${REBASER_LOG}.code; } | tee ${REBASER_LOG}
code=$(cat ${REBASER_LOG}.code)
[ "$code" = 0 ] && exit 0
run="\${PACKLINE_RUN_IMAGE:-the run image it records}"
if grep -q 'not found in existing run image metadata' ${REBASER_LOG}; then
  echo "packline: $run is not the run image $PACKLINE_VERSION was built on (nor a mirror of it): a rebase swaps in a newer image of that same run image; omit --run-image, or give that name (a digest of it is fine)." >&2
elif grep -q 'unable to satisfy target os/arch constraints' ${REBASER_LOG}; then
  echo "packline: $run is for another OS, architecture or distribution than $PACKLINE_VERSION: give a run image of the same stack." >&2
elif grep -Eq 'incompatible stack|missing required mixin' ${REBASER_LOG}; then
  echo "packline: $run is of another stack than $PACKLINE_VERSION (or lacks its mixins): give a run image of the same stack." >&2
elif grep -q 'not marked as rebasable' ${REBASER_LOG}; then
  echo "packline: $PACKLINE_VERSION is marked not rebasable: publish a new version built on the new run image." >&2
else
  echo "packline: the lifecycle's rebaser failed (exit code $code); its output is above." >&2
  exit "$code"
fi
exit ${EXIT.refused}
`;

/**
 * The release: reads what the version holds now, the claim, the staged image and its run image; verifies the staged
 * image (README, "what a rebase may change"); writes the original creation time and the rebase labels into its
 * config; then, if the claim is still this run's and the version still holds the image the rebase started from,
 * points the version tag at it, and moves each floating tag that held that image too.
 */
export const REBASE_RELEASE_SCRIPT = `${REBASE_PRELUDE}staged=$(printf '%s\\n' "$PACKLINE_BUILD_REPORT" | sed -n 's/^[[:space:]]*digest[[:space:]]*=[[:space:]]*"\\(sha256:[0-9a-f]\\{64\\}\\)".*/\\1/p' | head -n 1)
[ -n "$staged" ] || { echo "packline: the rebaser's report.toml has no image digest: nothing was tagged." >&2; exit ${EXIT.noDigest}; }
# unverified MESSAGE: the staged image is not what a rebase may make; nothing is tagged.
unverified() { echo "packline: the rebased image $PACKLINE_IMAGE@$staged $1: nothing was tagged (the version keeps $from)." >&2; exit ${REBASE_EXIT.unverified}; }
# The claim: still this run's (the build's rule: scripts.ts), and the version tag still the image the rebase read.
held() {
  read_config claim "$claim_ref"
  fetch digest "$ref" $d/now.digest || refuse "$ref is gone while this rebase ran: nothing was tagged."
  if ! looked_up claim "$claim_ref"; then refuse "the claim $claim_ref that this rebase's check wrote is gone: nothing was tagged; run the rebase again."; fi
  [ "$(printf '%s' "$config" | field ${CLAIM_LABELS.run})" = "$PACKLINE_RUN_ID" ] ||
    refuse "another build or rebase of $ref ran at the same time (it claimed the version after this rebase did): nothing was tagged; run the rebase again."
  [ "$(cat $d/now.digest)" = "$from" ] ||
    refuse "$ref moved to $(cat $d/now.digest) while this rebase ran (from $from): nothing was tagged; run the rebase again."
}

# What the version holds now, and the staged image, read at once.
fetch digest "$ref" $d/from.digest || refuse "$ref is gone: nothing was tagged."
from=$(cat $d/from.digest)
fetch config "$PACKLINE_IMAGE@$from" $d/from.json & j1=$!
fetch manifest "$PACKLINE_IMAGE@$from" $d/from.manifest & j2=$!
fetch config "$PACKLINE_IMAGE@$staged" $d/staged.json & j3=$!
fetch manifest "$PACKLINE_IMAGE@$staged" $d/staged.manifest & j4=$!
for job in $j1 $j2 $j3 $j4; do
  # A lookup by digest that finds nothing is a registry not yet consistent: a retry may help (exit 1), like any error.
  wait "$job" || { code=$?; echo "packline: could not read $PACKLINE_IMAGE@$from or @$staged: nothing was tagged." >&2; exit "$code"; }
done
for f in from.json from.manifest staged.json staged.manifest; do
  paths $d/$f || unverified "has a $f that is not JSON"
done
metadata $d/from.json || refuse "$ref has no buildpacks metadata: nothing was tagged."
metadata $d/staged.json || unverified "has no buildpacks metadata"
top=$(text $d/from.json.md.paths '."runImage"."topLayer"')
new_top=$(text $d/staged.json.md.paths '."runImage"."topLayer"')
run=$(text $d/staged.json.md.paths '."runImage"."reference"')
case "$run" in *@sha256:*) ;; *) unverified "records no run image digest (runImage.reference is '$run')" ;; esac
if [ "$new_top" = "$top" ]; then
  printf '%s' "$from" > ${REBASE_OUT.digest}
  : > ${REBASE_OUT.moved}
  echo "packline: $ref ($from) already stands on the run image $run: nothing was tagged."
  exit 0
fi
fetch config "$run" $d/run.json || unverified "names a run image $run that does not exist"
fetch manifest "$run" $d/run.manifest || unverified "names a run image $run that does not exist"
if ! paths $d/run.json || ! paths $d/run.manifest; then unverified "names a run image $run whose config or manifest is not JSON"; fi

# The layers: the run image's, then the version's own above its old run image, the same blobs in the same order.
diff_ids $d/from.json.paths > $d/from.ids
layer_digests $d/from.manifest.paths > $d/from.layers
base=$(grep -n -F -x "\\"$top\\"" $d/from.ids | head -n 1 | cut -d : -f 1)
[ -n "$base" ] || refuse "$ref does not hold its own run image's top layer $top: nothing was tagged."
{ diff_ids $d/run.json.paths; tail -n "+$((base + 1))" $d/from.ids; } > $d/want.ids
{ layer_digests $d/run.manifest.paths; tail -n "+$((base + 1))" $d/from.layers; } > $d/want.layers
diff_ids $d/staged.json.paths > $d/staged.ids
layer_digests $d/staged.manifest.paths > $d/staged.layers
cmp -s $d/want.ids $d/staged.ids || unverified "has other layers than the run image $run's under the version's own (diff ids)"
cmp -s $d/want.layers $d/staged.layers || unverified "has other layer blobs than the run image $run's under the version's own"
[ "\\"$new_top\\"" = "$(diff_ids $d/run.json.paths | tail -n 1)" ] || unverified "records top layer $new_top, not the run image's"

# The config: the rebase labels and the original creation time written in, then every field compared.
crane mutate $flags "$PACKLINE_IMAGE@$staged" --label "${REBASE_LABELS.from}=$from" --label "${REBASE_LABELS.runImage}=$run" > $d/labelled.ref
labelled=$(cat $d/labelled.ref)
fetch config "$labelled" $d/labelled.json || refuse "could not read back $labelled: nothing was tagged; run the rebase again."
created=$(value $d/from.json.paths '."created"')
[ -n "$created" ] || refuse "$ref has no creation time in its config: nothing was tagged."
# The top-level "created" comes before the history's (crane writes the config's fields in that order); the comparison
# below proves it.
sed "s/\\"created\\":\\"[^\\"]*\\"/\\"created\\":$created/" $d/labelled.json > $d/final.json
paths $d/final.json || unverified "has a config that is not JSON once dated"
# Fields a rebase may change: the layers and history, the run image's labels and the lifecycle's run-image record.
may_change='^\\."(created|history|rootfs)"|^\\."config"\\."Labels"\\."(io\\.buildpacks\\.lifecycle\\.metadata|io\\.buildpacks\\.(base|stack)\\.[^"]*|${ere(REBASE_LABELS.from)}|${ere(REBASE_LABELS.runImage)})"'"$tab"
grep -Ev "$may_change" $d/from.json.paths > $d/from.fields
grep -Ev "$may_change" $d/final.json.paths > $d/final.fields
if ! cmp -s $d/from.fields $d/final.fields; then
  unverified "differs from $ref in its config: $(diff $d/from.fields $d/final.fields | grep '^[-+][^-+]' | head -n 3 | tr '\\n' ' ')"
fi
grep -Ev '^\\."runImage"\\."(topLayer|reference)"'"$tab" $d/from.json.md.paths > $d/from.md.fields
grep -Ev '^\\."runImage"\\."(topLayer|reference)"'"$tab" $d/staged.json.md.paths > $d/final.md.fields
cmp -s $d/from.md.fields $d/final.md.fields || unverified "differs from $ref in its buildpacks metadata beyond the run image"
[ "$(value $d/final.json.paths '."created"')" = "$created" ] || unverified "could not be given the creation time $created"
if [ "$(label $d/final.json.paths ${REBASE_LABELS.from})" != "$from" ] || [ "$(label $d/final.json.paths ${REBASE_LABELS.runImage})" != "$run" ]; then
  unverified "does not carry the labels ${REBASE_LABELS.from} and ${REBASE_LABELS.runImage}"
fi

# Written by digest (no tag yet), then the claim's wait and the last look, then the version tag.
crane edit config $flags "$labelled" < $d/final.json > $d/final.ref
final=$(sed -n 's/.*@\\(sha256:[0-9a-f]\\{64\\}\\)$/\\1/p' $d/final.ref)
[ -n "$final" ] || { echo "packline: crane edit config printed no digest: $(cat $d/final.ref)" >&2; exit ${EXIT.transient}; }
held
claimed_at=$(printf '%s' "$config" | field ${CLAIM_LABELS.at})
left=$((\${claimed_at:-0} + PACKLINE_CLAIM_SECONDS - $(date +%s)))
if [ "$left" -gt 0 ]; then sleep "$left"; held; fi
crane tag $flags "$PACKLINE_IMAGE@$final" "$PACKLINE_VERSION"
printf '%s' "$final" > ${REBASE_OUT.digest}
# The floating tags that held the version's old image move with it; the others stay (README, "Floating tags").
: > ${REBASE_OUT.moved}
for tag in $PACKLINE_FLOATING_TAGS; do
  if fetch digest "$PACKLINE_IMAGE:$tag" "$d/tag-$tag.digest" && [ "$(cat "$d/tag-$tag.digest")" = "$from" ]; then
    if ! crane tag $flags "$PACKLINE_IMAGE@$final" "$tag" 2> "$d/tag-$tag.error"; then
      echo "packline: $ref is rebased ($final), but tag $tag could not be moved (a retry may help):" >&2
      cat "$d/tag-$tag.error" >&2
      exit ${EXIT.transient}
    fi
    echo "$tag" >> ${REBASE_OUT.moved}
  fi
done
echo "packline: rebased $ref from $from onto $run: $PACKLINE_IMAGE@$final, tags $PACKLINE_VERSION $(tr '\\n' ' ' < ${REBASE_OUT.moved})"
`;

export const REBASER = { sh: "/bin/sh", log: REBASER_LOG } as const;
export { CRANE };
