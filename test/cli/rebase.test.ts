/**
 * `packline rebase` without an engine: what it refuses before an engine starts (and never echoes a secret), its
 * help, and what it prints for a result (the engine suite's test/lab/engine/rebase.test.ts runs it for real).
 */
import { describe, expect, it } from "vitest";
import { rebaseSummary } from "../../src/cli/rebase.js";
import { validateRebase } from "../../src/core/options/rebase.js";
import { planRebase } from "../../src/core/plan/rebase.js";
import { cli } from "./io.js";

const IMAGE = "registry.example.com/acme/app";
const TOKEN = "tok-3Fv-not-real";

describe("packline rebase", () => {
  it.each([
    [["--tag", "1.2", "--image", IMAGE], 1, 'packline: --tag "1.2" is not a semantic version'],
    [["--tag", "1.2.3", "--image", `${IMAGE}:1.2.3`], 1, "has a tag"],
    [["--tag", "1.2.3", "--tag", "1.2.4", "--image", IMAGE], 1, "--tag was given more than once"],
    [["--tag", "1.2.3", "--image", IMAGE, "--registry-username", "me"], 1, "without --registry-password"],
    [["--tag", "1.2.3", "--image", IMAGE, "--registry-username", "me", "--registry-password", "env:NOT_SET_HERE"], 1, "NOT_SET_HERE"],
    [["--image", IMAGE], 2, "required option '--tag <version>' not specified"],
    [["--tag", "1.2.3", "--image", IMAGE, "--repo", "https://github.com/acme/app"], 2, "packline rebase takes no --repo"],
  ])("refuses %j before an engine starts (exit %i)", async (args, code, message) => {
    const r = await cli(["rebase", ...(args as string[])]);
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe("");
  });

  it("never echoes a password pasted into the user name", async () => {
    const r = await cli(["rebase", "--tag", "1.2.3", "--image", IMAGE, "--registry-username", `me:${TOKEN}`, "--registry-password", "env:X"], {
      X: "x",
    });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain(TOKEN);
  });

  it("--help names every flag", async () => {
    const r = await cli(["rebase", "--help"]);
    expect(r.code).toBe(0);
    for (const flag of ["--tag", "--image", "--run-image", "--builder", "--registry-username", "--registry-password", "--insecure-registry"]) {
      expect(r.stdout).toContain(flag);
    }
  });

  it("prints what moved pinned to the digest, or that nothing did", () => {
    const plan = planRebase(validateRebase({ tag: "v1.2.3", image: IMAGE }));
    const d = (c: string) => `sha256:${c.repeat(64)}`;
    expect(
      rebaseSummary(plan, { digest: d("b"), from: d("a"), rebased: true, published: [`${IMAGE}:1.2.3@${d("b")}`, `${IMAGE}:1.2@${d("b")}`] }),
    ).toBe(`rebased 1.2.3 (from ${d("a")}):\n  ${IMAGE}:1.2.3@${d("b")}\n  ${IMAGE}:1.2@${d("b")}\n`);
    expect(rebaseSummary(plan, { digest: d("a"), from: d("a"), rebased: false, published: [`${IMAGE}:1.2.3@${d("a")}`] })).toBe(
      `1.2.3 already stands on its run image's newest image: nothing changed.\n  ${IMAGE}:1.2.3@${d("a")}\n`,
    );
  });
});
