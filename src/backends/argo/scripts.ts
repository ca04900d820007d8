/**
 * The small POSIX sh scripts of the cluster's own steps (the source, the builder's user). They read every
 * value from environment variables, never from their own text, so no user value is ever parsed as shell code or
 * as an Argo template.
 */
import { VERSION_CHECK } from "./version-script.js";

/**
 * The source container's exit codes: 1 a retry may fix (the network, the git server); a retry cannot fix a bad version
 * (2, version-script.ts), refused git credentials (3) or a ref that does not exist (4).
 */
export const SOURCE_EXIT = { transient: 1, credentials: 3, missingRef: 4 } as const;

/** Where the pod's containers write the late values they pass on (an emptyDir every container mounts). */
export const RESOLVE_OUT = "/tmp/packline";

const GIT_CREDENTIALS = `if [ -n "\${GIT_PASSWORD:-}" ]; then
  # shellcheck disable=SC2016 # git's credential helper expands them when it runs, not this shell
  git config --global credential.helper '!f() { echo "username=\${GIT_USERNAME:-git}"; echo "password=\${GIT_PASSWORD}"; }; f'
fi`;

/**
 * Where the source container mounts the build's volumes, and the folder in each that the build container mounts
 * (subPath): the checkout, the lifecycle's layers dir.
 */
export const CLONE = { mount: "/packline/source", dir: "app" } as const;
export const LAYERS = { mount: "/packline/layers", dir: "layers" } as const;

/**
 * The pod's first container: checks the version (a bad one fails before any other image is pulled), then clones the
 * ref like Dagger's git(url).ref(ref).tree({discardGitDir: true}): one shallow fetch, submodules included (shallowly),
 * the top-level .git removed, and writes the commit and its time. One fetch gives the commit and the tree, so no ref
 * can move between the two. The lifecycle puts the modes of the app's folders into the image, so the tree must have
 * a checkout's modes, not the volume's: the checkout goes into a folder the script makes itself (0755), and the setgid
 * bit a volume with an fsGroup hands down to every folder made in it is taken off again.
 */
export const SOURCE_SCRIPT = `set -eu
export LC_ALL=C HOME=/tmp
out=${RESOLVE_OUT}
mkdir -p "$out"
${VERSION_CHECK}ref="\${PACKLINE_REF:-$PACKLINE_TAG}"
${GIT_CREDENTIALS}
dir="${CLONE.mount}/${CLONE.dir}"
rm -rf "$dir"
mkdir -m 0755 "$dir"
chmod 0755 "$dir"
cd "$dir"
git init -q
if ! git fetch -q --depth 1 -- "$PACKLINE_REPO" "$ref" 2> "$out/error"; then
  cat "$out/error" >&2
  if grep -Eqi 'authentication failed|could not read username|returned error: 40[13]' "$out/error"; then
    echo "packline: $PACKLINE_REPO refused the credentials: check the git secret's token." >&2
    exit ${SOURCE_EXIT.credentials}
  fi
  if grep -Eqi "couldn't find remote ref|not our ref|no such ref|not found" "$out/error"; then
    echo "packline: $PACKLINE_REPO has no ref \\"$ref\\": push the tag, or give the ref to build with -p ref=<tag, branch or commit>." >&2
    exit ${SOURCE_EXIT.missingRef}
  fi
  echo "packline: could not fetch \\"$ref\\" from $PACKLINE_REPO (a retry may help)." >&2
  exit ${SOURCE_EXIT.transient}
fi
git checkout -q FETCH_HEAD
git log -1 --format=%H HEAD | tr -d '\\n' > "$out/commit"
git log -1 --format=%ct HEAD | tr -d '\\n' > "$out/commit-time"
echo "$ref is commit $(cat "$out/commit") ($(cat "$out/commit-time"))"
if ! git -c protocol.file.allow=never submodule update -q --init --recursive --depth=1; then
  echo "packline: could not fetch the submodules of \\"$ref\\" (a retry may help)." >&2
  exit ${SOURCE_EXIT.transient}
fi
rm -rf .git
find "$dir" -type d -perm -2000 -exec chmod g-s {} +
echo "cloned $PACKLINE_REPO at $ref ($(cat "$out/commit"))"
`;

/** The version check alone (the builder-user pod's first container: a bad version pulls no builder). */
export const VERSION_ONLY_SCRIPT = `set -eu
out=${RESOLVE_OUT}
mkdir -p "$out"
${VERSION_CHECK}`;

/** Reads the builder image's own CNB user, for the build pod's security context. */
export const BUILDER_USER_SCRIPT = `set -eu
out=${RESOLVE_OUT}
case "\${CNB_USER_ID:-}:\${CNB_GROUP_ID:-}" in
  *[!0-9:]*|:*|*:) echo "packline: the builder image sets no numeric CNB_USER_ID and CNB_GROUP_ID: it is not a Cloud Native Buildpacks builder, or give --build-user uid:gid." >&2; exit 2 ;;
esac
if [ "$CNB_USER_ID" = 0 ]; then echo "packline: the builder's CNB user is root, which the restricted pod standard forbids." >&2; exit 2; fi
printf '%s' "$CNB_USER_ID" > "$out/uid"
printf '%s' "$CNB_GROUP_ID" > "$out/gid"
echo "the builder's CNB user is $CNB_USER_ID:$CNB_GROUP_ID"
`;

/** The first line of the prepare part of the source container's script. */
export const PREPARE_MARK = "# prepare the build: the layers folder, the plan's files";

/**
 * The source container's last part, which prepares the build before the lifecycle starts: makes the layers folder (0755, without the setgid bit a volume
 * with an fsGroup hands down: the lifecycle puts the modes of /layers and what it makes in it into the image), and
 * writes the plan's files from base64 env values (base64 cannot contain "{{", quotes or "$", so a value reaches the
 * file byte for byte whatever it holds).
 */
export function prepareScript(files: readonly { path: string; env: string }[], dirs: readonly string[] = []): string {
  const lines = [PREPARE_MARK, "set -eu"];
  for (const dir of dirs) {
    // -m applies to the last folder only (shellcheck's SC2174), the one that matters: its parent is the volume's mount.
    lines.push("# shellcheck disable=SC2174", `mkdir -p -m 0755 ${shellQuote(dir)}`, `chmod 0755 ${shellQuote(dir)}`);
  }
  for (const file of files) {
    lines.push(`mkdir -p ${shellQuote(dirname(file.path))}`);
    lines.push(`printf '%s' "$${file.env}" | base64 -d > ${shellQuote(file.path)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Paths come from the plan (validated names); quoting keeps them literal anyway. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'"'"'`)}'`;
}

function dirname(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}
