/**
 * What the Dagger engine's TypeScript runtime needs from package.json, so that a user's first `dagger call` loads
 * the module (issue 12): it installs only `dependencies` (npm install --omit=dev), and the SDK it bundles imports
 * `typescript` at run time. With `typescript` only a devDependency the module fails with ERR_MODULE_NOT_FOUND; with
 * the exact string "5.9.3" the runtime mounts its own copy at node_modules/typescript and npm then fails with EBUSY.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
const lock = JSON.parse(readFileSync(new URL("../../package-lock.json", import.meta.url), "utf8"));

describe("package.json for the Dagger module runtime", () => {
  it("typescript is a runtime dependency, 5.9.x, under a range other than the runtime's own exact string", () => {
    expect(pkg.dependencies.typescript).toBeDefined();
    expect(pkg.dependencies.typescript).not.toBe("5.9.3");
    expect(pkg.dependencies.typescript).toMatch(/^[~^]5\.9\.\d+$/);
    expect(pkg.devDependencies?.typescript).toBeUndefined();
  });

  it("the lock agrees: the root lists it as a dependency and the installed copy is not marked dev", () => {
    expect(lock.packages[""].dependencies.typescript).toBe(pkg.dependencies.typescript);
    expect(lock.packages["node_modules/typescript"].version).toMatch(/^5\.9\./);
    expect(lock.packages["node_modules/typescript"].dev).not.toBe(true);
  });

  it("the engine's runtime is pinned (node 24) and the SDK is a dependency the CLI needs", () => {
    expect(pkg.dagger.runtime).toBe("node@24");
    expect(pkg.dependencies["@dagger.io/dagger"]).toBeDefined();
  });
});
