/**
 * The cluster checks the version with a shell script (the version is a submit-time parameter there). tags.ts is the
 * rule; this test runs the real script with /bin/sh over many versions and requires the same verdict and the same
 * parts, so the two cannot drift apart.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import semver from "semver";
import { afterAll, describe, expect, it } from "vitest";
import { VERSION_OUTPUTS, VERSION_SCRIPT } from "../../src/argo/version-script.js";
import { PacklineError } from "../../src/errors.js";
import { parseVersion } from "../../src/tags.js";

const dir = mkdtempSync(join(tmpdir(), "packline-version-script-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Verdict = { ok: false } | { ok: true; version: string; major: string; minor: string; shape: string };

function script(input: string): Verdict {
  rmSync(join(dir, "out"), { recursive: true, force: true });
  const text = VERSION_SCRIPT.split("/tmp/packline").join(join(dir, "out"));
  try {
    execFileSync("sh", ["-c", text], { env: { PATH: process.env.PATH, PACKLINE_VERSION: input }, stdio: "pipe" });
  } catch {
    return { ok: false };
  }
  const read = (path: string) => readFileSync(path.replace("/tmp/packline", join(dir, "out")), "utf8");
  return { ok: true, version: read(VERSION_OUTPUTS.version), major: read(VERSION_OUTPUTS.major), minor: read(VERSION_OUTPUTS.minor), shape: read(VERSION_OUTPUTS.shape) };
}

function core(input: string): Verdict {
  try {
    const v = parseVersion(input);
    const parsed = semver.parse(v.version)!;
    const shape = v.prerelease ? "prerelease" : parsed.major === 0 ? "zero" : "release";
    return { ok: true, version: v.version, major: String(parsed.major), minor: String(parsed.minor), shape };
  } catch (error) {
    if (!(error instanceof PacklineError)) throw error;
    return { ok: false };
  }
}

describe("the cluster's version script agrees with tags.ts", () => {
  it.each([
    "v1.2.3", "1.2.3", "0.1.0", "0.0.0", "10.20.30", "1.2.3-rc.1", "0.9.0-alpha", "1.0.0-0.3.7", "1.0.0-x-y-z.--",
    " v1.2.3 ", "1.0", "v1", "latest", "", "1.2.3+build.5", "1.2.3-rc.1+b", "01.2.3", "1.02.3", "1.2.3-01", "1.2.3-",
    "1.2.3-a..b", "V1.2.3", "=1.2.3", "vv1.2.3", "1.2.3\n1.2.4", "$(id)", "{{workflow.name}}", "1.2.3 extra",
    "123456789012345.0.0", "1234567890123456.0.0", `1.2.3-${"a".repeat(130)}`, "1.2.3-ünï",
  ])("%j", (input) => {
    expect(script(input)).toEqual(core(input));
  });

  it("on random versions and near-versions", () => {
    const num = fc.oneof(fc.integer({ min: 0, max: 30 }).map(String), fc.constantFrom("00", "01", "999999999999999"));
    const ident = fc.stringMatching(/^[0-9A-Za-z-]{1,8}$/);
    const candidate = fc
      .tuple(fc.constantFrom("", "v", " v", "V"), num, num, num, fc.option(fc.array(ident, { minLength: 1, maxLength: 3 }), { nil: undefined }))
      .map(([prefix, a, b, c, pre]) => `${prefix}${a}.${b}.${c}${pre ? `-${pre.join(".")}` : ""}`);
    fc.assert(
      fc.property(candidate, (input) => {
        expect(script(input)).toEqual(core(input));
      }),
      { numRuns: 150 },
    );
  });
});
