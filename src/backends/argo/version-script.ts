/**
 * The version check that runs in the cluster, where the version is a workflow parameter known only at submit time.
 * Generated from the rule in src/core/version.ts (its character set, its regular expression, its length), so the
 * two cannot drift; a property test runs this script with /bin/sh over odd inputs and compares with parseVersion.
 * It writes the normalized version, its MAJOR and MINOR, and its shape (release, zero, prerelease).
 */
import { MAX_TAG_LENGTH, VERSION_CHARACTERS, VERSION_ERE } from "../../core/version.js";

/** Exit code of a refused version: no retry can fix it. */
export const BAD_VERSION_EXIT = 2;

/** POSIX sh, reading $PACKLINE_TAG (an env var, so the value is never parsed as shell code); writes to $out. */
export const VERSION_CHECK = `refuse_version() {
  echo "packline: tag \\"$PACKLINE_TAG\\" $1: give MAJOR.MINOR.PATCH, e.g. v1.2.3 or 1.2.3 (prereleases like 1.2.3-rc.1 are fine)." >&2
  exit ${BAD_VERSION_EXIT}
}
case "$PACKLINE_TAG" in
  "") refuse_version "is empty" ;;
  *[!${VERSION_CHARACTERS}]*) refuse_version "has characters a version cannot have (only letters, digits, '.', '-' and '+'; no blanks)" ;;
esac
v="\${PACKLINE_TAG#v}"
case "$v" in *+*) refuse_version "has build metadata (+...), which an OCI image tag cannot hold" ;; esac
printf '%s\\n' "$v" | grep -Eq '${VERSION_ERE}' || refuse_version "is not a semantic version"
if [ \${#v} -gt ${MAX_TAG_LENGTH} ]; then refuse_version "is longer than the ${MAX_TAG_LENGTH} characters an OCI tag may have"; fi
major=\${v%%.*}
rest=\${v#*.}
minor=\${rest%%.*}
case "$v" in
  *-*) shape=prerelease ;;
  0.*) shape=zero ;;
  *) shape=release ;;
esac
printf '%s' "$v" > "$out/version"
printf '%s' "$major" > "$out/major"
printf '%s' "$minor" > "$out/minor"
printf '%s' "$shape" > "$out/shape"
echo "version $v ($shape)"
`;
