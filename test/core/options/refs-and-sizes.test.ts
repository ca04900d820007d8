/**
 * Issue 18, items 6, 7, 8 and 11: a short commit as --ref, an upper-case URL scheme, sizes no pod can run with, and
 * two caches at once are refused, each with the value and the fix, before anything is planned.
 */
import { describe, expect, it } from "vitest";
import type { RawInput } from "../../../src/core/options/input.js";
import { validateArgo, validateBuild } from "../../../src/core/options/validate.js";
import { packlineError } from "../../support/errors.js";

const argo = (raw: RawInput) => validateArgo({ repo: "https://github.com/acme/app", image: "reg.example.com/app", ...raw });
const argoError = (raw: RawInput) => packlineError(() => argo(raw)).message;
const buildError = (raw: RawInput) => packlineError(() => validateBuild("build", { tag: "1.2.3", ...raw })).message;

describe("--ref: a short commit is refused in every backend (item 6)", () => {
  it.each(["abc1234", "0a1b2c3d4e5f", "deadbeef1", `${"a1".repeat(19)}c`])("%s", (ref) => {
    const message = `--ref ${JSON.stringify(ref)} looks like a short commit SHA, which git cannot fetch: give the full SHA (git rev-parse ${ref}), or for a branch or tag of that name refs/heads/${ref} or refs/tags/${ref}.`;
    expect(argoError({ ref })).toBe(message);
    expect(buildError({ repo: "https://github.com/acme/app", ref })).toBe(message);
  });

  it.each([
    "a".repeat(40).replace(/^a/, "1"),
    "0123456789abcdef".repeat(4),
    "main",
    "v1.2.3",
    "2024",
    "cafe",
    "refs/heads/abc1234",
    "release-abc1234",
  ])("%s is accepted", (ref) => {
    expect(argo({ ref }).build.source).toMatchObject({ kind: "git", ref });
  });
});

describe("--repo: a scheme in upper case is refused (item 7)", () => {
  it.each([
    ["HTTPS://github.com/acme/app", "HTTPS", "https://github.com/acme/app"],
    ["Https://github.com/acme/app", "Https", "https://github.com/acme/app"],
    ["SSH://git@github.com/acme/app", "SSH", "ssh://***@github.com/acme/app"],
    // a password is not repeated in the fix either (a URL with credentials is refused anyway)
    ["HTTPS://me:tok@github.com/acme/app", "HTTPS", "https://***@github.com/acme/app"],
  ])("%s", (repo, scheme, fixed) => {
    expect(argoError({ repo })).toBe(
      `--repo ${JSON.stringify(repo.replace(/\/\/[^@/]*@/, "//***@"))} has its scheme in upper case (${scheme}), which git does not read: write ${fixed}.`,
    );
  });
});

describe("sizes no pod can run with (item 8)", () => {
  it.each([
    [{ memoryLimit: "100m" }, /^--memory-limit "100m" is 0\.1 bytes, not a whole number of bytes/],
    [{ memoryLimit: "1e-3" }, /^--memory-limit "1e-3" is 0\.001 bytes, not a whole number of bytes/],
    [{ memoryRequest: "1", memoryLimit: "1" }, /^--memory-request "1" is 1 bytes, less than any pod can run a build with \(at least 6Mi/],
    [{ memoryLimit: "5Mi" }, /^--memory-limit "5Mi" is 5242880 bytes, less than any pod/],
    [{ workspaceSize: "1e3" }, /^--workspace-size "1e3" is 1000 bytes, less than any pod can run a build with \(at least 1Mi/],
    [{ workspaceSize: "0.5" }, /^--workspace-size "0\.5" is 0\.5 bytes, not a whole number/],
    [{ cpuLimit: "0.1m" }, /^--cpu-limit "0\.1m" is finer than a millicore \(1m\), which Kubernetes refuses/],
    [{ cpuRequest: "1e-4" }, /^--cpu-request "1e-4" is finer than a millicore/],
  ] as [RawInput, RegExp][])("%j is refused", (raw, message) => {
    expect(argoError(raw)).toMatch(message);
  });

  it.each([
    [{ memoryRequest: "6Mi", memoryLimit: "2Gi", cpuRequest: "1m", cpuLimit: "1.5", workspaceSize: "1Mi" }],
    [{ memoryLimit: "1.5Gi" }],
  ] as RawInput[][])("%j is accepted", (raw) => {
    expect(() => argo(raw)).not.toThrow();
  });
});

describe("--cache-pvc with --cache-image (item 11)", () => {
  it("is refused: the PVC was dropped without a word", () => {
    expect(argoError({ cachePvc: "build-cache", cacheImage: "reg.example.com/app-cache:build" })).toBe(
      '--cache-pvc "build-cache" and --cache-image "reg.example.com/app-cache:build" were both given: the cache goes to one place; drop one of them.',
    );
  });
});
