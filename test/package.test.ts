/**
 * What `npx packline` runs: the compiled dist/ that `npm pack` ships (prepack builds it), through bin/packline.js.
 * Built here into a temporary directory so the test never depends on a stale dist/.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = new URL("..", import.meta.url).pathname;
const copy = mkdtempSync(join(tmpdir(), "packline-package-"));
afterAll(() => rmSync(copy, { recursive: true, force: true }));

describe("the published package", () => {
  it("builds with tsconfig.build.json and its bin runs from dist/ without tsx", () => {
    for (const entry of ["bin", "src", "package.json", "tsconfig.json", "tsconfig.build.json"]) cpSync(join(root, entry), join(copy, entry), { recursive: true });
    symlinkSync(join(root, "node_modules"), join(copy, "node_modules"));
    execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], { cwd: copy, stdio: "pipe" });
    // Without src/, the bin cannot fall back to tsx: what runs is dist/.
    rmSync(join(copy, "src"), { recursive: true });
    const out = execFileSync(process.execPath, [join(copy, "bin/packline.js"), "tags", "v1.4.2", "--floating-tags"], { encoding: "utf8" });
    expect(out).toBe("1.4.2\n1.4\n1\n");
  }, 120_000);

  it("ships bin/ and dist/src/ and declares the runtime dependencies the CLI imports", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    expect(pkg.files).toEqual(["bin/", "dist/src/", "README.md"]);
    expect(pkg.bin).toEqual({ packline: "bin/packline.js" });
    expect(Object.keys(pkg.dependencies).sort()).toEqual(["@dagger.io/dagger", "commander", "semver", "yaml"]);
    expect(pkg.scripts.prepack).toBe("npm run build");
  });
});
