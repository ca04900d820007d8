/**
 * Issue 18, item 17: what `plan` says it would upload, `build` run from / or the home directory, and the exported
 * YAML's submit command.
 * - plan names the absolute directory a build would upload (it said "local directory (--source, or the context
 *   directory)");
 * - without --source, plan and build refuse / and the home directory (and any directory above it), before anything
 *   runs, and name the fix; --source naming them is taken;
 * - the YAML's header names the -o path, not always build.yaml.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { describeLocalSource, localSource } from "../../src/cli/source-dir.js";
import { cli } from "./io.js";

const BIN = fileURLToPath(new URL("../../bin/packline.js", import.meta.url));
const tmp = realpathSync(mkdtempSync(join(tmpdir(), "packline-source-dir-")));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const home = join(tmp, "home", "me");
const project = join(home, "app");
mkdirSync(project, { recursive: true });

/** The real CLI, in `cwd`, with HOME=home. */
function packline(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8", env: { PATH: process.env.PATH, HOME: home } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("plan names the directory a build uploads", () => {
  it("the current directory, absolute, and what is left out", () => {
    const r = packline(project, "plan", "--tag", "1.2.3");
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain(
      `\nsource     local directory ${project} (the current directory; --source names another), without .git, any node_modules, .dagger and sdk\n`,
    );
    expect(r.stdout).not.toContain("(--source, or the context directory)");
  });

  it("--source, made absolute; and --json has it as sourceDirectory", () => {
    expect(packline(home, "plan", "--tag", "1.2.3", "--source", "app").stdout).toContain(
      `\nsource     local directory ${project} (--source), without`,
    );
    expect(JSON.parse(packline(project, "plan", "--tag", "1.2.3", "--json").stdout).sourceDirectory).toBe(project);
  });
});

describe("without --source, / and the home directory are refused", () => {
  it.each([
    ["/", "the root of the file system"],
    [home, "your home directory"],
    [join(tmp, "home"), `above your home directory (${home})`],
  ])("from %s: plan and build refuse before anything runs, and say how to go on", (cwd, what) => {
    for (const command of ["plan", "build"]) {
      const r = packline(cwd, command, "--tag", "1.2.3");
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe(
        `packline: without --source, packline builds the current directory, "${cwd}", which is ${what}: it would upload all of it to the engine. Run packline in the project's directory, or name the directory with --source (e.g. --source ./app; --source ${cwd} if you mean it).\n`,
      );
    }
  });

  it("--source naming them is taken, and so is a build of a cloned --repo", () => {
    expect(packline("/", "plan", "--tag", "1.2.3", "--source", "/").stdout).toContain("source     local directory / (--source)");
    expect(packline(home, "plan", "--tag", "1.2.3", "--source", ".").code).toBe(0);
    expect(packline("/", "plan", "--tag", "1.2.3", "--repo", "https://github.com/acme/app").stdout).toContain(
      "source     git https://github.com/acme/app",
    );
  });

  it("localSource: the same rules, HOME from the environment", () => {
    expect(() => localSource(undefined, "/", {})).toThrow(/the root of the file system/);
    expect(() => localSource(undefined, home, { HOME: home })).toThrow(/your home directory/);
    expect(localSource(undefined, project, { HOME: home })).toEqual({ dir: project, given: false });
    expect(describeLocalSource({ dir: "/src", given: true })).toBe(
      "local directory /src (--source), without .git, any node_modules, .dagger and sdk",
    );
  });
});

describe("the exported YAML's header names the -o path", () => {
  const ARGO = ["argo", "--repo", "https://github.com/acme/app", "--image", "registry.example.com/acme/app"];
  it.each([
    ["plain.yaml", "plain.yaml"],
    ["with space's.yaml", `'${join(tmp, "with space's.yaml").replace(/'/g, "'\\''")}'`],
  ])("-o %s", async (name, shown) => {
    const file = join(tmp, name);
    const r = await cli([...ARGO, "-o", file]);
    expect(r.code, r.stderr).toBe(0);
    const expected = shown === "plain.yaml" ? file : shown;
    expect(readFileSync(file, "utf8").split("\n")[2]).toBe(
      `# Submit: kubectl apply -f ${expected} && argo submit --from workflowtemplate/packline-app -p tag=v1.2.3`,
    );
  });

  it("a Workflow's header names it for argo submit; stdout and -o - say to save it as build.yaml", async () => {
    const file = join(tmp, "wf.yaml");
    await cli([...ARGO, "--kind", "workflow", "-o", file]);
    expect(readFileSync(file, "utf8").split("\n")[2]).toBe(`# Submit: argo submit ${file} -p tag=v1.2.3`);
    for (const args of [ARGO, [...ARGO, "-o", "-"]]) {
      expect((await cli(args)).stdout.split("\n")[2]).toBe(
        "# Submit (with this YAML saved as build.yaml): kubectl apply -f build.yaml && argo submit --from workflowtemplate/packline-app -p tag=v1.2.3",
      );
    }
  });

  it("a path with a line break cannot end the comment and put text into the YAML", async () => {
    const file = join(tmp, "a\nkind: Evil.yaml");
    await cli([...ARGO, "-o", file]);
    const text = readFileSync(file, "utf8");
    expect(text.split("\n")[2]).toBe(
      "# Submit (with this YAML saved as build.yaml): kubectl apply -f build.yaml && argo submit --from workflowtemplate/packline-app -p tag=v1.2.3",
    );
    expect(text).not.toContain("Evil");
  });
});
