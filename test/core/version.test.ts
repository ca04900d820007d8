import fc from "fast-check";
import semver from "semver";
import { describe, expect, it } from "vitest";
import { MAX_TAG_LENGTH, parseVersion, VERSION_ERE } from "../../src/core/version.js";
import { packlineError } from "../support/errors.js";

const FIX = "give MAJOR.MINOR.PATCH, e.g. v1.2.3 or 1.2.3 (prereleases like 1.2.3-rc.1 are fine)";

describe("parseVersion: what passes", () => {
  it.each([
    ["1.2.3", "1.2.3", "1", "2", "release"],
    ["v1.2.3", "1.2.3", "1", "2", "release"],
    ["0.4.2", "0.4.2", "0", "4", "zero"],
    ["v0.0.7", "0.0.7", "0", "0", "zero"],
    ["1.2.3-rc.1", "1.2.3-rc.1", "1", "2", "prerelease"],
    ["0.1.0-alpha", "0.1.0-alpha", "0", "1", "prerelease"],
    ["2.0.0-alpha.1.x-y", "2.0.0-alpha.1.x-y", "2", "0", "prerelease"],
    ["1.2.3--", "1.2.3--", "1", "2", "prerelease"],
    ["999999999999999.0.0", "999999999999999.0.0", "999999999999999", "0", "release"],
  ])("%j -> %j (major %s, minor %s, %s)", (input, version, major, minor, shape) => {
    expect(parseVersion(input)).toEqual({ input, version, major, minor, shape });
  });
});

describe("parseVersion: refusals, each naming the value and the fix", () => {
  it.each([
    "1.0",
    "latest",
    "v1",
    "1",
    "1.2.3.4",
    "01.2.3",
    "1.02.3",
    "V1.2.3",
    "1.2.x",
    "vv1.2.3",
    "v",
    "1.2.3-",
    "1.2.3-01",
    "1.2.3-rc..1",
    "-1.2.3",
    ".1.2.3",
    "1.2.3.",
  ])("%j is not a semantic version", (input) => {
    expect(packlineError(() => parseVersion(input)).message).toBe(`--tag ${JSON.stringify(input)} is not a semantic version: ${FIX}.`);
  });

  it.each([
    " 1.2.3",
    "1.2.3 ",
    "v 1.2.3",
    "\n\n1.2.3",
    "1.2.3\n",
    "\u00a01.2.3",
    "1.2.3\u2028",
    "1.2.3\t",
    "1.2.\u200b3",
    "1.２.3",
    "1.2.3\u0000",
    "１.2.3",
    "1.2.3-ré",
    "=1.2.3",
    "^1.2.3",
    "~1.2.3",
    "1.2.3_rc",
  ])("%j has characters a version cannot have", (input) => {
    expect(packlineError(() => parseVersion(input)).message).toBe(
      `--tag ${JSON.stringify(input)} has characters a version cannot have (only letters, digits, '.', '-' and '+'; no blanks): ${FIX}, with nothing around it.`,
    );
  });

  it("an empty version", () => {
    expect(packlineError(() => parseVersion("")).message).toBe(`--tag is empty: ${FIX}.`);
  });

  it("build metadata, with the prerelease it could be instead", () => {
    expect(packlineError(() => parseVersion("v1.2.3+build.5")).message).toBe(
      '--tag "v1.2.3+build.5" has build metadata (+build.5), which an OCI image tag cannot hold: drop it, or make it part of a prerelease (e.g. 1.2.3-build.5).',
    );
  });

  it("numbers over 15 digits", () => {
    expect(packlineError(() => parseVersion("1234567890123456.0.0")).message).toBe(
      '--tag "1234567890123456.0.0" has a number longer than 15 digits: use MAJOR.MINOR.PATCH numbers of at most 15 digits.',
    );
  });

  it("versions longer than an OCI tag", () => {
    const input = `1.2.3-${"a".repeat(MAX_TAG_LENGTH)}`;
    expect(packlineError(() => parseVersion(input)).message).toContain(`is ${input.length} characters long, more than the 128 an OCI tag may have`);
    expect(parseVersion(`1.2.3-${"a".repeat(MAX_TAG_LENGTH - 6)}`).version).toHaveLength(MAX_TAG_LENGTH);
  });

  it("names where the value came from", () => {
    expect(packlineError(() => parseVersion("1.0", "version")).message).toMatch(/^version "1.0" is not a semantic version/);
  });
});

describe("parseVersion agrees with semver on what semver calls strictly valid", () => {
  const identifier = fc.stringMatching(/^[0-9A-Za-z-]{1,8}$/);
  const number = fc.oneof(fc.constant("0"), fc.integer({ min: 1, max: 999_999 }).map(String));
  const version = fc
    .tuple(number, number, number, fc.option(fc.array(identifier, { minLength: 1, maxLength: 3 }), { nil: undefined }), fc.boolean())
    .map(([a, b, c, pre, v]) => `${v ? "v" : ""}${a}.${b}.${c}${pre ? `-${pre.join(".")}` : ""}`);

  it("accepts exactly the versions semver.valid accepts (strings without build metadata or blanks)", () => {
    fc.assert(
      fc.property(version, (input) => {
        const valid = semver.valid(input) !== null && semver.valid(input) === input.replace(/^v/, "");
        let accepted = true;
        try {
          parseVersion(input);
        } catch {
          accepted = false;
        }
        expect(accepted).toBe(valid);
      }),
      { numRuns: 500 },
    );
  });

  it("the ERE is anchored and POSIX-plain (no lookarounds, no \\d): the cluster's grep -E reads it the same", () => {
    expect(VERSION_ERE.startsWith("^") && VERSION_ERE.endsWith("$")).toBe(true);
    expect(VERSION_ERE).not.toMatch(/\\d|\(\?|\\s/);
  });
});
