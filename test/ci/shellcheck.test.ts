/**
 * Every script packline embeds goes through shellcheck: the cluster's own (source, version, builder user, the
 * late-value preludes) and the plan's (check, release, the creator's wrapper), as they stand in every
 * exported workflow of the Argo variants
 * (with the `$$` Kubernetes turns back into `$`) and in the plans the engine runs. POSIX sh, every severity.
 * Without shellcheck elsewhere, it says so and these tests do not run; under CI=true that is a failure (`.ci/run`
 * installs Debian's shellcheck before npm test).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { validateRebase } from "../../src/core/options/rebase.js";
import { validateBuild } from "../../src/core/options/validate.js";
import { planBuild } from "../../src/core/plan/planner.js";
import { planRebase } from "../../src/core/plan/rebase.js";
import { literal } from "../../src/core/plan/text.js";
import { argoVariants, containersOf, renderVariant } from "../support/argo-variants.js";
import { findShell } from "../support/shells.js";

const shellcheck = findShell("shellcheck", "test/ci/shellcheck.test.ts", "the shellcheck tests of the embedded scripts");

/**
 * The scripts of an argv that runs `sh -c SCRIPT` (any sh): one, or two when a late-value prelude runs the step's own
 * `sh -c SCRIPT` (src/backends/argo/late-prelude.ts).
 */
function scriptsOf(argv: readonly string[]): string[] {
  return argv.flatMap((arg, i) => (arg === "-c" && i >= 1 && /(^|\/)sh$/.test(argv[i - 1]!) && argv[i + 1] !== undefined ? [argv[i + 1]!] : []));
}

/** Each distinct script, with every place it stands. */
function embeddedScripts(): Map<string, string[]> {
  const scripts = new Map<string, string[]>();
  const add = (script: string, where: string) => scripts.set(script, [...(scripts.get(script) ?? []), where]);
  for (const variant of argoVariants()) {
    for (const { template, container } of containersOf(renderVariant(variant).document)) {
      const scripts = scriptsOf([...(container.command ?? []), ...(container.args ?? [])]);
      // Kubernetes' expansion turns the exporter's $$ back into $ (test/backends/argo/expansion.test.ts).
      scripts.forEach((script, i) => {
        const where = `argo ${variant.name}: ${template}/${container.name ?? "main"}${scripts.length > 1 && i === 0 ? " (prelude)" : ""}`;
        add(script.replace(/\$\$/g, "$"), where);
      });
    }
  }
  for (const raw of [{}, { repo: "https://github.com/acme/app", image: "registry.example.com/acme/app" }]) {
    const plan = planBuild(validateBuild("build", { tag: "v1.2.3", ...raw }));
    for (const step of Object.values(plan.steps)) {
      for (const script of scriptsOf([...step.command, ...step.args].map((t) => literal(t) ?? ""))) add(script, `plan: ${step.name}`);
    }
  }
  const rebase = planRebase(validateRebase({ tag: "v1.2.3", image: "registry.example.com/acme/app" }));
  for (const step of Object.values(rebase.steps)) {
    for (const script of scriptsOf([...step.command, ...step.args].map((t) => literal(t) ?? ""))) add(script, `rebase plan: ${step.name}`);
  }
  return scripts;
}

function check(script: string): { ok: boolean; output: string } {
  const r = spawnSync(shellcheck!, ["--shell=sh", "--severity=style", "--format=gcc", "-"], { input: script, encoding: "utf8" });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

describe.runIf(shellcheck !== undefined)("shellcheck over every embedded script", () => {
  const scripts = embeddedScripts();

  it("finds the cluster's and the plan's scripts", () => {
    const where = [...scripts.values()].flat().join("\n");
    for (const name of [
      "build/source",
      "builder-user/version",
      "builder-user/main",
      "build/check (prelude)",
      "build/check",
      "build/build (prelude)",
      "build/main (prelude)",
      "build/main",
      "plan: check",
      "plan: release",
      "rebase plan: check",
      "rebase plan: rebase",
      "rebase plan: release",
    ]) {
      expect(where).toContain(name);
    }
    console.log(`shellcheck: ${scripts.size} distinct scripts, ${execFileSync(shellcheck!, ["--version"], { encoding: "utf8" }).split("\n")[1]}`);
  });

  it("every one passes (POSIX sh, every severity)", () => {
    const failures = [...scripts].map(([script, where]) => ({ where: where[0], ...check(script) })).filter((r) => !r.ok);
    expect(failures.map((f) => `${f.where}:\n${f.output}`).join("\n")).toBe("");
  });

  it("control: shellcheck refuses an unquoted expansion, so the check can fail", () => {
    const r = check("set -eu\nrm -rf $PACKLINE_DIR/x\n");
    expect(r.ok).toBe(false);
    expect(r.output).toContain("SC2086");
  });
});
