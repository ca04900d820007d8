/**
 * The cluster checks the version with a shell script (the version is a submit-time parameter there), generated from
 * src/core/version.ts's rule. parseVersion is the rule; this runs the source step's real script, up to the end of
 * its version check, with /bin/sh, dash, busybox sh (alpine/git's shell, with busybox's own grep) and bash, over a
 * table and random near-versions, and requires the same verdict and the same parts from every shell.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { RESOLVE_OUT, SOURCE_SCRIPT } from "../../../src/backends/argo/scripts.js";
import { BAD_VERSION_EXIT, VERSION_CHECK } from "../../../src/backends/argo/version-script.js";
import { PacklineError } from "../../../src/core/errors.js";
import { parseVersion } from "../../../src/core/version.js";
import { findShell } from "../../support/shells.js";

const work = mkdtempSync(join(tmpdir(), "packline-version-script-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The source step's script up to the end of its version check (what runs before git), writing under `out`. */
function versionScript(out: string): string {
  const end = SOURCE_SCRIPT.indexOf(VERSION_CHECK);
  if (end === -1) throw new Error("the source script does not contain the version check");
  return SOURCE_SCRIPT.slice(0, end + VERSION_CHECK.length)
    .split(RESOLVE_OUT)
    .join(out);
}

interface Shell {
  readonly name: string;
  readonly argv: readonly string[];
  /** PATH for the script's own tools (busybox: its grep and printf, as in alpine/git). */
  readonly path: string;
}

function shells(): Shell[] {
  const hostPath = process.env.PATH ?? "/usr/bin:/bin";
  const found: Shell[] = [{ name: "/bin/sh", argv: ["/bin/sh"], path: hostPath }];
  const dash = findShell("dash", "version-script", "the checks with dash (/bin/sh, busybox and bash still run)");
  if (dash) found.push({ name: "dash", argv: [dash], path: hostPath });
  const busybox = findShell("busybox", "version-script", "the checks with busybox sh, alpine/git's shell (/bin/sh, dash and bash still run)");
  if (busybox) {
    const bin = join(work, "busybox-bin");
    mkdirSync(bin);
    for (const applet of ["sh", "grep", "printf", "mkdir", "cat", "rm"]) symlinkSync(busybox, join(bin, applet));
    found.push({ name: "busybox sh", argv: [busybox, "sh"], path: bin });
  }
  if (existsSync("/bin/bash")) found.push({ name: "bash", argv: ["/bin/bash", "--norc", "--noprofile"], path: hostPath });
  return found;
}

const SHELLS = shells();

type Verdict = { ok: false } | { ok: true; version: string; major: string; minor: string; shape: string };

let runs = 0;
function script(shell: Shell, input: string): Verdict {
  const out = join(work, `out-${runs++}`);
  const r = spawnSync(shell.argv[0]!, [...shell.argv.slice(1), "-c", versionScript(out)], {
    env: { PATH: shell.path, PACKLINE_TAG: input },
    encoding: "utf8",
  });
  if (r.error) throw r.error;
  if (r.status === BAD_VERSION_EXIT) {
    expect(r.stderr, `${shell.name} ${JSON.stringify(input)}`).toMatch(/^packline: tag ".*" .*: give MAJOR\.MINOR\.PATCH/s);
    return { ok: false };
  }
  if (r.status !== 0) throw new Error(`${shell.name} exited ${r.status} on ${JSON.stringify(input)}: ${r.stderr}`);
  const read = (name: string) => readFileSync(join(out, name), "utf8");
  const verdict = { ok: true as const, version: read("version"), major: read("major"), minor: read("minor"), shape: read("shape") };
  rmSync(out, { recursive: true, force: true });
  return verdict;
}

function core(input: string): Verdict {
  try {
    const v = parseVersion(input);
    return { ok: true, version: v.version, major: v.major, minor: v.minor, shape: v.shape };
  } catch (error) {
    if (!(error instanceof PacklineError)) throw error;
    return { ok: false };
  }
}

function agree(input: string): void {
  const expected = core(input);
  for (const shell of SHELLS) expect(script(shell, input), `${shell.name} on ${JSON.stringify(input)}`).toEqual(expected);
}

