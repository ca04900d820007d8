/**
 * findPackageVersion (src/cli/package-version.ts): the walk up from a directory to the package.json of a named
 * package, shared by `packline --version` and the Dagger SDK's version (the CLI packline downloads).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { sdkDaggerVersion } from "../../src/cli/engine.js";
import { findPackageVersion } from "../../src/cli/package-version.js";

const tmp = mkdtempSync(join(tmpdir(), "packline-package-version-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
// A name no package.json above the temporary directory can have.
const NAME = `packline-test-${process.pid}-${Date.now()}`;

function packageJson(dir: string, contents: Record<string, unknown>): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify(contents));
}

describe("findPackageVersion", () => {
  it("takes the nearest package.json of that name, passing over others and ones without a version", () => {
    const root = join(tmp, "pkg");
    packageJson(root, { name: NAME, version: "1.2.3" });
    packageJson(join(root, "dist"), { name: NAME }); // the name, no version: not it
    packageJson(join(root, "dist", "src"), { type: "module" }); // no name: not it
    const start = join(root, "dist", "src", "cli");
    mkdirSync(start, { recursive: true });
    expect(findPackageVersion(start, NAME)).toBe("1.2.3");
    expect(findPackageVersion(root, NAME)).toBe("1.2.3");

    packageJson(join(root, "dist", "src"), { name: NAME, version: "4.5.6" }); // now the nearest
    expect(findPackageVersion(start, NAME)).toBe("4.5.6");
  });

  it("is undefined when no package.json of that name is found up to the root", () => {
    const start = join(tmp, "none", "a", "b");
    packageJson(join(tmp, "none"), { name: "something-else", version: "9.9.9" });
    mkdirSync(start, { recursive: true });
    expect(findPackageVersion(start, NAME)).toBeUndefined();
  });

  it("finds packline's own version and the Dagger SDK's from where the CLI looks", () => {
    const own = JSON.parse(readFileSync(fileURLToPath(new URL("../../package.json", import.meta.url)), "utf8")) as { version: string };
    expect(findPackageVersion(fileURLToPath(new URL("../../src/cli", import.meta.url)), "packline")).toBe(own.version);
    const sdkEntry = createRequire(import.meta.url).resolve("@dagger.io/dagger");
    const sdk = JSON.parse(readFileSync(join(dirname(sdkEntry), "..", "..", "package.json"), "utf8")) as { name: string; version: string };
    expect(sdk.name).toBe("@dagger.io/dagger");
    expect(sdkDaggerVersion()).toBe(sdk.version);
  });
});
