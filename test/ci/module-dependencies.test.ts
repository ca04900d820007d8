/**
 * What the Dagger engine's TypeScript runtime needs from package.json, so that a user's first `dagger call` loads
 * the module (issue 12), and what keeps that first load and a consumer's install small (issue 17). The runtime
 * (sdk/typescript/runtime of the engine's source) removes @dagger.io/dagger from package.json (the module uses the
 * SDK library the engine bundles), installs only `dependencies` (npm install --omit=dev), and that bundled library
 * imports `typescript` at run time. A name in both dependencies and devDependencies is installed as dev, so with
 * `typescript` a devDependency the module fails with ERR_MODULE_NOT_FOUND; with the exact string "5.9.3" the runtime
 * mounts its own copy at node_modules/typescript and npm then fails with EBUSY.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
const lock = JSON.parse(readFileSync(new URL("../../package-lock.json", import.meta.url), "utf8"));
const src = fileURLToPath(new URL("../../src", import.meta.url));
const sdkLock = lock.packages["node_modules/@dagger.io/dagger"];

describe("package.json for the Dagger module runtime", () => {
  it("typescript is a runtime dependency, under the SDK's own range, never the runtime's exact string", () => {
    expect(pkg.dependencies.typescript).toBeDefined();
    expect(pkg.dependencies.typescript).not.toBe("5.9.3");
    // the SDK's range: one TypeScript in a consumer's node_modules, not the SDK's nested beside packline's
    expect(pkg.dependencies.typescript).toBe(sdkLock.dependencies.typescript);
    expect(pkg.devDependencies?.typescript).toBeUndefined();
  });

  it("the lock agrees: one typescript, a dependency, not marked dev, none nested under the SDK", () => {
    expect(lock.packages[""].dependencies.typescript).toBe(pkg.dependencies.typescript);
    expect(lock.packages["node_modules/typescript"].dev).not.toBe(true);
    expect(Object.keys(lock.packages).filter((p) => /(^|\/)node_modules\/typescript$/.test(p))).toEqual(["node_modules/typescript"]);
  });

  it("the engine runs the module on its own digest-pinned node image (no dagger.runtime), and the SDK is a dependency the CLI needs", () => {
    // "runtime": "node@24" named the floating node:24-alpine: a first load pulls whatever that tag is, and whenever its
    // npm is not the runtime's (11.8.0 for engine 0.21.9) the runtime first runs npm install -g npm@11.8.0.
    expect(pkg.dagger).toBeUndefined();
    expect(pkg.dependencies["@dagger.io/dagger"]).toBeDefined();
  });

  it("runtime dependencies are what src/ imports (type-only imports aside) and typescript: each is installed on every user's first dagger call", () => {
    const imported = new Set<string>();
    for (const file of readdirSync(src, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"))) {
      const text = readFileSync(join(src, file), "utf8");
      for (const m of text.matchAll(
        /^\s*(?:import|export)\s+(type\s+)?[^"']*?from\s+["']([^"'./][^"']*)["']|import\(\s*["']([^"'./][^"']*)["']\s*\)/gm,
      )) {
        const spec = m[2] ?? m[3]!;
        if (m[1] || spec.startsWith("node:")) continue;
        imported.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!);
      }
    }
    expect(Object.keys(pkg.dependencies).sort()).toEqual([...imported, "typescript"].sort());
  });
});
