/**
 * `packline` as a user runs it: `node bin/packline.js` in its own process. From another directory (the Dagger
 * decorators need this repository's tsconfig wherever the user stands), against the fake engine; and every way of
 * not reaching an engine ends in one message with the fix, exit 1, no stack trace, no unhandled rejection.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { sdkDaggerVersion } from "../../src/cli/engine.js";
import { RELEASED_DIGEST, stepsRun, world } from "../backends/dagger/pipeline.js";
import { type FakeEngine, withFakeEngineEnv } from "../support/fake-engine.js";

const BIN = fileURLToPath(new URL("../../bin/packline.js", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "packline-process-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A user's project directory, far from this repository. */
const project = join(tmp, "project");
mkdirSync(project);
writeFileSync(join(project, "index.html"), "<h1>hi</h1>\n");

/** Loaded before packline: every DNS lookup fails, as on a machine without network, whatever this one has. */
const NO_NETWORK = join(tmp, "no-network.mjs");
writeFileSync(
  NO_NETWORK,
  `import dns from "node:dns";
dns.lookup = (host, ...rest) => {
  const error = Object.assign(new Error("getaddrinfo ENOTFOUND " + host), { code: "ENOTFOUND", hostname: host, syscall: "getaddrinfo" });
  process.nextTick(rest.at(-1), error);
};
`,
);

/**
 * Loaded before packline: importing the TypeScript compiler fails the process (what the SDK's module runtime imports,
 * 2-4 s of a start; the CLI's "@dagger.io/dagger" leaves it out: bin/sdk-client-hooks.js).
 */
