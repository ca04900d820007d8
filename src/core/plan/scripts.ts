/**
 * The POSIX sh scripts of the check and release steps (run by the crane image's busybox sh, in every backend).
 * They read every value from environment variables, never from their own text, so no user value is ever parsed as
 * shell code or as an Argo template. Exit codes: 0 done; 1 a failure a retry may fix (network, registry errors);
 * 3 the registry refused the credentials; 4 the version's tag holds another revision or other build options, or
 * another build took it meanwhile (nothing was tagged); 5 the build reported no digest (or its image no creation time).
 *
 * Two builds of one version at once (README, "Two builds of one version"): a registry has no "create this tag only
 * if absent", and with plain reads and writes no protocol can make exactly one of two writers win without waiting. So
 * the check, finding the version free, writes a claim: the tag `packline-claim-<version>` on a tiny image labelled
 * with this run's id and the time. The release writes the version tag only if the claim is still this run's, at
 * least CLAIM_SECONDS after it was written. A build that claims later takes the claim over, and the earlier one
 * refuses to tag; a later claim that comes after the earlier release read the claim is at least CLAIM_SECONDS older
 * than its own release, by which time the earlier release has written the version tag (after its read of the claim
 * comes one `crane mutate`: a few requests), so the later one finds it and refuses. The wait is the build itself:
 * the check runs beside the build where the backend allows it (types.ts, Overlap), and the release sleeps only what
 * is left of CLAIM_SECONDS, which is nothing unless the build took less.
 *
 * What the release costs, in registry round trips on the critical path: one wave of three reads at once (the version
 * tag, the claim, the staged image's config: `read_config ... &`), one `crane mutate` (labels, created and the version
 * tag in one manifest), one wave of `crane tag` for the other tags at once. Reading before writing is what keeps a
 * released version from being overwritten; the claim is what makes one of two builds win.
 */
import { CRANE } from "../images.js";
import { OUT } from "./constants.js";
import { PIN_START, RECHECK_START, RECHECKED } from "./pin.js";

/** The label that says which build options made an image (a digest of them: planner.ts, buildInputsOf). */
export const BUILD_INPUTS_LABEL = "io.packline.build-inputs";

export const EXIT = { transient: 1, credentials: 3, refused: 4, noDigest: 5 } as const;

export { OUT };

/**
 * Seconds a claim stands before its release may write the version tag (the wait a registry without compare-and-swap
 * needs; it runs while the build does). It must exceed the time between a release's read of its claim and its write
 * of the version tag: one crane mutate.
 */
export const CLAIM_SECONDS = 2;

/** The labels of a claim image: the run that holds it, and when (unix seconds) it was written. */
export const CLAIM_LABELS = { run: "io.packline.claim", at: "io.packline.claimed-at" } as const;

