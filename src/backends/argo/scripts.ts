/**
 * The small POSIX sh scripts the cluster steps run. They read every value from environment variables, never from
 * their own text, so no user value is ever parsed as shell code or as an Argo template.
 */
import { PATHS } from "../plan.js";

/** Where the clone step keeps the source and the lifecycle's layers on the workflow's volume. */
export const WORK = { mount: "/work", source: "source", layers: "layers" } as const;

export const CLONE_OUTPUTS = { commitTime: "/tmp/packline/commit-time" } as const;

/**
 * Clones $PACKLINE_REPO at $PACKLINE_REF (or the tag), like Dagger's git(url).ref(ref).tree(): a shallow fetch of one
 * ref, then the .git directory removed so both backends hand the lifecycle the same files.
 */
export const CLONE_SCRIPT = `set -eu
ref="\${PACKLINE_REF:-$PACKLINE_TAG}"
rm -rf ${WORK.mount}/${WORK.source} ${WORK.mount}/${WORK.layers}
mkdir -p ${WORK.mount}/${WORK.source} ${WORK.mount}/${WORK.layers} /tmp/packline
cd ${WORK.mount}/${WORK.source}
git init -q
if [ -n "\${GIT_PASSWORD:-}" ]; then
  git config credential.helper '!f() { echo "username=\${GIT_USERNAME:-git}"; echo "password=\${GIT_PASSWORD}"; }; f'
fi
git fetch -q --depth 1 -- "$PACKLINE_REPO" "$ref"
git checkout -q FETCH_HEAD
git log -1 --format=%ct > ${CLONE_OUTPUTS.commitTime}
rm -rf .git
echo "cloned $PACKLINE_REPO at $ref ($(cat ${CLONE_OUTPUTS.commitTime}))"
`;

/**
 * Prepares the build pod as root, before the creator starts: gives the builder's CNB user the directories the plan
 * says it owns, and writes the plan's files from base64 env values (base64 cannot contain "{{", quotes or "$").
 */
export function prepareScript(ownedPaths: readonly string[], files: readonly { path: string; env: string }[]): string {
  const lines = ["set -eu"];
  if (ownedPaths.length > 0) lines.push(`chown -R "$CNB_USER_ID:$CNB_GROUP_ID" ${ownedPaths.map(shellQuote).join(" ")}`);
  for (const file of files) {
    lines.push(`mkdir -p ${shellQuote(dirname(file.path))}`);
    lines.push(`printf '%s' "$${file.env}" | base64 -d > ${shellQuote(file.path)}`);
  }
  return lines.join("\n") + "\n";
}

export const RESULT_OUTPUTS = { digest: "/tmp/packline/digest" } as const;

/** Reads the digest the lifecycle reported, so the workflow can output it (for a later step or Argo CD). */
export const RESULT_SCRIPT = `set -eu
mkdir -p /tmp/packline
sed -n 's/^[[:space:]]*digest[[:space:]]*=[[:space:]]*"\\(sha256:[0-9a-f]\\{64\\}\\)".*/\\1/p' ${PATHS.report} | head -n 1 > ${RESULT_OUTPUTS.digest}
if [ ! -s ${RESULT_OUTPUTS.digest} ]; then
  echo "packline: ${PATHS.report} has no image digest: nothing was confirmed as published" >&2
  exit 1
fi
echo "published $(cat ${RESULT_OUTPUTS.digest})"
`;

/** Paths come from the plan (validated names); quoting keeps them literal anyway. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'"'"'`)}'`;
}

function dirname(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}
