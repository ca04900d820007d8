/**
 * This repository loaded as a Dagger TypeScript module by the lab's engine, the way `dagger call` loads it for a
 * user (issue 12): the engine's built-in TypeScript SDK (test/lab/engine/sdk-content.sh) compiles its Go runtime,
 * introspects src/ with the ts-introspector, installs the module's dependencies with npm (from the lab's npm
 * registry) in the node image, and runs it. Infrastructure-level checks: `dagger functions` and `dagger call argo`;
 * the `dagger call build` chain is written on top of these helpers.
 *
 * Module load times are printed ("module load: ..."): the first load on a fresh engine compiles the runtime (cold),
 * later ones reuse the engine's cache (warm).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APPS_REGISTRY, engine, moduleCopy, REPO_ROOT, removeDir, runDagger, runPackline } from "./engine.js";

const argoArgs = ["--repo", "https://example.invalid/acme/app", "--image", `${APPS_REGISTRY}/acme/app`];

describe("this repository as a Dagger module (dagger functions, dagger call)", () => {
  let mod = "";
  const timings: string[] = [];

  beforeAll(async () => {
    if (!engine().modules) {
      throw new Error("the engine has no built-in SDK content (PACKLINE_ENGINE_MODULES=0?): TypeScript modules cannot load");
    }
    mod = await moduleCopy();
  });
  afterAll(() => {
    if (mod) removeDir(mod);
    if (timings.length) console.log(`module load: ${timings.join("; ")}`);
  });

  it("lists build and argo with their descriptions (dagger functions), first load then a repeat", async () => {
    const first = await runDagger(["functions"], { cwd: mod });
    expect(first.code, first.stderr.slice(-3000)).toBe(0);
    expect(first.stdout).toMatch(/^build\s+Build the source/m);
    expect(first.stdout).toMatch(/^argo\s+The same build as an Argo Workflows manifest/m);
    const again = await runDagger(["functions"], { cwd: mod });
    expect(again.code, again.stderr.slice(-3000)).toBe(0);
    expect(again.stdout).toBe(first.stdout);
    timings.push(`dagger functions ${(first.ms / 1000).toFixed(1)} s first, ${(again.ms / 1000).toFixed(1)} s again`);
  });

  it("shows the shared settings with the CLI's names (dagger call --help), and build only its own (dagger call build --help)", async () => {
    const settings = await runDagger(["call", "--help"], { cwd: mod });
    expect(settings.code, settings.stderr.slice(-3000)).toBe(0);
    for (const flag of ["--image", "--registry-username", "--registry-password", "--creation-time", "--insecure-registry", "--run-image"]) {
      expect(settings.stdout).toContain(flag);
    }
    const help = await runDagger(["call", "build", "--help"], { cwd: mod });
    expect(help.code, help.stderr.slice(-3000)).toBe(0);
    // Its arguments (the flags listed at the start of a line; its description may name others): the tag only.
    const listed = (text: string) => [...text.matchAll(/^ {2,8}(--[a-z-]+)\b/gm)].map((m) => m[1]);
    expect(listed(help.stdout)).toEqual(["--tag"]);
    expect(listed(settings.stdout)).toEqual(expect.arrayContaining(["--image", "--run-image", "--registry-password", "--source"]));
    expect(listed(settings.stdout)).not.toContain("--tag");
  });

  it("prints the same WorkflowTemplate as packline argo (dagger call ... argo contents)", async () => {
    const called = await runDagger(["call", ...argoArgs, "argo", "contents"], { cwd: mod });
    expect(called.code, called.stderr.slice(-3000)).toBe(0);
    timings.push(`dagger call ... argo contents ${(called.ms / 1000).toFixed(1)} s`);
    const local = await runPackline(["argo", ...argoArgs], { root: mod });
    expect(local.code, local.stderr).toBe(0);
    expect(called.stdout).toContain("kind: WorkflowTemplate");
    expect(called.stdout.trimEnd()).toBe(local.stdout.trimEnd());
  });

  // The module cannot know where on the host Dagger exports the file, so its header is the one `packline argo` prints
  // on stdout ("saved as build.yaml"); `-o PATH` names PATH in the header and is otherwise the same YAML.
  it("writes the YAML packline argo prints, and packline argo -o differs only in the header's file name (dagger call ... argo export --path)", async () => {
    const called = await runDagger(["call", ...argoArgs, "argo", "export", "--path", "build.yaml"], { cwd: mod });
    expect(called.code, called.stderr.slice(-3000)).toBe(0);
    const printed = await runPackline(["argo", ...argoArgs], { root: mod });
    expect(printed.code, printed.stderr).toBe(0);
    const exported = readFileSync(join(mod, "build.yaml"), "utf8");
    expect(exported.trimEnd()).toBe(printed.stdout.trimEnd());
    const local = await runPackline(["argo", ...argoArgs, "-o", join(mod, "local.yaml")], { root: mod });
    expect(local.code, local.stderr).toBe(0);
    const withoutSubmitLine = (yaml: string) =>
      yaml
        .split("\n")
        .filter((line) => !line.startsWith("# Submit"))
        .join("\n");
    expect(withoutSubmitLine(readFileSync(join(mod, "local.yaml"), "utf8"))).toBe(withoutSubmitLine(exported));
  });

  it("takes enumeration values as README spells them for dagger call, and renders them as packline argo does", async () => {
    // Dagger names enum values in capitals and matches them in any case with `_` (not `-`): README says so
    const enums = ["--kind", "workflow", "--executor", "pack", "--pod-gc"];
    const called = await runDagger(["call", ...argoArgs, "argo", ...enums, "on_pod_completion", "contents"], { cwd: mod });
    expect(called.code, called.stderr.slice(-3000)).toBe(0);
    const local = await runPackline(["argo", ...argoArgs, ...enums, "OnPodCompletion"], { root: mod });
    expect(local.code, local.stderr).toBe(0);
    expect(called.stdout).toMatch(/^kind: Workflow$/m);
    expect(called.stdout).toContain("strategy: OnPodCompletion");
    expect(called.stdout).toContain("image: buildpacksio/pack:");
    expect(called.stdout.trimEnd()).toBe(local.stdout.trimEnd());
    const dashed = await runDagger(["call", ...argoArgs, "argo", "--pod-gc", "on-pod-completion", "contents"], { cwd: mod });
    expect(dashed.code).not.toBe(0);
    expect(dashed.stderr).toContain("ON_POD_COMPLETION");
  });

  it("got every npm package the module container asked for from the lab's npm registry", (ctx) => {
    const log = engine().npmRegistryLog;
    if (!log) {
      // an engine given by the caller brings its own npm access: there is no log of ours to read
      ctx.skip("the engine was given by the caller (no lab npm registry)");
      return;
    }
    expect(existsSync(log)).toBe(true);
    const text = readFileSync(log, "utf8");
    // the module's own typescript (package-lock.json's), which the SDK library the engine bundles imports at run time
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, "package-lock.json"), "utf8"));
    expect(text).toContain(`GET /typescript/-/typescript-${lock.packages["node_modules/typescript"].version}.tgz 200`);
    expect(text.split("\n").filter((l) => l.includes("MISSING"))).toEqual([]);
  });
});