/** What every registry step starts with: crane, the version and claim references, lookups, the claim (also the rebase's: rebase-scripts.ts). */
export const PRELUDE = `set -eu
export LC_ALL=C
crane() { ${CRANE.bin} "$@"; }
flags=""
if [ "$PACKLINE_INSECURE" = true ]; then flags="--insecure"; fi
mkdir -p ${OUT.dir}
ref="$PACKLINE_IMAGE:$PACKLINE_VERSION"
# The version's claim tag (a tag is at most 128 characters: a long version is named by its digest).
if [ \${#PACKLINE_VERSION} -le 100 ]; then
  claim_ref="$PACKLINE_IMAGE:packline-claim-$PACKLINE_VERSION"
else
  claim_ref="$PACKLINE_IMAGE:packline-claim-$(printf '%s' "$PACKLINE_VERSION" | sha256sum | cut -c 1-32)"
fi
# The first value of a JSON string field (crane prints configs on one line; the top-level fields come first).
field() { grep -o "\\"$1\\":\\"[^\\"]*\\"" | head -n 1 | cut -d '"' -f 4; }
# Reads the version tag's config into $config: returns 0 when the tag exists, 1 when the registry has no such tag;
# exits on refused credentials (3) and on any other failure (1, a retry may fix it), so an error is never taken for
# "absent".
lookup() {
  lookup_of "$ref"
}
# The same for any reference (the claim's).
lookup_of() {
  read_config lookup "$1"
  looked_up lookup "$1"
}
# Reads a reference's config into files named <name>.*; several run at once with "&" and "wait" (a request each,
# in flight together rather than one after another). Never fails: looked_up <name> <reference> reads the outcome.
read_config() {
  if crane config $flags "$2" > ${OUT.dir}/"$1".config 2> ${OUT.dir}/"$1".error; then echo 0; else echo 1; fi > ${OUT.dir}/"$1".status
}
# What lookup_of gives, from what read_config <name> <reference> wrote.
looked_up() {
  config=$(cat ${OUT.dir}/"$1".config)
  if [ "$(cat ${OUT.dir}/"$1".status)" = 0 ]; then return 0; fi
  if grep -Eq 'MANIFEST_UNKNOWN|NAME_UNKNOWN|manifest unknown|name unknown|404 Not Found' ${OUT.dir}/"$1".error; then return 1; fi
  if grep -Eq 'UNAUTHORIZED|DENIED|401 Unauthorized|403 Forbidden|authentication required|unauthorized' ${OUT.dir}/"$1".error; then
    echo "packline: registry $PACKLINE_REGISTRY refused the credentials for $PACKLINE_IMAGE: check the registry user and password (or the registry secret), and that the account may push there." >&2
    cat ${OUT.dir}/"$1".error >&2
    exit ${EXIT.credentials}
  fi
  echo "packline: could not look up $2 in registry $PACKLINE_REGISTRY (a retry may help):" >&2
  cat ${OUT.dir}/"$1".error >&2
  exit ${EXIT.transient}
}
# Claims the version for this run (see the top of scripts.ts): the claim tag on a one-file image labelled with the run
# and the time, in one crane call: the image is made here as a docker-style tarball (manifest.json, its config, the
# layer; crane works out the digests and pushes it), not appended and then relabelled (two calls, twice the requests).
claim() {
  case "$PACKLINE_RUN_ID" in "" | *[!A-Za-z0-9._-]*)
    echo "packline: internal: the run id is not letters, digits, '.', '_' and '-' only." >&2
    exit ${EXIT.transient} ;;
  esac
  mkdir -p ${OUT.dir}/claim-image
  printf '%s\n' "$PACKLINE_RUN_ID" > ${OUT.dir}/claim
  (cd ${OUT.dir} && tar -cf claim-image/layer.tar claim)
  layer=$(sha256sum ${OUT.dir}/claim-image/layer.tar | cut -d ' ' -f 1)
  printf '{"architecture":"","os":"","config":{"Labels":{"${CLAIM_LABELS.run}":"%s","${CLAIM_LABELS.at}":"%s"}},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$PACKLINE_RUN_ID" "$(date +%s)" "$layer" > ${OUT.dir}/claim-image/config.json
  printf '[{"Config":"config.json","RepoTags":null,"Layers":["layer.tar"]}]' > ${OUT.dir}/claim-image/manifest.json
  (cd ${OUT.dir}/claim-image && tar -cf ../claim-image.tar manifest.json config.json layer.tar)
  crane push $flags ${OUT.dir}/claim-image.tar "$claim_ref" > /dev/null
}
# The options that decide the image, in words (what io.packline.build-inputs is a digest of: planner.ts, buildInputsOf).
OPTIONS_IN_WORDS="builder, run image, env, buildpacks, creation time, executor or Platform API"
`;

/** Looks up the version's tag: unpublished, published from this revision (nothing to do), or refused. */
export const CHECK_SCRIPT = `${PRELUDE}${PIN_START}if ! lookup; then
  pinned
  claim
  echo unpublished > ${OUT.outcome}
  echo "packline: $ref is not published yet"
  exit 0
fi
digest=$(crane digest $flags "$ref")
revision=$(printf '%s' "$config" | field org.opencontainers.image.revision)
inputs=$(printf '%s' "$config" | field ${BUILD_INPUTS_LABEL})
if [ "$revision" = "$PACKLINE_REVISION" ] && [ "$inputs" = "$PACKLINE_BUILD_INPUTS" ]; then
  pinned_anyway
  echo published > ${OUT.outcome}
  printf '%s' "$digest" > ${OUT.digest}
  echo "packline: $ref is already published from revision $revision with the same build options ($digest): nothing to build."
  exit 0
fi
if [ "$PACKLINE_ALLOW_OVERWRITE" = true ]; then
  pinned
  claim
  echo unpublished > ${OUT.outcome}
  echo "packline: $ref holds $digest (revision \${revision:-unknown}); it will be replaced."
  exit 0
fi
if [ "$revision" = "$PACKLINE_REVISION" ]; then
  echo "packline: $ref is already published ($digest) from this revision ($revision) but with other build options ($OPTIONS_IN_WORDS): a released version is never overwritten; publish a new version, or pass --allow-overwrite." >&2
else
  echo "packline: $ref is already published ($digest, revision \${revision:-unknown}) and this build is from revision $PACKLINE_REVISION: a released version is never overwritten; publish a new version, or pass --allow-overwrite." >&2
fi
exit ${EXIT.refused}
`;

/**
 * Labels the staged image, and if this run still holds the version's claim, points the version tag at it, then moves
 * the other tags. \`labels\`: the env var name of each label's value, by label key.
 */
