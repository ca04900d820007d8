/**
 * The pin (pin.ts), run for real by /bin/sh and busybox sh (the crane image's shell) against a fake `crane` that
 * answers digests and configs from files: what the check pins, from which registry flags, and how it refuses a
 * builder or run image it cannot pin; and the release's second look at a tag a pod pulled.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CRANE } from "../../../src/core/images.js";
import { PIN_EXIT, PIN_SCRIPT, RECHECK_START, RECHECKED } from "../../../src/core/plan/pin.js";
import { CHECK_SCRIPT, OUT } from "../../../src/core/plan/scripts.js";
import { findShell } from "../../support/shells.js";

const BUSYBOX = findShell("busybox", "pin", "the runs with busybox sh, the crane image's shell (/bin/sh still runs)");
const SHELLS = ["/bin/sh", ...(BUSYBOX ? ["busybox-sh"] : [])];

/** A crane that answers `digest` and `config` from $REG/<ref with / : @ as _>.<command>, and logs each call. */
const FAKE_CRANE = `#!/bin/sh
set -eu
key() { printf '%s' "$1" | tr '/:@' '___'; }
cmd=$1; shift
flag=""
[ "\${1:-}" = --insecure ] && { flag=" --insecure"; shift; }
echo "$cmd$flag $1" >> "$REG/calls"
case $cmd in
  config|digest)
    f="$REG/$(key "$1").$cmd"
    if [ ! -f "$f" ]; then echo "GET $1: MANIFEST_UNKNOWN: manifest unknown" >&2; exit 1; fi
    cat "$f" ;;
  *) echo "unexpected: $cmd" >&2; exit 9 ;;
esac
`;

const BUILDER = "r.example.com/builder:1";
const RUN = "r.example.com/run:base";
const D = (c: string) => `sha256:${c.repeat(64)}`;

/** A builder config whose io.buildpacks.builder.metadata (JSON in a JSON string) names `metadata`'s fields. */
function builderConfig(metadata: object | undefined): string {
  const labels = metadata === undefined ? {} : { "io.buildpacks.builder.metadata": JSON.stringify(metadata) };
  return JSON.stringify({ config: { Labels: labels, Env: ["CNB_USER_ID=1001"] } });
}

