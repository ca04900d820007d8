/**
 * Issue 18, item 9: a single-value option given twice is refused (Commander kept the last: `--tag 1.2.3 --tag 2.0.0`
 * published 2.0.0), without echoing either value, and nothing is written. Repeatable options stay repeatable.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cli } from "./io.js";

const tmp = mkdtempSync(join(tmpdir(), "packline-repeat-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const ARGO = ["argo", "--repo", "https://github.com/acme/app", "--image", "reg.example.com/app"];

describe("a single-value option given twice", () => {
  it.each([
    ["--tag", ["plan", "--tag", "1.2.3", "--tag", "2.0.0"]],
    ["--image", ["plan", "--tag", "1.2.3", "--image", "a.example.com/app", "--image", "b.example.com/app"]],
    ["--registry-username", ["plan", "--tag", "1.2.3", "--registry-username", "me", "--registry-username", "me:s3cret-value"]],
    ["--builder", ["plan", "--tag", "1.2.3", "--builder", "a/b", "--builder", "c/d"]],
    ["--tag", [...ARGO, "--tag", "1.2.3", "--tag=2.0.0"]],
  ])("%s is refused, naming the option, not the values", async (flag, args) => {
    const { code, stdout, stderr } = await cli(args);
    expect([code, stdout]).toEqual([1, ""]);
    expect(stderr).toBe(`packline: ${flag} was given more than once: give it once (packline does not choose between the values).\n`);
    expect(stderr).not.toContain("s3cret");
  });

  it("-o twice is refused and neither file is written", async () => {
    const a = join(tmp, "a.yaml");
    const b = join(tmp, "b.yaml");
    const { code, stderr } = await cli([...ARGO, "-o", a, "--output", b]);
    expect(code).toBe(1);
    expect(stderr).toBe("packline: -o/--output was given more than once: give it once (packline does not choose between the values).\n");
    expect([existsSync(a), existsSync(b)]).toEqual([false, false]);
  });

  it("repeatable options and flags stay repeatable", async () => {
    const { code } = await cli(["plan", "--tag", "1.2.3", "--env", "A=1", "--env", "B=2", "--latest", "--latest"]);
    expect(code).toBe(0);
  });
});
