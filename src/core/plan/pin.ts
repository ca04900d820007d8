/**
 * Pinned inputs: the builder and the run image by digest, and the lifecycle's version, resolved once per run.
 *
 * A builder such as `paketobuildpacks/builder-jammy-base` is a tag that moves every week. The check step (the first
 * container of every backend) resolves it, beside its lookup of the version: `crane digest` of the builder, its
 * config's `io.buildpacks.builder.metadata` for the lifecycle's version and (without --run-image) its run image, and
 * `crane digest` of the run image. They are late values of the plan (`builder-digest`, `run-image`,
 * `lifecycle-version`) that the build runs with and the release writes into the image's labels.
 *
 * - Dagger, and the plan's steps anywhere a step's image is named when it starts: the build runs `builder@digest`.
 * - A Kubernetes pod names its images when it is made, before its check container has run: the build container names
 *   the builder's tag, pulled every time (`imagePullPolicy: Always`), and the release checks that the tag still
 *   names the digest the check pinned; the pull happened between the two, so the build ran that image (unless the tag
 *   moved away and back within the build).
 * - The run image reaches the lifecycle as `CNB_RUN_IMAGE=name[:tag]@sha256:...` on every executor.
 *
 * What the release check compares stays what the user asked for (the build-inputs digest of the builder's and run
 * image's names, scripts.ts): a retry of a published version finds it and builds nothing, whatever the tag names now,
 * so a version never gets a second image; the image's labels say which digests made it.
 */

import { CRANE } from "../images.js";
import type { BuildOptions } from "../options/validate.js";
import { OUT } from "./constants.js";
import { late } from "./text.js";
import type { EnvVar, Label, Late, PlanText, StepOutput } from "./types.js";

/** The labels that record what made the image. */
export const PIN_LABELS = {
  builder: "io.packline.builder",
  runImage: "io.packline.run-image",
  lifecycle: "io.packline.lifecycle.version",
} as const;

/** The check's exit code when the builder or the run image is not in its registry (a retry cannot fix it). */
export const PIN_EXIT = { missing: 6 } as const;

/** The files the check writes its pins to, named after their late values (a cluster pod's preludes read them). */
const PINNED: readonly Late[] = ["builder-digest", "run-image", "lifecycle-version"];

/** The check's outputs that hold the pins, for the later steps. */
export function pinOutputs(): StepOutput[] {
  return PINNED.map((name) => ({ name, path: `${OUT.dir}/${name}`, late: name }));
}

/** The builder by digest (as given, when it is given by digest: the check still resolves it, to fail early). */
export function pinnedBuilder(options: BuildOptions): PlanText {
  return options.builder.digest !== undefined ? [options.builder.text] : [`${options.builder.text}@`, late("builder-digest")];
}

/** The labels of a pinned build: the builder and run image by digest, the lifecycle's version. */
export function pinLabels(options: BuildOptions): Label[] {
  return [
    { key: PIN_LABELS.builder, value: pinnedBuilder(options) },
    { key: PIN_LABELS.runImage, value: [late("run-image")] },
    { key: PIN_LABELS.lifecycle, value: [late("lifecycle-version")] },
  ];
}

/**
 * The check's env for the pin: the builder and the run image as named (`reach`: as the steps reach them), and the
 * registries to talk to over plain HTTP.
 */
export function pinEnv(reach: BuildOptions): EnvVar[] {
  return [
    { name: "PACKLINE_BUILDER", value: [reach.builder.text] },
    ...(reach.runImage ? [{ name: "PACKLINE_RUN_IMAGE", value: [reach.runImage.text] }] : []),
    ...insecureEnv(reach),
  ];
}

/** No empty values: some platforms drop an env var whose value is empty. */
function insecureEnv(reach: BuildOptions): EnvVar[] {
  return reach.insecureRegistries.length > 0 ? [{ name: "PACKLINE_PIN_INSECURE", value: [reach.insecureRegistries.join(" ")] }] : [];
}