const TABLE = [
  // accepted
  "v1.2.3",
  "1.2.3",
  "0.1.0",
  "0.0.0",
  "10.20.30",
  "1.2.3-rc.1",
  "0.9.0-alpha",
  "1.0.0-0.3.7",
  "1.0.0-x-y-z.--",
  "1.0.0-alpha.beta.1",
  "123456789012345.0.0",
  "1.2.3-0a",
  `1.2.3-${"a".repeat(122)}`,
  // refused
  `1.2.3-${"a".repeat(123)}`,
  "1234567890123456.0.0",
  "1.2.1234567890123456",
  "",
  "v",
  "1.0",
  "v1",
  "latest",
  "1.2.3+build.5",
  "v1.2.3+5",
  "1.2.3-rc.1+b",
  "01.2.3",
  "1.02.3",
  "1.2.03",
  "1.2.3-01",
  "1.2.3-",
  "1.2.3-a..b",
  "1.2.3.4",
  "V1.2.3",
  "vv1.2.3",
  "=1.2.3",
  "-1.2.3",
  "1.2.3-rc_1",
  " v1.2.3",
  "v1.2.3 ",
  "\t1.2.3",
  "1.2.3\n",
  "\n1.2.3",
  "\n\n1.2.3",
  "1.2.3\n1.2.4",
  "1.2.3\r",
  "1.2.\u00013",
  "1.2.3\u007f",
  "\u00a01.2.3",
  "1.2.3\u00a0",
  "\u20281.2.3",
  "1.2.3\u2029",
  "\ufeff1.2.3",
  "\u30001.2.3",
  "1.2.3\u0085",
  "1.2.3-ünï",
  "1.2.3-rc.１",
  "$(id)",
  "`id`",
  "{{workflow.name}}",
  "1.2.3;id",
  "*",
  "1.2.3 extra",
];

describe(`the cluster's version check agrees with parseVersion (${SHELLS.map((s) => s.name).join(", ")})`, () => {
  it("runs the real source script's check, in at least two shells", () => {
    expect(versionScript("/x")).toContain("export LC_ALL=C");
    expect(SHELLS.length).toBeGreaterThanOrEqual(2);
  });

  it.each(TABLE.map((input) => [JSON.stringify(input), input] as const))("%s", (_label, input) => agree(input));

  it("the table holds both verdicts", () => {
    const verdicts = TABLE.map(core);
    expect(verdicts.filter((v) => v.ok).length).toBeGreaterThan(10);
    expect(verdicts.filter((v) => !v.ok).length).toBeGreaterThan(40);
  });

  it("on random versions and near-versions: odd characters, blanks, prefixes, long numbers, build metadata", () => {
    const odd = fc.constantFrom(
      " ",
      "\t",
      "\n",
      "\r",
      "\u00a0",
      "\u2028",
      "\u2029",
      "\ufeff",
      "\u3000",
      "\u0085",
      "\u0001",
      "\u007f",
      "é",
      "+",
      "_",
      "v",
      "'",
      '"',
      "$",
      "\\",
    );
    const num = fc.oneof(
      { arbitrary: fc.integer({ min: 0, max: 30 }).map(String), weight: 4 },
      { arbitrary: fc.constantFrom("00", "01", "999999999999999", "1000000000000000"), weight: 1 },
      { arbitrary: fc.bigInt({ min: 0n, max: 10n ** 16n }).map(String), weight: 1 },
    );
    const ident = fc.oneof(
      fc.stringMatching(/^[A-Za-z-][0-9A-Za-z-]{0,7}$/),
      fc.integer({ min: 0, max: 99 }).map(String),
      fc.constantFrom("01", "0a"),
    );
    const version = fc
      .tuple(
        fc.constantFrom("", "", "", "v", "v", "V", "vv"),
        num,
        num,
        num,
        fc.option(fc.array(ident, { minLength: 1, maxLength: 3 }), { nil: undefined, freq: 2 }),
        fc.oneof({ arbitrary: fc.constant(undefined), weight: 4 }, { arbitrary: ident, weight: 1 }),
      )
      .map(([prefix, a, b, c, pre, build]) => `${prefix}${a}.${b}.${c}${pre ? `-${pre.join(".")}` : ""}${build ? `+${build}` : ""}`);
    // A version with odd characters put anywhere: before, after or inside.
    const withOdd = fc.tuple(version, fc.array(fc.tuple(odd, fc.nat()), { minLength: 1, maxLength: 2 })).map(([v, inserts]) => {
      let s = v;
      for (const [c, at] of inserts) {
        const i = at % (s.length + 1);
        s = s.slice(0, i) + c + s.slice(i);
      }
      return s;
    });
    const nearVersion = fc.oneof(version, withOdd);
    let accepted = 0;
    fc.assert(
      fc.property(nearVersion, (input) => {
        agree(input);
        if (core(input).ok) accepted++;
      }),
      { numRuns: 250 },
    );
    expect(accepted).toBeGreaterThan(10);
  }, 180_000); // 250 runs of 4 shells, each a process: 12 s at the start of a CI run, over 40 s on a 2-core machine under load (the 30 s default failed there)
});

describe("the script reads the version only from its environment", () => {
  it("shell syntax in the tag is refused, never run", () => {
    const marker = join(work, "pwned");
    for (const input of [`$(touch ${marker})`, `\`touch ${marker}\``, `1.2.3;touch ${marker}`]) {
      for (const shell of SHELLS) expect(script(shell, input)).toEqual({ ok: false });
    }
    expect(existsSync(marker)).toBe(false);
  });

  it("the script text holds no user value (it is the same for every workflow)", () => {
    expect(execFileSync("/bin/sh", ["-n", "-c", versionScript("/x")]).toString()).toBe("");
  });
});