let dir: string;
const key = (ref: string) => ref.replace(/[/:@]/g, "_");
function put(ref: string, command: "digest" | "config", value: string): void {
  writeFileSync(join(dir, "reg", `${key(ref)}.${command}`), value);
}
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "pin-test-"));
  writeFileSync(join(dir, "crane"), FAKE_CRANE);
  chmodSync(join(dir, "crane"), 0o755);
  execFileSync("mkdir", ["-p", join(dir, "reg"), join(dir, "out")]);
  put(BUILDER, "digest", D("b"));
  put(`${BUILDER}@${D("b")}`, "config", builderConfig({ description: "x", images: [{ image: RUN }], lifecycle: { version: "0.21.17" } }));
  put(RUN, "digest", D("r"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function run(shell: string, script: string, env: Record<string, string> = {}) {
  const text = script.split(OUT.dir).join(join(dir, "out")).split(CRANE.bin).join(join(dir, "crane"));
  const [file, args] = shell === "busybox-sh" ? [BUSYBOX!, ["sh", "-c", text]] : [shell, ["-c", text]];
  const result = spawnSync(file, args as string[], {
    encoding: "utf8",
    env: { PATH: process.env.PATH, REG: join(dir, "reg"), PACKLINE_BUILDER: BUILDER, ...env },
  });
  const out = (name: string) => (existsSync(join(dir, "out", name)) ? readFileSync(join(dir, "out", name), "utf8") : undefined);
  const calls = existsSync(join(dir, "reg", "calls"))
    ? readFileSync(join(dir, "reg", "calls"), "utf8")
        .trim()
        .split("\n")
    : [];
  return {
    code: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    pinned: { builder: out("builder-digest"), runImage: out("run-image"), lifecycle: out("lifecycle-version") },
    calls,
  };
}

describe.each(SHELLS)("the pin under %s", (shell) => {
  it("the builder by digest, its own run image by digest, the lifecycle's version from its metadata", () => {
    const r = run(shell, PIN_SCRIPT);
    expect(r.code, r.stderr).toBe(0);
    expect(r.pinned).toEqual({ builder: D("b"), runImage: `${RUN}@${D("r")}`, lifecycle: "0.21.17" });
    // the config is read by digest: the builder whose digest was pinned, even if the tag moves meanwhile
    expect(r.calls).toEqual([`digest ${BUILDER}`, `config ${BUILDER}@${D("b")}`, `digest ${RUN}`]);
    expect(r.stdout).toContain(`pinned the builder to ${BUILDER}@${D("b")} and the run image to ${RUN}@${D("r")} (lifecycle 0.21.17)`);
  });

  it("an older builder's stack.runImage; --run-image over the builder's; a reference with a digest as given", () => {
    put(
      `${BUILDER}@${D("b")}`,
      "config",
      builderConfig({ stack: { runImage: { image: RUN, mirrors: ["m.example.com/run"] } }, lifecycle: { version: "0.20.1" } }),
    );
    expect(run(shell, PIN_SCRIPT).pinned).toEqual({ builder: D("b"), runImage: `${RUN}@${D("r")}`, lifecycle: "0.20.1" });

    put("r.example.com/other:2", "digest", D("o"));
    expect(run(shell, PIN_SCRIPT, { PACKLINE_RUN_IMAGE: "r.example.com/other:2" }).pinned.runImage).toBe(`r.example.com/other:2@${D("o")}`);
    put(`r.example.com/other@${D("o")}`, "digest", D("o"));
    expect(run(shell, PIN_SCRIPT, { PACKLINE_RUN_IMAGE: `r.example.com/other@${D("o")}` }).pinned.runImage).toBe(`r.example.com/other@${D("o")}`);
  });

  it("a builder without a lifecycle version says unknown; --insecure only for the registries named", () => {
    put(`${BUILDER}@${D("b")}`, "config", builderConfig({ images: [{ image: "plain.example.com:5000/run:1" }] }));
    put("plain.example.com:5000/run:1", "digest", D("p"));
    const r = run(shell, PIN_SCRIPT, { PACKLINE_PIN_INSECURE: "plain.example.com:5000 other.example.com" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.pinned.lifecycle).toBe("unknown");
    expect(r.calls).toEqual([`digest ${BUILDER}`, `config ${BUILDER}@${D("b")}`, "digest --insecure plain.example.com:5000/run:1"]);
  });

  it("refuses, naming the value and the fix, a builder or run image that is not there, or a builder with no run image", () => {
    const noBuilder = run(shell, PIN_SCRIPT, { PACKLINE_BUILDER: "r.example.com/nope:1" });
    expect(noBuilder.code).toBe(PIN_EXIT.missing);
    expect(noBuilder.stderr).toContain("packline: --builder r.example.com/nope:1 is not in its registry: check its name and tag.");
    expect(noBuilder.pinned).toEqual({ builder: undefined, runImage: undefined, lifecycle: undefined });

    const noRun = run(shell, PIN_SCRIPT, { PACKLINE_RUN_IMAGE: "r.example.com/gone:1" });
    expect(noRun.code).toBe(PIN_EXIT.missing);
    expect(noRun.stderr).toContain("packline: --run-image r.example.com/gone:1 is not in its registry");

    put(`${BUILDER}@${D("b")}`, "config", builderConfig(undefined));
    const notABuilder = run(shell, PIN_SCRIPT);
    expect(notABuilder.code).toBe(PIN_EXIT.missing);
    expect(notABuilder.stderr).toContain(`packline: --builder ${BUILDER} names no run image`);
    expect(notABuilder.stderr).toContain("give --run-image");
  });

  it("the check waits for the pin before it claims a version, and fails with it", () => {
    const env = {
      PACKLINE_IMAGE: "r.example.com/acme/app",
      PACKLINE_REGISTRY: "r.example.com",
      PACKLINE_VERSION: "1.2.3",
      PACKLINE_REVISION: "abc",
      PACKLINE_BUILD_INPUTS: "sha256:inputs",
      PACKLINE_INSECURE: "false",
      PACKLINE_ALLOW_OVERWRITE: "false",
      PACKLINE_RUN_ID: "run-1",
      PACKLINE_BUILDER: "r.example.com/nope:1",
    };
    const r = run(shell, CHECK_SCRIPT, env);
    expect(r.code).toBe(PIN_EXIT.missing);
    expect(r.stderr).toContain("--builder r.example.com/nope:1 is not in its registry");
    // nothing claimed: the fake crane would have refused `append`
    expect(r.calls.some((c) => c.startsWith("append"))).toBe(false);
  });
});

describe.each(SHELLS)("the release's second look at a pulled tag, under %s", (shell) => {
  const script = (rest: string) => `set -eu\ncrane() { ${CRANE.bin} "$@"; }\nmkdir -p ${OUT.dir}\n${RECHECK_START}wait\n${RECHECKED}${rest}`;
  const env = { PACKLINE_RECHECK: "builder", PACKLINE_BUILDER_DIGEST: D("b"), PACKLINE_RUN_IMAGE_PINNED: `${RUN}@${D("r")}` };

  it("goes on while the tags still name the pinned digests", () => {
    const r = run(shell, script("echo tagged"), { ...env, PACKLINE_RECHECK: "builder run-image" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("tagged\n");
    expect(r.calls).toEqual([`digest ${BUILDER}`, `digest ${RUN}`]);
  });

  it("refuses, tagging nothing, when a tag moved while the build ran", () => {
    put(BUILDER, "digest", D("c"));
    const r = run(shell, script("echo tagged"), env);
    expect(r.code).toBe(4);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`packline: ${BUILDER} moved from ${D("b")} to ${D("c")} while this build ran`);
  });

  it("looks at nothing where the build ran by digest", () => {
    const r = run(shell, script("echo tagged"), { PACKLINE_RECHECK: "" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.calls).toEqual([]);
  });
});
