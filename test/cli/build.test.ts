/**
 * `packline build` in-process against the fake engine: it plans once, runs the Dagger backend through the SDK's own
 * connection and prints the summary; bad input is refused before any engine is reached; secrets are taken by
 * reference and reach the engine only inside setSecret; a failed build ends in packline's own message, also when
 * the SDK provisions the engine through a `dagger` CLI (where it wraps errors thrown inside its session).
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CONTEXT_EXCLUDES } from "../../src/cli/build.js";
import { onlyInSetSecret, RELEASED_DIGEST, stepsRun, stepViews, type WorldOptions, world } from "../backends/dagger/pipeline.js";
import { type FakeEngine, startFakeEngine, withFakeEngineEnv } from "../support/fake-engine.js";
import { cli } from "./io.js";

const IMAGE = "registry.example.com/acme/app";
const TOKEN = "tok-9Zq3-not-real";
const TOKEN_B64 = Buffer.from(`me:${TOKEN}`).toString("base64");
const LOGIN = ["--image", IMAGE, "--registry-username", "me", "--registry-password", "env:TOKEN"];

const tmp = mkdtempSync(join(tmpdir(), "packline-cli-build-"));
const source = join(tmp, "app");
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
mkdirSync(source);
writeFileSync(join(source, "index.html"), "<h1>hi</h1>\n");

/** Runs the CLI with a fresh fake engine reachable through DAGGER_SESSION_PORT, as under `dagger run`. */
async function build(args: string[], opts: { world?: WorldOptions; env?: NodeJS.ProcessEnv } = {}) {
  return withFakeEngineEnv({ answers: world(opts.world) }, async (engine) => ({ engine, ...(await cli(["build", ...args], opts.env ?? { TOKEN })) }));
}

