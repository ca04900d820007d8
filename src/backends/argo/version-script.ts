/**
 * The version check that runs in the cluster, where the version is a workflow parameter known only at submit time.
 *
 * It applies the same rule as src/tags.ts (which stays the source of truth): a test runs this script with /bin/sh
 * over many versions and compares its answers with tagsFor(). It prints no tags itself: it names the version's
 * SHAPE, and the exporter renders one build template per shape from the plan, so the tags still come from the plan.
 */

/** The shapes of version whose tag lists differ (see tags.ts): a release, a 0.x release, a prerelease. */
export const VERSION_SHAPES = ["release", "zero", "prerelease"] as const;
export type VersionShape = (typeof VERSION_SHAPES)[number];

/**
 * A stand-in version for each shape, rendered into the plan and then replaced by the real version's parts.
 * The numbers are ones no real tag list would contain by chance, so the replacement is exact.
 */
export const SHAPE_SAMPLES: Record<VersionShape, { readonly version: string; readonly major: string; readonly minor: string }> = {
  release: { version: "90001.90002.90003", major: "90001", minor: "90002" },
  zero: { version: "0.90002.90003", major: "0", minor: "90002" },
  prerelease: { version: "90001.90002.90003-packline.90004", major: "90001", minor: "90002" },
};

/** Where the script writes its outputs (Argo reads them as output parameters). */
export const VERSION_OUTPUTS = {
  version: "/tmp/packline/version",
  major: "/tmp/packline/major",
  minor: "/tmp/packline/minor",
  shape: "/tmp/packline/shape",
} as const;

const NUM = "(0|[1-9][0-9]{0,14})";
const PRE_ID = "(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)";
/** semver.org's grammar without build metadata, with numbers of at most 15 digits (as tags.ts). */
export const VERSION_REGEX = `^${NUM}\\.${NUM}\\.${NUM}(-${PRE_ID}(\\.${PRE_ID})*)?$`;

/**
 * POSIX sh; reads the version from $PACKLINE_VERSION (an env var, so the value is never parsed as shell code).
 * Leading/trailing blanks and one leading "v" are dropped, as semver.valid() does.
 */
export const VERSION_SCRIPT = `set -eu
input="$PACKLINE_VERSION"
v=$(printf '%s' "$input" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//')
v=\${v#v}
if ! printf '%s\\n' "$v" | grep -Eq '${VERSION_REGEX}' || [ "$(printf '%s\\n' "$v" | wc -l)" -ne 1 ]; then
  echo "packline: tag \\"$input\\" is not a semantic version without build metadata: give MAJOR.MINOR.PATCH, e.g. v1.2.3 or 1.2.3-rc.1" >&2
  exit 1
fi
if [ \${#v} -gt 128 ]; then
  echo "packline: tag \\"$input\\" is longer than the 128 characters an OCI tag may have" >&2
  exit 1
fi
major=\${v%%.*}
rest=\${v#*.}
minor=\${rest%%.*}
case "$v" in
  *-*) shape=prerelease ;;
  0.*) shape=zero ;;
  *) shape=release ;;
esac
mkdir -p /tmp/packline
printf '%s' "$v" > ${VERSION_OUTPUTS.version}
printf '%s' "$major" > ${VERSION_OUTPUTS.major}
printf '%s' "$minor" > ${VERSION_OUTPUTS.minor}
printf '%s' "$shape" > ${VERSION_OUTPUTS.shape}
echo "version $v ($shape)"
`;
