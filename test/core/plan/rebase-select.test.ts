/**
 * The scheduled rebase's selection rule (README, "Scheduled rebase: which versions"): the newest patch of each
 * MAJOR.MINOR line among the releases; and the cluster's sh/awk form of it, run by /bin/sh with the system's awk and
 * sort and by busybox sh with busybox's own (the crane image's), giving the same answer over a table and random tag
 * lists.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { NEWEST_PATCHES_SH, newestPatches } from "../../../src/core/plan/rebase-select.js";
import { findShell } from "../../support/shells.js";

const work = mkdtempSync(join(tmpdir(), "packline-rebase-select-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const busybox = findShell("busybox", "rebase-select", "the runs with busybox sh, awk and sort (/bin/sh still runs)");
const shells: { name: string; argv: string[]; path: string }[] = [{ name: "/bin/sh", argv: ["/bin/sh"], path: process.env.PATH ?? "/usr/bin:/bin" }];
if (busybox) {
  const bin = join(work, "busybox-bin");
  mkdirSync(bin);
  for (const applet of ["awk", "sort"]) symlinkSync(busybox, join(bin, applet));
  shells.push({ name: "busybox sh", argv: [busybox, "sh"], path: bin });
}

function selectWith(shell: (typeof shells)[number], tags: readonly string[]): string[] {
  const r = spawnSync(shell.argv[0]!, [...shell.argv.slice(1), "-c", NEWEST_PATCHES_SH], {
    input: tags.map((t) => `${t}\n`).join(""),
    encoding: "utf8",
    env: { PATH: shell.path, LC_ALL: "C" },
  });
  if (r.status !== 0) throw new Error(`${shell.name}: exit ${r.status}: ${r.stderr}`);
  return r.stdout.split("\n").filter((line) => line !== "");
}

describe("newestPatches", () => {
  it("keeps the newest patch of each MAJOR.MINOR line, releases only, in version order", () => {
    const tags = ["1.2.0", "1.2.3", "1.3.0", "2.0.1", "1.2.10", "latest", "1.2", "1", "1.4.0-rc.1", "packline-staging", "01.2.3", "10.0.0", "9.9.9"];
    expect(newestPatches(tags)).toEqual(["1.2.10", "1.3.0", "2.0.1", "9.9.9", "10.0.0"]);
    expect(newestPatches(["0.4.1", "0.4.2", "0.5.0"])).toEqual(["0.4.2", "0.5.0"]);
    expect(newestPatches(["1.0.0-rc.1", "v1.0.0", "1.0.0+b", `1.0.${"9".repeat(16)}`])).toEqual([]);
    expect(newestPatches([])).toEqual([]);
  });

  describe.each(shells)("the cluster's form under $name", (shell) => {
    it("agrees on the table", () => {
      const tags = ["1.2.0", "1.2.3", "1.3.0", "2.0.1", "1.2.10", "latest", "1.4.0-rc.1", "01.2.3", "10.0.0", "9.9.9", `1.0.${"9".repeat(15)}`];
      expect(selectWith(shell, tags)).toEqual(newestPatches(tags));
    });

    it("agrees on random tag lists", () => {
      const number = fc.oneof(fc.integer({ min: 0, max: 12 }).map(String), fc.constantFrom("00", "01", "999999999999999", "1000000000000000"));
      const tag = fc.oneof(
        fc.tuple(number, number, number).map((p) => p.join(".")),
        fc.tuple(number, number, number, fc.constantFrom("-rc.1", "+b", "x")).map(([a, b, c, s]) => `${a}.${b}.${c}${s}`),
        fc.constantFrom("latest", "1.2", "packline-staging", "v1.2.3", ""),
      );
      fc.assert(
        fc.property(fc.array(tag, { maxLength: 12 }), (tags) => {
          expect(selectWith(shell, tags)).toEqual(newestPatches(tags));
        }),
        { numRuns: 60 },
      );
    });
  });
});