describe("packline build", () => {
  it("builds a local directory and prints the summary: pinned references and how to pull", async () => {
    const { engine, code, stdout, stderr } = await build(["--tag", "v1.0.0", "--source", source, ...LOGIN]);
    expect([code, stderr]).toEqual([0, ""]);
    expect(stdout).toBe(
      [
        "published:",
        `  ${IMAGE}:1.0.0@${RELEASED_DIGEST}`,
        `revision ${stepViews(engine).check!.env.find(([n]) => n === "PACKLINE_REVISION")![1]}`,
        "",
        `pull it: docker pull ${IMAGE}:1.0.0@${RELEASED_DIGEST}`,
        "",
      ].join("\n"),
    );
    expect(stepsRun(engine)).toEqual(["check", "build", "release"]);
    // The source is the directory given, uploaded without VCS, dependency and SDK directories.
    expect(stepViews(engine).build!.sources["/workspace"]).toEqual({
      ref: [
        { field: "host", args: {} },
        { field: "directory", args: { path: source, exclude: [...CONTEXT_EXCLUDES] } },
        { field: "filter", args: { exclude: [".git"] } },
      ],
    });
    // The token is read from the environment and reaches the engine only inside setSecret.
    expect(onlyInSetSecret(engine, TOKEN)[0]!.chain[0]).toEqual({
      field: "setSecret",
      args: { name: "packline-registry-password", plaintext: TOKEN },
    });
    onlyInSetSecret(engine, TOKEN_B64);
    expect(stdout + stderr).not.toContain(TOKEN);
  });

  it("builds the current directory when neither --source nor --repo is given", async () => {
    const { engine, code } = await build(["--tag", "v1.0.0"]);
    expect(code).toBe(0);
    expect(stepViews(engine).build!.sources["/workspace"]).toEqual({
      ref: [
        { field: "host", args: {} },
        { field: "directory", args: { path: ".", exclude: [...CONTEXT_EXCLUDES] } },
        { field: "filter", args: { exclude: [".git"] } },
      ],
    });
  });

  it("--repo clones; the summary says the version was already published when nothing was built", async () => {
    const { engine, code, stdout } = await build(["--tag", "v1.2.3", "--repo", "https://github.com/acme/app", "--image", IMAGE], {
      world: { check: { outcome: "published", digest: `sha256:${"e0".repeat(32)}` } },
    });
    expect(code).toBe(0);
    expect(stdout).toMatch(/^already published from revision [0-9a-f]{40} \(nothing was built\):\n/);
    expect(stepsRun(engine)).toEqual(["check"]);
    expect(engine.leaves("commit").map((q) => engine.render(q.resolved))).toEqual([
      'git(url: "https://github.com/acme/app").ref(name: "v1.2.3").commit',
    ]);
  });

  it("--sbom-dir exports the build's SBOM directory there", async () => {
    const dir = join(tmp, "sbom");
    const { engine, code, stdout } = await build(["--tag", "v1.0.0", "--sbom-dir", dir]);
    expect(code).toBe(0);
    expect(stdout).toContain(`SBOM files written to ${dir}\n`);
    const [exported] = engine.leaves("export");
    expect(engine.expand(exported!.resolved).slice(-2)).toEqual([
      { field: "directory", args: { path: "/layers/sbom" } },
      { field: "export", args: { path: dir } },
    ]);
  });

  const refused: [string, string[], NodeJS.ProcessEnv, RegExp][] = [
    [
      "--source that does not exist",
      ["--tag", "v1.0.0", "--source", "/nonexistent/dir"],
      {},
      /^packline: --source "\/nonexistent\/dir" does not exist/,
    ],
    ["a tag that is not MAJOR.MINOR.PATCH", ["--tag", "1.0", "--source", source], {}, /^packline: --tag "1\.0" is not a semantic version/],
    [
      "an empty file: secret",
      ["--tag", "v1.0.0", "--image", IMAGE, "--registry-username", "me", "--registry-password", `file:${join(tmp, "empty")}`],
      {},
      /^packline: --registry-password file:.*empty: the file is empty: put the password or token in it\.\n$/,
    ],
    [
      "an unset env: secret",
      ["--tag", "v1.0.0", ...LOGIN],
      {},
      /^packline: --registry-password env:TOKEN: the environment variable TOKEN is not set \(or empty\): export it first\.\n$/,
    ],
    [
      "a literal password (never echoed)",
      ["--tag", "v1.0.0", "--image", IMAGE, "--registry-username", "me", "--registry-password", TOKEN],
      {},
      /^packline: --registry-password takes a secret by reference, not a literal value/,
    ],
    ["--image ''", ["--tag", "v1.0.0", "--image", ""], {}, /^packline: --image is empty/],
    ["--sbom-dir '' (it wrote nothing, silently)", ["--tag", "v1.0.0", "--sbom-dir", ""], {}, /^packline: --sbom-dir is empty: give a directory/],
    [
      "--sbom-dir naming a file",
      ["--tag", "v1.0.0", "--sbom-dir", join(tmp, "empty")],
      {},
      /^packline: --sbom-dir ".*empty" is not a directory: give a directory/,
    ],
    [
      "--sbom-dir under /proc",
      ["--tag", "v1.0.0", "--sbom-dir", "/proc/packline-sbom"],
      {},
      /^packline: --sbom-dir "\/proc\/packline-sbom" cannot take the SBOM files \(ENOENT\): give a directory you can write to, e.g. --sbom-dir sbom; nothing was built\.\n$/,
    ],
    [
      "--sbom-dir that cannot be written (/proc/self)",
      ["--tag", "v1.0.0", "--sbom-dir", "/proc/self"],
      {},
      /^packline: --sbom-dir "\/proc\/self" cannot take the SBOM files \([A-Z]+\)/,
    ],
  ];
  it.each(refused)("refuses %s before any engine is reached", async (_name, args, env, message) => {
    writeFileSync(join(tmp, "empty"), "");
    const { engine, code, stdout, stderr } = await build(args, { env });
    expect([code, stdout]).toEqual([1, ""]);
    expect(stderr).toMatch(message);
    expect(stderr).not.toContain(TOKEN);
    expect(engine.queries).toEqual([]);
  });

  it("--sbom-dir is made before the build, and removed again when the build wrote nothing into it", async () => {
    const dir = join(tmp, "sbom-made", "deeper");
    const failed = await build(["--tag", "v1.0.0", "--sbom-dir", dir], { world: { build: { exitCode: 1, stderr: "ERROR: boom\n" } } });
    expect(failed.code).toBe(1);
    expect(existsSync(join(tmp, "sbom-made"))).toBe(false);
    mkdirSync(join(tmp, "sbom-kept"));
    writeFileSync(join(tmp, "sbom-kept", "old.json"), "{}");
    expect((await build(["--tag", "v1.0.0", "--sbom-dir", join(tmp, "sbom-kept")])).code).toBe(0);
    expect(readdirSync(join(tmp, "sbom-kept"))).toEqual(["old.json"]);
  });

  it("a failed build ends in one message naming the cause, with the token redacted, and exit 1", async () => {
    const stderr = `\u001b[31mERROR:\u001b[0m failed to export: UNAUTHORIZED: authentication required (token ${TOKEN})\n`;
    const run = await build(["--tag", "v1.0.0", "--source", source, ...LOGIN], { world: { build: { exitCode: 1, stderr } } });
    expect([run.code, run.stdout]).toEqual([1, ""]);
    expect(run.stderr).toMatch(
      /^packline: the build failed \(lifecycle creator exit code 1\); nothing new was tagged\.\ncause: registry registry\.example\.com refused/,
    );
    expect(run.stderr).toContain("ERROR: failed to export: UNAUTHORIZED: authentication required (token ***)");
    expect(run.stderr).not.toContain(TOKEN);
    expect(run.stderr.match(/packline: /g)).toHaveLength(1);
  });
});