/**
 * What the release checks again before it tags (a cluster pod ran these by tag): `builder`, and `run-image` for the
 * article's pack, which resolves the run image itself. Nothing on an executor that ran both by digest.
 */
export function recheckEnv(reach: BuildOptions): EnvVar[] {
  if (reach.runsOn !== "cluster") return [];
  const what = [...(reach.builder.digest === undefined ? ["builder"] : []), ...(reach.executor === "pack" ? ["run-image"] : [])];
  if (what.length === 0) return [];
  return [
    { name: "PACKLINE_RECHECK", value: [what.join(" ")] },
    { name: "PACKLINE_BUILDER", value: [reach.builder.text] },
    { name: "PACKLINE_BUILDER_DIGEST", value: [late("builder-digest")] },
    { name: "PACKLINE_RUN_IMAGE_PINNED", value: [late("run-image")] },
    ...insecureEnv(reach),
  ];
}

/** Shell functions the pin and the recheck share (after scripts.ts's prelude: `crane`, `set -eu`). */
const PIN_FUNCTIONS = `# The --insecure flag for a reference's registry, if it is one of PACKLINE_PIN_INSECURE.
pin_flags() {
  pin_registry=\${1%%/*}
  case "$1" in */*) ;; *) pin_registry=docker.io ;; esac
  case "$pin_registry" in *.*|*:*|localhost) ;; *) pin_registry=docker.io ;; esac
  case " \${PACKLINE_PIN_INSECURE:-} " in *" $pin_registry "*) echo --insecure ;; esac
}
# pin_read <what> <reference> <digest|config>: crane's answer on stdout; else why not, and an exit code.
pin_read() {
  pin_flag=$(pin_flags "$2")
  # shellcheck disable=SC2086 # the flag is one word or none
  if crane "$3" $pin_flag "$2" 2> ${OUT.dir}/pin-"$3".error; then return 0; fi
  if grep -Eq 'MANIFEST_UNKNOWN|NAME_UNKNOWN|manifest unknown|name unknown|404 Not Found' ${OUT.dir}/pin-"$3".error; then
    echo "packline: $1 $2 is not in its registry: check its name and tag." >&2
    exit ${PIN_EXIT.missing}
  fi
  if grep -Eq 'UNAUTHORIZED|DENIED|401 Unauthorized|403 Forbidden|authentication required|unauthorized' ${OUT.dir}/pin-"$3".error; then
    echo "packline: the registry of $1 $2 refused to serve it: packline reads builders and run images without credentials; use a public one, or one in --image's registry." >&2
    exit 3
  fi
  echo "packline: could not look up $1 $2 (a retry may help):" >&2
  cat ${OUT.dir}/pin-"$3".error >&2
  exit 1
}
`;

/**
 * The pin, started in the background at the top of the check (it needs nothing the lookup finds); \`pinned\` waits for
 * it where the check goes on to a build, \`pinned_anyway\` where it does not (a published version: the files exist,
 * maybe empty, for a cluster pod's preludes, and the pin's failure does not matter).
 */
