/**
 * The build pod's late-value prelude (src/backends/argo/late-prelude.ts), run with sh: values read from the shared
 * folder's files reach the step's env byte for byte (user text single-quoted, never parsed), the tags are chosen by
 * the version's shape, a published version skips the step, and the release's in-place retry re-runs only the exit
 * codes it names, at most its limit.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { latePrelude, type PreludeSpec, shellWord } from "../../../src/backends/argo/late-prelude.js";
import type { Variant } from "../../../src/core/plan/types.js";

const work = mkdtempSync(join(tmpdir(), "packline-late-prelude-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let runs = 0;

const VARIANTS: Variant[] = [
  { shapes: ["release"], tags: [[{ late: "version" }], [{ late: "major" }, ".", { late: "minor" }], [{ late: "major" }], ["latest"]], notes: [] },
  { shapes: ["zero"], tags: [[{ late: "version" }], [{ late: "major" }, ".", { late: "minor" }]], notes: [] },
  { shapes: ["prerelease"], tags: [[{ late: "version" }]], notes: [] },
];

type Spec = Omit<PreludeSpec, "shell" | "dir" | "variants" | "globals">;

/** Runs the prelude with sh in front of `command` (default: print the env it exports, one NAME=value\0 each). */
function run(spec: Spec, files: Record<string, string>, command: string[] = ["sh", "-c", 'env -0 > "$0"', "ENV"]) {
  const dir = join(work, `run-${runs++}`);
  spawnSync("mkdir", ["-p", dir]);
  for (const [name, value] of Object.entries(files)) writeFileSync(join(dir, name), value);
  const prelude = latePrelude({ shell: "sh", dir, variants: VARIANTS, globals: { "run-id": "{{workflow.uid}}" }, ...spec });
  const argv = command.map((a) => (a === "ENV" ? join(dir, "env.out") : a));
  const r = spawnSync("sh", ["-c", prelude, "step", ...argv], { cwd: dir, encoding: "utf8", env: { PATH: `${work}/bin:${process.env.PATH}` } });
  let env: Record<string, string> | undefined;
  try {
    const pairs = readFileSync(join(dir, "env.out"), "utf8").split("\0").filter(Boolean);
    env = Object.fromEntries(pairs.map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
  } catch {
    env = undefined;
  }
  return { status: r.status, stderr: r.stderr, env, dir, prelude };
}

const RESOLVED = { version: "1.2.3", major: "1", minor: "2", shape: "release", commit: "c0ffee", "commit-time": "1712345678" };

describe("the late-value prelude", () => {
  it("a value's literal parts are single-quoted words: quotes, $, backticks, braces and newlines reach the env as written", () => {
    const nasty = `it's "{{x}}" $(id) \`uname\` $HOME \\ \n ünï`;
    const r = run({ env: [{ name: "IMAGE_REF", value: [nasty, ":", { late: "version" }, "@", { late: "commit" }] }] }, RESOLVED);
    expect(r.env?.IMAGE_REF, r.stderr).toBe(`${nasty}:1.2.3@c0ffee`);
    expect(shellWord("a'b")).toBe(`'a'\\''b'`);
  });

  it("the tags are the variant of the version's shape", () => {
    const spec: Spec = { env: [{ name: "TAGS", value: [{ late: "tags" }] }] };
    expect(run(spec, RESOLVED).env?.TAGS).toBe("1.2.3 1.2 1 latest");
    expect(run(spec, { ...RESOLVED, version: "0.4.2", major: "0", minor: "4", shape: "zero" }).env?.TAGS).toBe("0.4.2 0.4");
    expect(run(spec, { ...RESOLVED, version: "1.0.0-rc.1", shape: "prerelease" }).env?.TAGS).toBe("1.0.0-rc.1");
  });

  it("Argo's own values stand in the text (substituted by Argo), single-quoted", () => {
    const r = run({ env: [{ name: "ID", value: ["run-", { late: "run-id" }, "-", { late: "version" }] }] }, RESOLVED);
    expect(r.prelude).toContain(`export ID='run-''{{workflow.uid}}''-'"$version"`);
  });

  it("the build report is read byte for byte, after the skip", () => {
    const report = join(work, "report.toml");
    writeFileSync(report, 'digest = "sha256:aa"\n\n');
    const spec: Spec = { env: [{ name: "REPORT", value: [{ late: "build-report" }] }], report, skipWhenPublished: true };
    expect(run(spec, { ...RESOLVED, outcome: "unpublished" }).env?.REPORT).toBe('digest = "sha256:aa"\n\n');
    // published: the step does nothing, and reads no report (the build did not run)
    const published = run({ ...spec, report: join(work, "missing.toml") }, { ...RESOLVED, outcome: "published" });
    expect(published.status, published.stderr).toBe(0);
    expect(published.env).toBeUndefined();
  });

  it("writes the pod's outputs before the skip (the main container's tags)", () => {
    const r = run({ env: [], write: { tags: "tags" }, skipWhenPublished: true }, { ...RESOLVED, outcome: "published" });
    expect(readFileSync(join(r.dir, "tags"), "utf8")).toBe("1.2.3 1.2 1 latest");
  });

  it("a missing file fails the step (set -eu), never an empty value", () => {
    const { commit: _c, ...withoutCommit } = RESOLVED;
    const r = run({ env: [{ name: "REV", value: [{ late: "commit" }] }] }, withoutCommit);
    expect(r.status).not.toBe(0);
    expect(r.env).toBeUndefined();
  });

  describe("the release's in-place retry", () => {
    // a sleep that does not wait, and a command that fails with the codes listed in a file, one per attempt
    spawnSync("mkdir", ["-p", `${work}/bin`]);
    writeFileSync(`${work}/bin/sleep`, '#!/bin/sh\necho "slept $1" >&2\n');
    chmodSync(`${work}/bin/sleep`, 0o755);
    const flaky = (codes: number[]) => {
      const file = join(work, `codes-${runs}`);
      writeFileSync(file, `${codes.join("\n")}\n`);
      return [
        "sh",
        "-c",
        `i=$(cat "$0.n" 2>/dev/null || echo 0); i=$((i + 1)); echo "$i" > "$0.n"; code=$(sed -n "\${i}p" "$0"); exit "\${code:-0}"`,
        file,
      ];
    };
    const spec: Spec = { env: [], retry: { codes: [1], limit: 2 } };

    it("re-runs a transient failure after 10 s, then 20 s, and succeeds", () => {
      const r = run(spec, RESOLVED, flaky([1, 1, 0]));
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toContain("slept 10");
      expect(r.stderr).toContain("slept 20");
    });

    it("gives up after the limit with the last exit code", () => {
      expect(run(spec, RESOLVED, flaky([1, 1, 1, 0])).status).toBe(1);
    });

    it("never re-runs another exit code (refused credentials, a version taken)", () => {
      const r = run(spec, RESOLVED, flaky([4, 0]));
      expect(r.status).toBe(4);
      expect(r.stderr).not.toContain("slept");
    });
  });
});
