/**
 * The `packline` command line generated from the option table: every option is a flag of the commands that take
 * it, with the table's help and defaults; `plan` (text and --json), `tags`, `argo` (stdout and -o), `--version`.
 * No engine is involved in any of these.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Option } from "commander";
import { afterAll, describe, expect, it } from "vitest";
import { exportArgo } from "../../src/backends/argo/export.js";
import { planText } from "../../src/backends/text/plan-text.js";
import { createProgram } from "../../src/cli/program.js";
import { describeLocalSource, localSource } from "../../src/cli/source-dir.js";
import { type CommandName, flagOf, helpOf, optionsOf } from "../../src/core/options/table.js";
import { validateBuild } from "../../src/core/options/validate.js";
import { planBuild } from "../../src/core/plan/planner.js";
import { cli } from "./io.js";

const IMAGE = "registry.example.com/acme/app";
const REPO = "https://github.com/acme/app";
const TOKEN = "tok-3Fv-not-real";
const COMMANDS: readonly CommandName[] = ["plan", "argo", "build"];

const tmp = mkdtempSync(join(tmpdir(), "packline-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const command = (name: string) => createProgram().commands.find((c) => c.name() === name)!;

describe("the CLI is generated from the option table", () => {
  it.each(COMMANDS)("%s has exactly one flag per option of the table, with its help, default and requiredness", (name) => {
    const options = new Map(command(name).options.map((o: Option) => [o.long!, o]));
    const table = optionsOf(name, "cli");
    expect([...options.keys()].sort()).toEqual(table.map((o) => flagOf(o.name)).sort());
    for (const spec of table) {
      const option = options.get(flagOf(spec.name))!;
      const required = spec.requiredFor?.includes(name) ?? false;
      expect([spec.name, option.description]).toEqual([spec.name, helpOf(spec, name) + (required ? " (required)" : "")]);
      expect([spec.name, option.mandatory]).toEqual([spec.name, required]);
      expect([spec.name, option.short]).toEqual([spec.name, spec.short]);
      expect([spec.name, option.isBoolean()]).toEqual([spec.name, spec.kind === "boolean"]);
      if (spec.kind !== "boolean" && spec.kind !== "strings") expect([spec.name, option.defaultValue]).toEqual([spec.name, spec.default]);
    }
  });

  it.each(COMMANDS)("packline %s --help marks required options as required, and only them", async (name) => {
    const { code, stdout } = await cli([name, "--help"]);
    expect(code).toBe(0);
    // Commander wraps lines at spaces only: collapsing whitespace gives back each option's text.
    const help = stdout.replace(/\s+/g, " ");
    const required: string[] = [];
    for (const spec of optionsOf(name, "cli")) {
      const term = `${spec.short ? `${spec.short}, ` : ""}${flagOf(spec.name)}${spec.kind === "boolean" ? "" : ` <${spec.placeholder}>`}`;
      const text = `${term} ${helpOf(spec, name)}`;
      expect(help).toContain(text);
      if (help.includes(`${text} (required)`)) required.push(spec.name);
    }
    expect(required).toEqual(name === "argo" ? ["repo", "image"] : ["tag"]);
  });

  it("--version prints packline's version from package.json", async () => {
    const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    expect(await cli(["--version"])).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
    expect((await cli(["-V"])).stdout).toBe(`${version}\n`);
  });

  it("a missing required option or an unknown flag is a usage error (exit 2)", async () => {
    const missing = await cli(["plan"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option '--tag <version>' not specified");
    expect((await cli(["plan", "--tag", "v1.0.0", "--no-such-flag"])).code).toBe(2);
  });
});

describe("packline plan", () => {
  it("prints the plan as text, what the text backend makes of it", async () => {
    const { code, stdout, stderr } = await cli(["plan", "--tag", "v1.2.3", "--image", IMAGE, "--floating-tags"]);
    expect([code, stderr]).toEqual([0, ""]);
    const local = describeLocalSource(localSource(undefined, process.cwd(), {}));
    expect(stdout).toBe(planText(planBuild(validateBuild("plan", { tag: "v1.2.3", image: IMAGE, floatingTags: true })), {}, local));
    expect(stdout).toContain(`publishes  ${IMAGE}:1.2.3\n           ${IMAGE}:1.2\n           ${IMAGE}:1\n`);
  });

  it("--json prints the plan and where the secret comes from, never its value", async () => {
    const args = ["plan", "--json", "--tag", "v1.0.0", "--image", IMAGE, "--registry-username", "me", "--registry-password", "env:TOKEN"];
    const { code, stdout, stderr } = await cli(args, { TOKEN });
    expect([code, stderr]).toEqual([0, ""]);
    expect(stdout).not.toContain(TOKEN);
    const json = JSON.parse(stdout) as Record<string, unknown>;
    const plan = planBuild(validateBuild("plan", { tag: "v1.0.0", image: IMAGE, registryUsername: "me", registryPassword: true }));
    expect(json).toEqual({
      ...JSON.parse(JSON.stringify(plan)),
      secretSources: { "registry-password": "env:TOKEN" },
      sourceDirectory: realpathSync(process.cwd()),
    });
    expect(json.registryAuth).toEqual({ kind: "password", registry: "registry.example.com", username: "me" });
  });

  it("refuses --source that does not exist, or is a file, naming it", async () => {
    const missing = await cli(["plan", "--tag", "v1.0.0", "--source", "/nonexistent/dir"]);
    expect(missing).toEqual({
      code: 1,
      stdout: "",
      stderr: 'packline: --source "/nonexistent/dir" does not exist: give the directory to build (e.g. --source .).\n',
    });
    const file = join(tmp, "a-file");
    writeFileSync(file, "x");
    expect((await cli(["plan", "--tag", "v1.0.0", "--source", file])).stderr).toBe(
      `packline: --source ${JSON.stringify(file)} is not a directory: give the directory to build.\n`,
    );
  });

  it("refuses a literal password without echoing it", async () => {
    const { code, stdout, stderr } = await cli([
      "plan",
      "--tag",
      "v1.0.0",
      "--image",
      IMAGE,
      "--registry-username",
      "me",
      "--registry-password",
      TOKEN,
    ]);
    expect(code).toBe(1);
    expect(stderr).toContain("--registry-password takes a secret by reference, not a literal value");
    expect(stdout + stderr).not.toContain(TOKEN);
  });
});

describe("packline tags", () => {
  it("prints the tags of a version, one a line", async () => {
    expect(await cli(["tags", "v1.2.3", "--floating-tags", "--latest"])).toEqual({ code: 0, stdout: "1.2.3\n1.2\n1\nlatest\n", stderr: "" });
    expect(await cli(["tags", "0.4.2", "--floating-tags"])).toEqual({
      code: 0,
      stdout: "0.4.2\n0.4\n",
      stderr: 'note: no "0" tag: a 0.x major version promises no compatibility\n',
    });
    const rc = await cli(["tags", "1.2.3-rc.1", "--floating-tags", "--latest"]);
    expect(rc.stdout).toBe("1.2.3-rc.1\n");
    expect(rc.stderr).toBe("note: floating tags skipped: a prerelease never moves them\nnote: latest skipped: a prerelease never moves it\n");
  });

  it('says version "1.0", not --tag: no flag was given', async () => {
    const { code, stdout, stderr } = await cli(["tags", "1.0"]);
    expect([code, stdout]).toEqual([1, ""]);
    expect(stderr).toMatch(/^packline: version "1\.0" is not a semantic version: give MAJOR\.MINOR\.PATCH/);
    expect(stderr).not.toContain("--tag");
    expect((await cli(["tags", "1.2.3+build.5"])).stderr).toMatch(/^packline: version "1\.2\.3\+build\.5" has build metadata/);
  });
});

describe("packline argo", () => {
  const args = ["argo", "--repo", REPO, "--image", IMAGE, "--registry-secret", "regcred", "--tag", "v1.2.3", "--env", "A=1", "--env", "B=2"];
  const expected = exportArgo({ repo: REPO, image: IMAGE, registrySecret: "regcred", tag: "v1.2.3", env: ["A=1", "B=2"] }).yaml;

  it("prints the YAML the Argo backend renders, repeatable options in order", async () => {
    expect(await cli(args)).toEqual({ code: 0, stdout: expected, stderr: "" });
  });

  it("-o writes the file whole, leaving no temporary file beside it", async () => {
    const dir = mkdtempSync(join(tmp, "out-"));
    const file = join(dir, "build.yaml");
    writeFileSync(file, "old contents\n");
    expect(await cli([...args, "-o", file])).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(readFileSync(file, "utf8")).toBe(
      exportArgo({ repo: REPO, image: IMAGE, registrySecret: "regcred", tag: "v1.2.3", env: ["A=1", "B=2"] }, { file }).yaml,
    ); // the header names the file
    expect(readdirSync(dir)).toEqual(["build.yaml"]);
  });

  it("-o into a directory that does not exist fails naming the file, and writes nothing", async () => {
    const file = join(tmp, "no-such-dir", "build.yaml");
    const { code, stdout, stderr } = await cli([...args, "--output", file]);
    expect([code, stdout]).toEqual([1, ""]);
    expect(stderr).toBe(
      `packline: -o ${JSON.stringify(file)}: could not write the file (ENOENT); nothing was written: check the directory exists, is writable and has space.\n`,
    );
    expect(existsSync(join(tmp, "no-such-dir"))).toBe(false);
  });

  it("bad input writes nothing, even with -o", async () => {
    const file = join(tmp, "never.yaml");
    const { code, stderr } = await cli(["argo", "--repo", REPO, "--image", IMAGE, "--kind", "cron", "-o", file]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^packline: --kind "cron" does not exist/);
    expect(existsSync(file)).toBe(false);
  });

  it("warns on stderr about the pack executor's privileged pod", async () => {
    const { code, stdout, stderr } = await cli(["argo", "--repo", REPO, "--image", IMAGE, "--executor", "pack"]);
    expect(code).toBe(0);
    expect(stdout).toBe(exportArgo({ repo: REPO, image: IMAGE, executor: "pack" }).yaml);
    expect(stderr).toMatch(/^packline: warning: --executor pack mounts the node's Docker socket into a privileged pod/);
  });
});
