import semver from "semver";
import { PacklineError, quote } from "./errors.js";

/**
 * The version rule, in one place. A version is `MAJOR.MINOR.PATCH` with an optional prerelease (`1.2.3-rc.1`), as
 * semver.org writes it, with one leading `v` allowed (`v1.2.3` is the git tag; `1.2.3` the image tag). Refused:
 * - any character outside `0-9 A-Z a-z . + -` (blanks anywhere, control characters, non-ASCII): a version is a
 *   tag and a git ref, and "almost the same" versions must not pass in one place and fail in another;
 * - build metadata (`+build.5`): `+` cannot be in an OCI tag, and dropping it would let two builds share a tag;
 * - numbers over 15 digits (what every reader, JavaScript's numbers and the cluster's shell, reads the same way);
 * - versions longer than the 128 characters an OCI tag may have.
 *
 * The cluster checks the version at submit time with a shell script generated from VERSION_CHARACTERS and
 * VERSION_ERE below (src/backends/argo/version-script.ts); a property test runs both over odd inputs.
 */
export const VERSION_CHARACTERS = "0-9A-Za-z.+-";
const NUMBER = "(0|[1-9][0-9]{0,14})";
const PRERELEASE_ID = "(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)";
/** semver.org's grammar without build metadata, numbers of at most 15 digits; a POSIX ERE (grep -E) and a JS RegExp. */
export const VERSION_ERE = `^${NUMBER}\\.${NUMBER}\\.${NUMBER}(-${PRERELEASE_ID}(\\.${PRERELEASE_ID})*)?$`;
export const MAX_TAG_LENGTH = 128;
const MAX_DIGITS = 15;

/** The shapes of version whose tag lists differ: a release (1.2.3), a 0.x release (0.4.2), a prerelease (1.2.3-rc.1). */
export const VERSION_SHAPES = ["release", "zero", "prerelease"] as const;
export type VersionShape = (typeof VERSION_SHAPES)[number];

export interface Version {
  /** What the user typed, e.g. `v1.2.3` (also the default git ref to clone). */
  readonly input: string;
  /** The normalized version, the image tag, e.g. `1.2.3`. */
  readonly version: string;
  readonly major: string;
  readonly minor: string;
  readonly shape: VersionShape;
}

/**
 * Parses a version or throws a PacklineError naming the value and the fix. `label` names where the value came from
 * (`--tag`, or `version` for `packline tags <version>`).
 */
export function parseVersion(input: string, label = "--tag"): Version {
  const what = label.startsWith("-") ? label : `${label}`;
  const fix = "give MAJOR.MINOR.PATCH, e.g. v1.2.3 or 1.2.3 (prereleases like 1.2.3-rc.1 are fine)";
  if (input === "") throw new PacklineError(`${what} is empty: ${fix}.`);
  if (new RegExp(`[^${VERSION_CHARACTERS}]`).test(input)) {
    throw new PacklineError(
      `${what} ${quote(input)} has characters a version cannot have (only letters, digits, '.', '-' and '+'; no blanks): ${fix}, with nothing around it.`,
    );
  }
  const bare = input.startsWith("v") ? input.slice(1) : input;
  const plus = bare.indexOf("+");
  if (plus !== -1) {
    const main = bare.slice(0, plus);
    const build = bare.slice(plus + 1);
    throw new PacklineError(
      `${what} ${quote(input)} has build metadata (+${build}), which an OCI image tag cannot hold: drop it, or make it part of a prerelease (e.g. ${main}-${build}).`,
    );
  }
  const numbers = bare.split("-")[0]!.split(".");
  if (numbers.length === 3 && numbers.every((n) => /^[0-9]+$/.test(n)) && numbers.some((n) => n.length > MAX_DIGITS)) {
    throw new PacklineError(
      `${what} ${quote(input)} has a number longer than ${MAX_DIGITS} digits: use MAJOR.MINOR.PATCH numbers of at most ${MAX_DIGITS} digits.`,
    );
  }
  if (!new RegExp(VERSION_ERE).test(bare)) {
    throw new PacklineError(`${what} ${quote(input)} is not a semantic version: ${fix}.`);
  }
  if (bare.length > MAX_TAG_LENGTH) {
    throw new PacklineError(
      `${what} ${quote(input)} is ${bare.length} characters long, more than the ${MAX_TAG_LENGTH} an OCI tag may have: shorten the prerelease.`,
    );
  }
  // The regex is stricter than semver's own grammar, so semver agrees; it gives the parts.
  const parsed = semver.parse(bare);
  if (parsed === null) throw new PacklineError(`${what} ${quote(input)} is not a semantic version: ${fix}.`);
  const shape: VersionShape = parsed.prerelease.length > 0 ? "prerelease" : parsed.major === 0 ? "zero" : "release";
  return { input, version: bare, major: String(parsed.major), minor: String(parsed.minor), shape };
}