export function releaseScript(labels: readonly { key: string; env: string }[]): string {
  const labelArgs = labels.map((l) => `--label "${l.key}=$${l.env}"`).join(" ");
  return `${PRELUDE}staged=$(printf '%s\\n' "$PACKLINE_BUILD_REPORT" | sed -n 's/^[[:space:]]*digest[[:space:]]*=[[:space:]]*"\\(sha256:[0-9a-f]\\{64\\}\\)".*/\\1/p' | head -n 1)
if [ -z "$staged" ]; then
  echo "packline: the build's report.toml has no image digest: nothing was published." >&2
  exit ${EXIT.noDigest}
fi
# The check found the tag absent (or --allow-overwrite): a tag there now was written by another build meanwhile. The
# same revision and options is a retry of this build, or its twin: tagging again gives the same image.
free() {
  if looked_up version "$ref"; then
    revision=$(printf '%s' "$config" | field org.opencontainers.image.revision)
    inputs=$(printf '%s' "$config" | field ${BUILD_INPUTS_LABEL})
    if [ "$PACKLINE_ALLOW_OVERWRITE" != true ]; then
      if [ "$revision" != "$PACKLINE_REVISION" ]; then
        echo "packline: $ref was published by another build (revision \${revision:-unknown}) while this one ran: nothing was tagged; publish a new version, or pass --allow-overwrite." >&2
        exit ${EXIT.refused}
      fi
      if [ "$inputs" != "$PACKLINE_BUILD_INPUTS" ]; then
        echo "packline: $ref was published by another build of this revision with other build options ($OPTIONS_IN_WORDS) while this one ran: nothing was tagged; publish a new version, or pass --allow-overwrite." >&2
        exit ${EXIT.refused}
      fi
    fi
  fi
}
# The claim: still this run's, CLAIM_SECONDS after it was written (a wait only if the build took less).
lost() {
  # Its twin (the same revision and build options) may have published the version already: the same image.
  if lookup && [ "$(printf '%s' "$config" | field org.opencontainers.image.revision)" = "$PACKLINE_REVISION" ] &&
    [ "$(printf '%s' "$config" | field ${BUILD_INPUTS_LABEL})" = "$PACKLINE_BUILD_INPUTS" ]; then
    crane digest $flags "$ref" > ${OUT.digest}
    echo "packline: $ref was published meanwhile by another build of this revision with the same build options: $(cat ${OUT.digest})"
    exit 0
  fi
  echo "packline: another build published $ref at the same time, or is publishing it (it claimed the version after this build did): this build's image holds no tag; publish a new version, or pass --allow-overwrite." >&2
  exit ${EXIT.refused}
}
held() {
  if ! looked_up claim "$claim_ref"; then
    echo "packline: the claim $claim_ref that this build's check wrote is gone: nothing was tagged; run the build again." >&2
    exit ${EXIT.refused}
  fi
  [ "$(printf '%s' "$config" | field ${CLAIM_LABELS.run})" = "$PACKLINE_RUN_ID" ]
}
# The version tag, the claim and the staged image's config, read at once.
read_config version "$ref" &
read_config claim "$claim_ref" &
read_config staged "$PACKLINE_IMAGE@$staged" &
${RECHECK_START}wait
${RECHECKED}free
held || lost
claimed_at=$(printf '%s' "$config" | field ${CLAIM_LABELS.at})
left=$((\${claimed_at:-0} + PACKLINE_CLAIM_SECONDS - $(date +%s)))
if [ "$left" -gt 0 ]; then
  sleep "$left"
  read_config version "$ref" &
  read_config claim "$claim_ref" &
  wait
  free
  held || lost
fi
looked_up staged "$PACKLINE_IMAGE@$staged" || { echo "packline: the built image $PACKLINE_IMAGE@$staged is not in the registry: nothing was tagged; run the build again." >&2; exit ${EXIT.transient}; }
created=$(printf '%s' "$config" | field created)
if [ -z "$created" ]; then
  echo "packline: the built image $PACKLINE_IMAGE@$staged has no creation time in its config." >&2
  exit ${EXIT.noDigest}
fi
pushed=$(crane mutate $flags "$PACKLINE_IMAGE@$staged" --label "org.opencontainers.image.created=$created" ${labelArgs} --tag "$ref")
final="\${pushed##*@}"
case "$final" in sha256:*) ;; *) echo "packline: crane mutate printed no digest: $pushed" >&2; exit ${EXIT.transient} ;; esac
# The other tags at once (crane tags one reference a call): a request pair each, in flight together.
moving=""
for tag in $PACKLINE_TAGS; do
  if [ "$tag" != "$PACKLINE_VERSION" ]; then
    crane tag $flags "$PACKLINE_IMAGE@$final" "$tag" 2> "${OUT.dir}/tag-$tag.error" &
    moving="$moving $!:$tag"
  fi
done
for job in $moving; do
  if ! wait "\${job%%:*}"; then
    echo "packline: $ref is published ($final), but tag \${job#*:} could not be moved (a retry may help):" >&2
    cat "${OUT.dir}/tag-\${job#*:}.error" >&2
    exit ${EXIT.transient}
  fi
done
printf '%s' "$final" > ${OUT.digest}
echo "packline: published $PACKLINE_IMAGE@$final as $PACKLINE_TAGS"
`;
}
