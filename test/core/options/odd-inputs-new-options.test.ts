/**
 * Our own round of odd inputs around the options added since the last held-out round (issue 18): --build-user,
 * --creation-time, --revision and registries on this machine (--sbom-dir: test/cli/sbom-dir-odd.test.ts; the release
 * check's tags: images.test.ts). Each refusal names the value (never a secret) and the fix; each accepted oddity is
 * accepted on purpose, and says why.
 */
import { describe, expect, it } from "vitest";
import { planText } from "../../../src/backends/text/plan-text.js";
import { MAX_CREATION_SECONDS } from "../../../src/core/options/checks-time-user.js";
import type { RawInput } from "../../../src/core/options/input.js";
import { validateArgo, validateBuild } from "../../../src/core/options/validate.js";
import { planBuild } from "../../../src/core/plan/planner.js";
import { packlineError } from "../../support/errors.js";

const build = (raw: RawInput) => validateBuild("plan", { tag: "1.2.3", ...raw });
const argo = (raw: RawInput) => validateArgo({ repo: "https://github.com/acme/app", image: "registry.example.com/acme/app", ...raw });
const buildError = (raw: RawInput) => packlineError(() => build(raw)).message;
const argoError = (raw: RawInput) => packlineError(() => argo(raw)).message;

describe("--build-user", () => {
  it.each([
    ["01000:1000", /the uid 01000 has a leading zero, which some readers take for octal: give plain numbers, e\.g\. 1000:1000\.$/],
    ["1000:01000", /the gid 01000 has a leading zero.*e\.g\. 1000:1000\.$/],
    ["00:1000", /the uid 00 has a leading zero/], // root spelt otherwise is still refused
    ["4294967295:1000", /the uid 4294967295 is above 4294967294, the highest id Linux has/],
    ["1000:99999999999", /the gid 99999999999 is above 4294967294/],
  ])("%s is refused", (value, message) => {
    expect(argoError({ buildUser: value })).toMatch(/^--build-user "/);
    expect(argoError({ buildUser: value })).toMatch(message);
  });

  it.each([
    "+1000:1000",
    "1e3:1000",
    " 1000:1000",
    "1000:1000 ",
    "1000 :1000",
    "1000:1000\n",
    "\u0661\u0660\u0660\u0660:1000", // Arabic-Indic digits: \d in some engines, not a number to Kubernetes
    "\uff11\uff10\uff10\uff10:1000", // fullwidth digits
    "1000:1000:1000",
    "-1:1000",
    "0x3e8:1000",
    "1000.0:1000",
    ":",
  ])("%j is not uid:gid", (value) => {
    expect(argoError({ buildUser: value })).toMatch(/^--build-user ".*" is not uid:gid: e\.g\. 1001:1000/s);
  });

  it("a uid of 400 digits is refused as above the highest id (and not echoed in full)", () => {
    expect(argoError({ buildUser: `${"9".repeat(400)}:1` })).toBe(
      `--build-user "${"9".repeat(40)}...": the uid 999999999999... is above 4294967294, the highest id Linux has: e.g. 1001:1000 (paketobuildpacks/builder-jammy-base's CNB user).`,
    );
  });

  it("0:... is root, however spelt, and is refused", () => {
    expect(argoError({ buildUser: "0:1000" })).toMatch(/^--build-user 0:\.\.\. is root, which the restricted pod standard forbids/);
  });

  it("gid 0 (the root group) is accepted: the restricted standard allows it, and a builder for arbitrary uids in group 0 needs it", () => {
    expect(argo({ buildUser: "1000:0" }).build.buildUser).toEqual({ uid: 1000, gid: 0 });
  });

  it("the highest Linux id is accepted", () => {
    expect(argo({ buildUser: "4294967294:4294967294" }).build.buildUser).toEqual({ uid: 4294967294, gid: 4294967294 });
  });
});

describe("--creation-time", () => {
  it("0 is 1970-01-01T00:00:00Z, taken as given (the lifecycle reads SOURCE_DATE_EPOCH=0 as that date, not as unset)", () => {
    const plan = planBuild(build({ creationTime: "0" }));
    expect(plan.creationTime).toEqual({ kind: "unix", seconds: 0 });
    expect(plan.steps.build.env).toContainEqual({ name: "SOURCE_DATE_EPOCH", value: ["0"] });
    expect(planText(plan, {})).toContain("1970-01-01T00:00:00.000Z (SOURCE_DATE_EPOCH=0)");
  });

  it("the last second of 9999 is accepted; one more is refused, saying why", () => {
    expect(build({ creationTime: String(MAX_CREATION_SECONDS) }).creationTime).toEqual({ kind: "unix", seconds: 253402300799 });
    expect(new Date(MAX_CREATION_SECONDS * 1000).toISOString()).toBe("9999-12-31T23:59:59.000Z");
    expect(buildError({ creationTime: "253402300800" })).toMatch(
      /^--creation-time "253402300800" is after 9999-12-31T23:59:59Z \(253402300799\), the last time an image's creation time \(RFC 3339, four-digit year\) can hold\.$/,
    );
  });

  it.each([
    ["1700000000000", /It looks like milliseconds: give seconds, e\.g\. 1700000000\.$/],
    ["99999999999999999999999", /is after 9999-12-31T23:59:59Z/], // past 2^53: no number rounds it into range
  ])("%s is refused", (value, message) => {
    expect(buildError({ creationTime: value })).toMatch(message);
  });

  it("5000 digits: after 9999 too", () => {
    expect(buildError({ creationTime: "9".repeat(5000) })).toMatch(/^--creation-time "9{40}\.\.\." is after 9999-12-31T23:59:59Z/);
  });

  it.each(["01700000000", "00", "000000000001"])("%s has a leading zero: refused, with the plain number", (value) => {
    expect(buildError({ creationTime: value })).toMatch(
      /has a leading zero, which some readers take for octal: give the seconds as a plain number, e\.g\. "([1-9][0-9]*|0)"\./,
    );
  });

  it.each(["-1", "-1700000000"])("%s (before 1970) is refused", (value) => {
    expect(buildError({ creationTime: value })).toMatch(/is before 1970-01-01T00:00:00Z: unix seconds start at 0/);
  });

  it.each([
    "+1700000000",
    "1.7e9",
    "1700000000.5",
    " 1700000000",
    "1700000000\n",
    "\u0661\u0667\u0660\u0660",
    "0x6553f100",
    "now ",
    "Now",
    "1_700_000_000",
  ])("%j is not understood", (value) => {
    expect(buildError({ creationTime: value })).toMatch(/is not understood: use now, commit/);
  });

  it("a time in the future is the user's choice: accepted (no clock is read, so a plan is the same on every day)", () => {
    expect(build({ creationTime: "4102444800" }).creationTime).toEqual({ kind: "unix", seconds: 4102444800 }); // 2100-01-01
  });
});

describe("--revision", () => {
  it("over 128 characters: says that it is too long (not that its characters are wrong), and does not echo all of it", () => {
    const message = buildError({ revision: "a".repeat(200) });
    expect(message).toBe(
      `--revision "${"a".repeat(40)}..." is 200 characters long, more than 128: give the commit SHA (40 or 64 hex digits) or a short name.`,
    );
  });

  it.each([
    "a b",
    "abc\n",
    "abc\ndef",
    "\tabc",
    "ab\u0000c",
    "r\u00e9v",
    "\u0661\u0662\u0663",
    "-x",
    ".x",
    "a/b",
    "main~1",
    "HEAD^",
    "@{u}",
    "a;rm -rf /",
    "$(id)",
  ])("%j is not a revision", (value) => {
    expect(buildError({ revision: value })).toMatch(/^--revision ".*" is not a revision: give a commit SHA or a short name/s);
  });

  it.each(["HEAD", "head", "FETCH_HEAD", "@"])("%s names no fixed commit: refused", (value) => {
    expect(buildError({ revision: value })).toMatch(/names no fixed commit|is not a revision/);
  });

  it.each(["0123456789abcdef0123456789abcdef01234567", "a".repeat(64), "a".repeat(128), "v1.2.3", "build-42", "sha256:abc"])(
    "%s is accepted (a label value, compared by the release check)",
    (value) => {
      expect(build({ revision: value }).revision).toBe(value);
    },
  );
});

describe("registries on this machine", () => {
  it.each(["localhost:5000", "LOCALHOST", "127.0.0.2:5000", "[::1]:5000"])(
    "argo --insecure-registry %s is refused, with the fix (a pod's localhost is the pod)",
    (registry) => {
      expect(argoError({ insecureRegistry: [registry] })).toMatch(
        /^--insecure-registry ".*" is on "localhost", which inside a pod is the pod itself/,
      );
      expect(argoError({ insecureRegistry: [registry] })).toMatch(/give the registry's address as the cluster's pods reach it/);
    },
  );

  it("packline build may name two loopback hosts only if one tunnel reaches both", () => {
    const plan = (raw: RawInput) => planBuild(build(raw));
    expect(packlineError(() => plan({ image: "localhost:5000/app", runImage: "127.0.0.2:5000/run:1" })).message).toMatch(
      /name this machine by different hosts/,
    );
    expect(plan({ image: "localhost:5000/app", runImage: "LOCALHOST:5001/run:1" }).hostTunnel).toEqual({
      alias: "packline-host-registry",
      host: "localhost",
      ports: [5000, 5001],
    });
  });
});
