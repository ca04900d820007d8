/**
 * --sbom-dir, our own odd inputs (issue 18, the round for options added since the last one): links into /proc and to
 * nowhere, blanks and control characters, and an SBOM directory inside the source directory the build uploads, whose
 * files would otherwise become the next build's source (another source digest: a retry of the same version was
 * refused as "from another revision", and the old SBOM went into the image).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CONTEXT_EXCLUDES } from "../../src/cli/build.js";
import { checkSbomDir, sbomExclude } from "../../src/cli/sbom-dir.js";
import { stepViews, world } from "../backends/dagger/pipeline.js";
import { packlineError } from "../support/errors.js";
import { withFakeEngineEnv } from "../support/fake-engine.js";
import { cli } from "./io.js";

const tmp = mkdtempSync(join(tmpdir(), "packline-sbom-odd-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const source = join(tmp, "app");
mkdirSync(source);
writeFileSync(join(source, "index.html"), "<h1>hi</h1>\n");

const refusal = (dir: string) => packlineError(() => checkSbomDir(dir)).message;

describe("--sbom-dir: odd inputs, refused before anything runs", () => {
  it("a link to /proc (or into it) cannot take files: refused with the reason", () => {
    symlinkSync("/proc", join(tmp, "to-proc"));
    symlinkSync("/proc/self", join(tmp, "to-proc-self"));
    symlinkSync("/proc/self/fd/1", join(tmp, "to-stdout"));
    expect(refusal(join(tmp, "to-proc"))).toMatch(/cannot take the SBOM files \([A-Z]+\): give a directory you can write to/);
    expect(refusal(join(tmp, "to-proc-self"))).toMatch(/cannot take the SBOM files \([A-Z]+\)/);
    expect(refusal(join(tmp, "to-stdout"))).toMatch(/is not a directory/);
  });

  it("a link to nowhere says so (it said EEXIST)", () => {
    symlinkSync(join(tmp, "missing"), join(tmp, "dangling"));
    expect(refusal(join(tmp, "dangling"))).toMatch(
      /is a symbolic link to a path that does not exist: make the directory it points to, or give another/,
    );
    symlinkSync(join(tmp, "loop"), join(tmp, "loop"));
    expect(refusal(join(tmp, "loop"))).toMatch(/cannot take the SBOM files \(ELOOP\)/);
  });

  it.each([" ", "\t", "   "])("%j (only blanks) is refused, nothing made", (dir) => {
    expect(refusal(dir)).toMatch(/is only blanks: give a directory/);
    expect(existsSync(dir)).toBe(false);
  });

  it.each(["sbom\n", "sb\nom", "sbom\r", "\u001b[31msbom"])("%j (a control character) is refused, nothing made", (dir) => {
    expect(refusal(join(tmp, dir))).toMatch(/has a control character \(a newline or tab pasted with it\?\)/);
    expect(existsSync(join(tmp, dir))).toBe(false);
  });
});

describe("--sbom-dir inside the uploaded source: left out of the upload", () => {
  it("sbomExclude: the path inside the source, as a pattern; nothing for a directory outside it", () => {
    expect(sbomExclude(join(source, "sbom"), source)).toBe("sbom");
    expect(sbomExclude(join(source, "out", "sbom"), source)).toBe("out/sbom");
    expect(sbomExclude(join(source, "odd[1]*"), source)).toBe("odd\\[1]\\*");
    expect(sbomExclude(join(tmp, "sbom"), source)).toBeUndefined();
    expect(sbomExclude(tmp, source)).toBeUndefined(); // a parent: the export writes beside the source, not into it
    expect(packlineError(() => sbomExclude(source, source)).message).toMatch(/is the source directory the build uploads/);
  });

  it("packline build --sbom-dir <source>/sbom uploads the source without it", async () => {
    const sbom = join(source, "sbom");
    await withFakeEngineEnv({ answers: world() }, async (engine) => {
      const { code, stderr } = await cli(["build", "--tag", "v1.0.0", "--source", source, "--sbom-dir", sbom], {});
      expect([code, stderr]).toEqual([0, ""]);
      expect((stepViews(engine).build!.sources["/workspace"] as { ref: unknown[] }).ref[1]).toEqual({
        field: "directory",
        args: { path: source, exclude: [...CONTEXT_EXCLUDES, "sbom"] },
      });
    });
  });

  it("packline build --sbom-dir <the source itself> is refused before the engine, and makes nothing", async () => {
    await withFakeEngineEnv({ answers: world() }, async (engine) => {
      const { code, stderr } = await cli(["build", "--tag", "v1.0.0", "--source", source, "--sbom-dir", source], {});
      expect(code).toBe(1);
      expect(stderr).toMatch(/^packline: --sbom-dir ".*" is the source directory the build uploads/);
      expect(engine.queries.length).toBe(0);
    });
  });
});