/**
 * A `dagger` CLI for the SDK's provisioning path (`_EXPERIMENTAL_DAGGER_CLI_BIN`): `dagger session` prints the
 * connect parameters of the fake engine and waits, as the real CLI does. The SDK wraps whatever is thrown inside a
 * session it provisioned ("failed to execute function with automatic provisioning: ..."); packline must not show that.
 */
function fakeDaggerCli(engine: FakeEngine, closing = ""): { bin: string; calls: () => string } {
  const dir = mkdtempSync(join(tmp, "dagger-"));
  const bin = join(dir, "dagger");
  const params = JSON.stringify({ port: Number(engine.env.DAGGER_SESSION_PORT), session_token: engine.env.DAGGER_SESSION_TOKEN });
  // Like `dagger session` (cmd/dagger/session.go), it ends with status 0 on SIGTERM, which is how the SDK closes it;
  // `closing` is what it still prints on stderr then (the real CLI's last progress lines), a moment later. The sleep
  // starts before the parameters are printed, so a SIGTERM never comes before $pid is known (an orphaned sleep would
  // hold stderr open).
  const onTerm = closing ? `kill $pid 2>/dev/null; sleep 0.3; printf '%s' '${closing}' >&2; exit 0` : "kill $pid 2>/dev/null; exit 0";
  writeFileSync(
    bin,
    `#!/bin/sh\necho "$*" >> '${dir}/calls'\ntrap '${onTerm.replace(/'/g, "'\\''")}' TERM INT\nsleep 300 &\npid=$!\necho '${params}'\nwait $pid\n`,
  );
  chmodSync(bin, 0o755);
  return { bin, calls: () => readFileSync(join(dir, "calls"), "utf8") };
}

describe("packline build through an engine the SDK provisions (a dagger CLI)", () => {
  async function provisioned(args: string[], worldOptions: WorldOptions = {}, closing = "") {
    const engine = await startFakeEngine({ answers: world(worldOptions) });
    const dagger = fakeDaggerCli(engine, closing);
    const saved = { ...process.env };
    delete process.env.DAGGER_SESSION_PORT;
    delete process.env.DAGGER_SESSION_TOKEN;
    process.env._EXPERIMENTAL_DAGGER_CLI_BIN = dagger.bin;
    try {
      return { engine, calls: dagger.calls, ...(await cli(["build", ...args])) };
    } finally {
      for (const name of ["DAGGER_SESSION_PORT", "DAGGER_SESSION_TOKEN", "_EXPERIMENTAL_DAGGER_CLI_BIN"]) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
      await engine.close();
    }
  }

  it("builds: the SDK starts `dagger session` and the build runs in that session", async () => {
    const run = await provisioned(["--tag", "v1.0.0", "--source", source]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^published:\n {2}registry:5000\/app:1\.0\.0@sha256:/);
    expect(run.calls()).toMatch(/^session /);
    expect(stepsRun(run.engine)).toEqual(["check", "build", "release"]);
  });

  it("prints packline's own message for a failed build, not the SDK's wrapping of it", async () => {
    const stderr = "packline: registry:5000/app:1.0.0 is already published (sha256:x) and this build is from revision y: publish a new version.\n";
    const run = await provisioned(["--tag", "v1.0.0", "--source", source], { check: { outcome: "failed", exitCode: 4, stderr } });
    expect([run.code, run.stdout]).toEqual([1, ""]);
    const message = run.stderr.slice(run.stderr.indexOf("packline: "));
    expect(message).toBe(
      "packline: registry:5000/app:1.0.0 is already published (sha256:x) and this build is from revision y: publish a new version.\n",
    );
    expect(run.stderr).not.toMatch(/automatic provisioning|PacklineError|\n {4}at /);
  });

  it("waits for the session's last progress lines, so that packline's message is the last thing printed", async () => {
    // The SDK closes the session with a SIGTERM it does not wait for; the real CLI then prints its last progress.
    const stderr = "packline: registry:5000/app:1.0.0 is already published (sha256:x) and this build is from revision y: publish a new version.\n";
    const closing = "9   : check DONE\n1   : cli session DONE\n";
    const run = await provisioned(["--tag", "v1.0.0", "--source", source], { check: { outcome: "failed", exitCode: 4, stderr } }, closing);
    expect(run.code).toBe(1);
    expect(run.stderr.endsWith(`${closing}${stderr}`)).toBe(true);
    const built = await provisioned(["--tag", "v1.0.0", "--source", source], {}, closing);
    expect(built.code).toBe(0);
    expect(built.stderr.endsWith(closing)).toBe(true);
  });
});