export const PIN_START = `${PIN_FUNCTIONS}pin() {
  builder_digest=$(pin_read --builder "$PACKLINE_BUILDER" digest) || exit
  case "$PACKLINE_BUILDER" in *@*) pinned_builder=$PACKLINE_BUILDER ;; *) pinned_builder="$PACKLINE_BUILDER@$builder_digest" ;; esac
  builder_config=$(pin_read --builder "$pinned_builder" config) || exit
  # io.buildpacks.builder.metadata is JSON inside a JSON string: its quotes are written \\".
  lifecycle_version=$(printf '%s' "$builder_config" | grep -o '\\\\"lifecycle\\\\":{\\\\"version\\\\":\\\\"[^\\\\]*' | head -n 1 | sed 's/.*"//')
  if [ -n "\${PACKLINE_RUN_IMAGE:-}" ]; then
    run_image=$PACKLINE_RUN_IMAGE
    what=--run-image
  else
    run_image=$(printf '%s' "$builder_config" | grep -o '\\\\"images\\\\":\\[{\\\\"image\\\\":\\\\"[^\\\\]*' | head -n 1 | sed 's/.*"//')
    if [ -z "$run_image" ]; then
      run_image=$(printf '%s' "$builder_config" | grep -o '\\\\"runImage\\\\":{\\\\"image\\\\":\\\\"[^\\\\]*' | head -n 1 | sed 's/.*"//')
    fi
    if [ -z "$run_image" ]; then
      echo "packline: --builder $PACKLINE_BUILDER names no run image (its io.buildpacks.builder.metadata label has none): it is not a Cloud Native Buildpacks builder; use one, or give --run-image." >&2
      exit ${PIN_EXIT.missing}
    fi
    what="the run image of --builder"
  fi
  run_digest=$(pin_read "$what" "$run_image" digest) || exit
  case "$run_image" in *@*) pinned_run_image=$run_image ;; *) pinned_run_image="$run_image@$run_digest" ;; esac
  printf '%s' "$builder_digest" > ${OUT.dir}/builder-digest
  printf '%s' "$pinned_run_image" > ${OUT.dir}/run-image
  printf '%s' "\${lifecycle_version:-unknown}" > ${OUT.dir}/lifecycle-version
  echo "packline: pinned the builder to $pinned_builder and the run image to $pinned_run_image (lifecycle \${lifecycle_version:-unknown})"
}
pin > ${OUT.dir}/pin.log 2>&1 &
pin_pid=$!
pinned() {
  pin_rc=0
  wait "$pin_pid" || pin_rc=$?
  if [ "$pin_rc" != 0 ]; then cat ${OUT.dir}/pin.log >&2; exit "$pin_rc"; fi
  cat ${OUT.dir}/pin.log
}
pinned_anyway() {
  wait "$pin_pid" || true
  for f in ${PINNED.join(" ")}; do [ -f ${OUT.dir}/"$f" ] || : > ${OUT.dir}/"$f"; done
}
`;

/**
 * The release's second look (where the pod ran the builder by tag): started beside its reads, its word taken after
 * them (\`rechecked\`), before anything is tagged.
 */
export const RECHECK_START = `${PIN_FUNCTIONS}recheck() {
  for what in $PACKLINE_RECHECK; do
    if [ "$what" = builder ]; then
      name=$PACKLINE_BUILDER
      was=$PACKLINE_BUILDER_DIGEST
    else
      name=\${PACKLINE_RUN_IMAGE_PINNED%@*}
      was=\${PACKLINE_RUN_IMAGE_PINNED##*@}
    fi
    now=$(pin_read "the $what" "$name" digest) || return
    if [ "$now" != "$was" ]; then
      echo "packline: $name moved from $was to $now while this build ran, so which of them built the image is not known: nothing was tagged; submit the build again." >&2
      return 4
    fi
  done
}
if [ -n "\${PACKLINE_RECHECK:-}" ]; then
  recheck_rc=0
  recheck > ${OUT.dir}/recheck.log 2>&1 || recheck_rc=$?
  echo "$recheck_rc" > ${OUT.dir}/recheck.status
fi &
`;

/** After the release's reads: the recheck's failure is the release's. */
export const RECHECKED = `if [ -n "\${PACKLINE_RECHECK:-}" ] && [ "$(cat ${OUT.dir}/recheck.status)" != 0 ]; then
  cat ${OUT.dir}/recheck.log >&2
  exit "$(cat ${OUT.dir}/recheck.status)"
fi
`;

/**
 * The pin alone, as a script of its own for the check step's image and env (what the check runs first): for a tool or
 * test that runs the build step without a check.
 */
export const PIN_SCRIPT = `set -eu
export LC_ALL=C
crane() { ${CRANE.bin} "$@"; }
mkdir -p ${OUT.dir}
${PIN_START}pinned
`;
