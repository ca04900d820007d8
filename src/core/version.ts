import semver from "semver";
import { PacklineError, quote } from "./errors.js";

/**
 * The tag rule, in one place:
 * - the version tag is the semver version without a leading "v": `v1.2.3` publishes `1.2.3`;
 * - `floating` adds `MAJOR.MINOR` and `MAJOR` (for 0.x versions only `0.MINOR`, because a 0.x major promises nothing);
 * - `latest` adds `latest`;
 * - a prerelease (`1.2.3-rc.1`) publishes its own tag only: floating tags and `latest` must never move to a prerelease.
 * - MAJOR, MINOR and PATCH have at most 15 digits;
 * - build metadata (`+build.5`) is refused: `+` is not allowed in an OCI tag, and dropping it silently would let two
 *   different builds overwrite one tag.
 */
export interface TagOptions {
  readonly floating?: boolean;
  readonly latest?: boolean;
}

export interface Version {
  /** What the user typed, e.g. `v1.2.3` (also the default git ref to clone). */
  readonly input: string;
  /** The normalized version, e.g. `1.2.3`. */
  readonly version: string;
  readonly prerelease: boolean;
}

export interface TagSet {
  readonly version: Version;
  /** Every tag to publish, the version tag first. */
  readonly tags: readonly string[];
  /** Why a requested tag was left out (e.g. floating tags for a prerelease). */
  readonly notes: readonly string[];
}

// Numbers that every semver reader (JavaScript's safe integers, the cluster's shell check) reads the same way.
const MAX_DIGITS = 15;

// The OCI distribution spec's tag grammar.
const OCI_TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

export function parseVersion(input: string): Version {
  const trimmed = input.trim();
  if (trimmed === "") {
    throw new PacklineError("--tag is empty: give a semantic version such as v1.2.3 or 1.2.3.");
  }
  // semver.valid accepts only full MAJOR.MINOR.PATCH versions (with or without a leading "v"), not "1.0" or "v1".
  const version = semver.valid(trimmed);
  if (version === null) {
    throw new PacklineError(
      `--tag ${quote(input)} is not a semantic version: give MAJOR.MINOR.PATCH, e.g. v1.2.3 or 1.2.3` +
        ` (prereleases like 1.2.3-rc.1 are fine).`,
    );
  }
  // Parse the input, not `version`: semver.valid() has already dropped any build metadata from it.
  const parsed = semver.parse(trimmed)!;
  if ([parsed.major, parsed.minor, parsed.patch].some((n) => String(n).length > MAX_DIGITS)) {
    throw new PacklineError(
      `--tag ${quote(input)} has a version number longer than ${MAX_DIGITS} digits: use MAJOR.MINOR.PATCH numbers of at most ${MAX_DIGITS} digits.`,
    );
  }
  if (parsed.build.length > 0) {
    throw new PacklineError(
      `--tag ${quote(input)} has build metadata (+${parsed.build.join(".")}), which an OCI image tag cannot hold:` +
        ` drop it, or make it part of a prerelease (e.g. ${parsed.major}.${parsed.minor}.${parsed.patch}-${parsed.build.join(".")}).`,
    );
  }
  if (!OCI_TAG.test(version)) {
    throw new PacklineError(
      `--tag ${quote(input)} gives the image tag ${quote(version)}, which is longer than the 128 characters an OCI tag may have: shorten the prerelease.`,
    );
  }
  return { input: trimmed, version, prerelease: parsed.prerelease.length > 0 };
}

export function tagsFor(input: string, options: TagOptions = {}): TagSet {
  const version = parseVersion(input);
  const parsed = semver.parse(version.version)!;
  const tags = [version.version];
  const notes: string[] = [];
  if (version.prerelease) {
    if (options.floating) notes.push(`floating tags skipped: ${version.version} is a prerelease`);
    if (options.latest) notes.push(`latest skipped: ${version.version} is a prerelease`);
    return { version, tags, notes };
  }
  if (options.floating) {
    tags.push(`${parsed.major}.${parsed.minor}`);
    if (parsed.major > 0) tags.push(`${parsed.major}`);
    else notes.push(`no "0" tag: a 0.x major version promises no compatibility`);
  }
  if (options.latest) tags.push("latest");
  return { version, tags, notes };
}
