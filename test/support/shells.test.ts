/**
 * The test count must not silently depend on the machine (issue 18, item 20): a missing busybox or dash is printed
 * elsewhere and fails the run under CI=true, and .ci/run installs both before npm test.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { findShell, SHELL_PACKAGES } from "./shells.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

describe("findShell", () => {
  it("returns the first candidate that exists", () => {
    expect(findShell("dash", "t", "x", { candidates: ["/nonexistent/dash", "/bin/sh"], env: { CI: "true" } })).toBe("/bin/sh");
  });

  it("under CI=true, fails when the shell is missing, naming it and the package to install", () => {
    expect(() => findShell("busybox", "version-script", "the busybox runs", { candidates: ["/nonexistent/busybox"], env: { CI: "true" } })).toThrow(
      /^version-script: no busybox on this machine \(looked for \/nonexistent\/busybox\), and CI=true, .*: apt-get install busybox-static before npm test/,
    );
  });

  it("elsewhere, prints who leaves out which tests and how to get the shell", () => {
    const lines: string[] = [];
    expect(findShell("dash", "version-script", "the dash runs", { candidates: ["/nonexistent/dash"], env: {}, log: (l) => lines.push(l) })).toBe(
      undefined,
    );
    expect(lines).toEqual([
      "version-script: no dash on this machine (/nonexistent/dash): the dash runs do not run; apt-get install dash to run them.",
    ]);
  });
});

describe(".ci/run", () => {
  it("installs busybox and dash before npm test", () => {
    const script = readFileSync(`${root}.ci/run`, "utf8");
    const install = script.search(/apt-get install .*\$\{missing\[@\]\}/);
    const npmTest = script.indexOf('stage "npm test"');
    expect(install).toBeGreaterThan(-1);
    expect(install).toBeLessThan(npmTest);
    for (const pkg of Object.values(SHELL_PACKAGES)) expect(script).toMatch(new RegExp(`^shell_packages=\\(.*\\b${pkg}\\b.*\\)$`, "m"));
  });
});