const NO_TYPESCRIPT = join(tmp, "no-typescript.mjs");
writeFileSync(
  join(tmp, "no-typescript-hooks.mjs"),
  `export async function resolve(specifier, context, next) {
  if (specifier === "typescript") throw new Error("the TypeScript compiler was imported by " + context.parentURL);
  return next(specifier, context);
}
`,
);
writeFileSync(NO_TYPESCRIPT, `import { register } from "node:module";\nregister("./no-typescript-hooks.mjs", import.meta.url);\n`);

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the bin asynchronously (the fake engine lives in this process and must keep answering). */
function packline(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; nodeArgs?: string[] } = {}): Promise<Ran> {
  // Only what a user's shell would have: no DAGGER_* variables of this process leak in.
  const env: NodeJS.ProcessEnv = { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: join(tmp, "home"), XDG_CACHE_HOME: join(tmp, "cache"), ...opts.env };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), BIN, ...args], {
      cwd: opts.cwd ?? project,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** One message, packline's, and nothing of a crash. */
function expectOneMessage(ran: Ran): string {
  expect(ran.code).toBe(1);
  expect(ran.stdout).toBe("");
  expect(ran.stderr.match(/packline: /g), ran.stderr).toHaveLength(1);
  expect(ran.stderr).not.toMatch(/\n\s+at |Unhandled|TypeError|node:internal|\.js:\d+/);
  const message = ran.stderr.slice(ran.stderr.indexOf("packline: "));
  expect(message.endsWith("\n")).toBe(true);
  return message;
}

describe("node bin/packline.js from another directory", () => {
  it("plan works (no engine)", async () => {
    const ran = await packline(["plan", "--tag", "v1.0.0", "--source", "."]);
    expect([ran.code, ran.stderr]).toEqual([0, ""]);
    expect(ran.stdout).toMatch(/^version {4}1\.0\.0\npublishes {2}registry:5000\/app:1\.0\.0\n/);
  }, 60_000);

  it("build works against an engine, and builds that directory", async () => {
    await withFakeEngineEnv({ answers: world() }, async (engine) => {
      const ran = await packline(["build", "--tag", "v1.0.0", "--source", "."], { env: engine.env });
      expect([ran.code, ran.stderr]).toEqual([0, ""]);
      expect(ran.stdout).toMatch(new RegExp(`^published:\\n {2}registry:5000/app:1\\.0\\.0@${RELEASED_DIGEST}\\n`));
      expect(stepsRun(engine)).toEqual(["check", "build", "release"]);
      expect(engine.find("directory").find((s) => s.args.path !== undefined)?.args.path).toBe(".");
    });
  }, 60_000);

  it("build loads the Dagger SDK as a client: without its module runtime and the TypeScript compiler that imports", async () => {
    await withFakeEngineEnv({ answers: world() }, async (engine) => {
      const ran = await packline(["build", "--tag", "v1.0.0", "--source", "."], { env: engine.env, nodeArgs: ["--import", NO_TYPESCRIPT] });
      expect([ran.code, ran.stderr]).toEqual([0, ""]);
      expect(stepsRun(engine)).toEqual(["check", "build", "release"]);
    });
    // the guard itself: the SDK's whole entry, as the module loads it, does import TypeScript
    const whole = spawnSync(process.execPath, ["--import", NO_TYPESCRIPT, "--input-type=module", "-e", 'await import("@dagger.io/dagger")'], {
      cwd: fileURLToPath(new URL("../..", import.meta.url)),
      encoding: "utf8",
    });
    expect(whole.status).not.toBe(0);
    expect(whole.stderr).toContain("the TypeScript compiler was imported by");
  }, 60_000);

  it("--source /nonexistent is refused before any engine is started", async () => {
    // No engine and no network: anything that tried to reach one would fail differently.
    const ran = await packline(["build", "--tag", "v1.0.0", "--source", "/nonexistent/dir"], { nodeArgs: ["--import", NO_NETWORK] });
    expect(expectOneMessage(ran)).toBe('packline: --source "/nonexistent/dir" does not exist: give the directory to build (e.g. --source .).\n');
    expect(ran.stderr).not.toContain("Downloading");
  }, 60_000);
});

/**
 * A fake `dagger` CLI in its own directory (put on PATH or named by _EXPERIMENTAL_DAGGER_CLI_BIN): `dagger version`
 * prints `version`; `dagger session` prints the fake engine's connect parameters and waits, as the real one does, or
 * fails with `fail` on stderr (which may be empty). Every call is logged.
 */
function fakeDagger(opts: { version: string; engine?: FakeEngine; fail?: string }): { dir: string; bin: string; calls: () => string } {
  const dir = mkdtempSync(join(tmp, "dagger-"));
  const bin = join(dir, "dagger");
  const session = opts.engine
    ? `trap 'kill $pid 2>/dev/null; exit 0' TERM INT\nsleep 300 &\npid=$!\necho '${JSON.stringify({ port: Number(opts.engine.env.DAGGER_SESSION_PORT), session_token: opts.engine.env.DAGGER_SESSION_TOKEN })}'\nwait $pid\n`
    : `printf '%s' '${opts.fail ?? ""}' >&2\nexit 1\n`;
  writeFileSync(
    bin,
    `#!/bin/sh\necho "$1" >> '${dir}/calls'\nif [ "$1" = version ]; then echo 'dagger v${opts.version} (fake) linux/amd64'; exit 0; fi\n${session}`,
  );
  chmodSync(bin, 0o755);
  return { dir, bin, calls: () => (existsSync(join(dir, "calls")) ? readFileSync(join(dir, "calls"), "utf8") : "") };
}

const USER_PATH = "/usr/local/bin:/usr/bin:/bin";
const SDK_VERSION = sdkDaggerVersion();

describe("packline build uses the user's Dagger", () => {
  it("a `dagger` on PATH of the SDK's minor version: run as the SDK's CLI, nothing downloaded", async () => {
    await withFakeEngineEnv({ answers: world() }, async (engine) => {
      const dagger = fakeDagger({ version: SDK_VERSION.replace(/\.\d+$/, ".0"), engine });
      // No network: a download would fail, so the build can only pass through the dagger on PATH.
      const ran = await packline(["build", "--tag", "v1.0.0", "--source", "."], {
        env: { PATH: `${dagger.dir}:${USER_PATH}` },
        nodeArgs: ["--import", NO_NETWORK],
      });
      expect(ran.code, ran.stderr).toBe(0);
      expect(ran.stdout).toMatch(/^published:\n/);
      // Only the SDK's own progress lines of a session it starts; no download, no notice.
      expect(ran.stderr).toBe("Creating new Engine session... OK!\nEstablishing connection to Engine... OK!\n");
      expect(dagger.calls()).toBe("version\nsession\n");
      expect(stepsRun(engine)).toEqual(["check", "build", "release"]);
    });
  }, 60_000);

  it("a `dagger` of another version: not run; said so, then the download is announced first", async () => {
    const dagger = fakeDagger({ version: "0.13.7", fail: "must not run" });
    const ran = await packline(["build", "--tag", "v1.0.0"], { env: { PATH: `${dagger.dir}:${USER_PATH}` }, nodeArgs: ["--import", NO_NETWORK] });
    const message = expectOneMessage(ran);
    expect(dagger.calls()).toBe("version\n");
    const cannot = `dagger v0.13.7 on PATH (${dagger.bin}), which this packline cannot drive: its Dagger SDK ${SDK_VERSION} drives Dagger 0.21.x`;
    expect(ran.stderr.startsWith(`note: no Dagger CLI to use (no \`dagger run\` session (DAGGER_SESSION_PORT is not set); ${cannot}; `)).toBe(true);
    expect(ran.stderr).toContain(`downloading the Dagger CLI ${SDK_VERSION} into ${join(tmp, "cache", "dagger")}`);
    expect(message).toContain(
      `Tried: no \`dagger run\` session (DAGGER_SESSION_PORT is not set); ${cannot}; no Dagger CLI ${SDK_VERSION} downloaded before`,
    );
    expect(message).toMatch(/then downloading the Dagger CLI [0-9.]+, which failed \(.*ENOTFOUND.*\)\. Install the Dagger CLI 0\.21\.x /);
  }, 60_000);

  it("the CLI the SDK downloaded before (its cache): run, nothing downloaded", async () => {
    await withFakeEngineEnv({ answers: world() }, async (engine) => {
      const dagger = fakeDagger({ version: SDK_VERSION, engine });
      const cache = join(tmp, "cached", "dagger");
      mkdirSync(cache, { recursive: true });
      copyFileSync(dagger.bin, join(cache, `dagger-${SDK_VERSION}`));
      chmodSync(join(cache, `dagger-${SDK_VERSION}`), 0o755);
      const ran = await packline(["build", "--tag", "v1.0.0", "--source", "."], {
        env: { XDG_CACHE_HOME: join(tmp, "cached") },
        nodeArgs: ["--import", NO_NETWORK],
      });
      expect([ran.code, ran.stderr]).toEqual([0, "Creating new Engine session... OK!\nEstablishing connection to Engine... OK!\n"]);
      expect(dagger.calls()).toBe("session\n");
    });
  }, 60_000);

  it("the session of `dagger run` (DAGGER_SESSION_PORT/TOKEN): used even with a dagger on PATH, which is not run", async () => {
    await withFakeEngineEnv({ answers: world() }, async (engine) => {
      const dagger = fakeDagger({ version: SDK_VERSION, fail: "must not run" });
      const ran = await packline(["build", "--tag", "v1.0.0", "--source", "."], { env: { ...engine.env, PATH: `${dagger.dir}:${USER_PATH}` } });
      expect([ran.code, ran.stderr]).toEqual([0, ""]);
      expect(dagger.calls()).toBe("");
    });
  }, 60_000);

  it("DAGGER_SESSION_PORT without its token: one message with the fix, no engine tried", async () => {
    const ran = await packline(["build", "--tag", "v1.0.0"], { env: { DAGGER_SESSION_PORT: "1234" }, nodeArgs: ["--import", NO_NETWORK] });
    expect(expectOneMessage(ran)).toBe(
      "packline: DAGGER_SESSION_PORT is set but DAGGER_SESSION_TOKEN is not: run packline inside `dagger run`, which sets both, or unset DAGGER_SESSION_PORT.\n",
    );
  }, 60_000);
});

describe("packline build without an engine", () => {
  it("no Dagger CLI and no network: the download is announced, then one message naming what was tried and the fix", async () => {
    const ran = await packline(["build", "--tag", "v1.0.0"], { nodeArgs: ["--import", NO_NETWORK] });
    const message = expectOneMessage(ran);
    expect(ran.stderr).toMatch(/^note: no Dagger CLI to use \(.*no `dagger` on PATH.*\): downloading the Dagger CLI [0-9.]+ into .*\n/);
    expect(message).toMatch(
      /^packline: no Dagger engine was reached\. Tried: no `dagger run` session \(DAGGER_SESSION_PORT is not set\); no `dagger` on PATH; no Dagger CLI [0-9.]+ downloaded before \(in [^)]+\); then downloading the Dagger CLI [0-9.]+, which failed \(.*ENOTFOUND.*\)\. /,
    );
    expect(message).toContain("Install the Dagger CLI 0.21.x (https://docs.dagger.io/install) and Docker, where it runs its engine");
    expect(message).toContain("`packline plan` and `packline argo` need no engine.");
    expect(message).not.toMatch(/\(\w*Error: \)|\(\)/);
  }, 60_000);

  it("a Dagger CLI that cannot start an engine: one message with what it said, no unhandled rejection", async () => {
    const dagger = join(tmp, "dagger");
    writeFileSync(dagger, '#!/bin/sh\necho "Error: failed to start engine: cannot connect to the Docker daemon" >&2\nexit 1\n');
    chmodSync(dagger, 0o755);
    const ran = await packline(["build", "--tag", "v1.0.0"], { env: { _EXPERIMENTAL_DAGGER_CLI_BIN: dagger } });
    const message = expectOneMessage(ran);
    expect(message).toMatch(/^packline: the Dagger CLI .* \(_EXPERIMENTAL_DAGGER_CLI_BIN\) could not start or reach an engine \(.+\): /);
    // What the CLI said is in the message (not the SDK's TypeError on the connect parameters it never got).
    expect(message).toContain("failed to start engine: cannot connect to the Docker daemon");
    expect(message).toContain("start Docker");
    expect(message).not.toContain("Install the Dagger CLI");
  }, 60_000);

  it("a `dagger` on PATH that ends without a word: no empty cause, and no advice to install what is installed", async () => {
    const dagger = fakeDagger({ version: SDK_VERSION, fail: "" });
    const ran = await packline(["build", "--tag", "v1.0.0"], { env: { PATH: `${dagger.dir}:${USER_PATH}` }, nodeArgs: ["--import", NO_NETWORK] });
    const message = expectOneMessage(ran);
    expect(message).toMatch(
      new RegExp(
        `^packline: dagger v${SDK_VERSION.replace(/\./g, "\\.")} \\(${dagger.bin.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\) could not start or reach an engine \\(the CLI ended without saying why\\): `,
      ),
    );
    expect(message).not.toMatch(/\(\w*Error: \)|\(\)/);
    expect(message).not.toContain("Install the Dagger CLI");
    expect(ran.stderr).not.toContain("Downloading");
  }, 60_000);

  it("with _EXPERIMENTAL_DAGGER_RUNNER_HOST: the message names that engine and gives no Docker advice", async () => {
    const dagger = fakeDagger({ version: SDK_VERSION, fail: "Error: connect: connection refused" });
    const ran = await packline(["build", "--tag", "v1.0.0"], {
      env: { PATH: `${dagger.dir}:${USER_PATH}`, _EXPERIMENTAL_DAGGER_RUNNER_HOST: "tcp://127.0.0.1:1" },
      nodeArgs: ["--import", NO_NETWORK],
    });
    const message = expectOneMessage(ran);
    expect(message).toContain("could not reach the engine at _EXPERIMENTAL_DAGGER_RUNNER_HOST=tcp://127.0.0.1:1 (connect: connection refused): ");
    expect(message).not.toContain("start Docker");
    expect(dagger.calls()).toBe("version\nsession\n");
  }, 60_000);
});
