/**
 * `packline` as a user runs it: `node bin/packline.js` in its own process. From another directory (the Dagger
 * decorators need this repository's tsconfig wherever the user stands), against the fake engine; and every way of
 * not reaching an engine ends in one message with the fix, exit 1, no stack trace, no unhandled rejection.
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { RELEASED_DIGEST, stepsRun, world } from "../backends/dagger/pipeline.js";
import { withFakeEngineEnv } from "../support/fake-engine.js";

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

  it("--source /nonexistent is refused before any engine is started", async () => {
    // No engine and no network: anything that tried to reach one would fail differently.
    const ran = await packline(["build", "--tag", "v1.0.0", "--source", "/nonexistent/dir"], { nodeArgs: ["--import", NO_NETWORK] });
    expect(expectOneMessage(ran)).toBe('packline: --source "/nonexistent/dir" does not exist: give the directory to build (e.g. --source .).\n');
    expect(ran.stderr).not.toContain("Downloading");
  }, 60_000);
});

describe("packline build without an engine", () => {
  it("no Dagger CLI and no network: one message naming what is missing and the fix", async () => {
    const ran = await packline(["build", "--tag", "v1.0.0"], { nodeArgs: ["--import", NO_NETWORK] });
    const message = expectOneMessage(ran);
    expect(message).toMatch(/^packline: no Dagger CLI was found, and it could not be downloaded \(.*ENOTFOUND.*\)\. /);
    expect(message).toContain("Install the Dagger CLI (https://docs.dagger.io/install)");
    expect(message).toContain("_EXPERIMENTAL_DAGGER_RUNNER_HOST");
    expect(message).toContain("`packline plan` and `packline argo` need no engine.");
    // The SDK's "Downloading CLI... " has no newline: the message starts on its own line.
    expect(ran.stderr).toMatch(/^(Downloading CLI\.\.\. \n)?packline: /);
  }, 60_000);

  it("a Dagger CLI that cannot start an engine: one message, no unhandled rejection", async () => {
    const dagger = join(tmp, "dagger");
    writeFileSync(dagger, '#!/bin/sh\necho "Error: failed to start engine: cannot connect to the Docker daemon" >&2\nexit 1\n');
    chmodSync(dagger, 0o755);
    const ran = await packline(["build", "--tag", "v1.0.0"], { env: { _EXPERIMENTAL_DAGGER_CLI_BIN: dagger } });
    const message = expectOneMessage(ran);
    expect(message).toMatch(/^packline: the Dagger CLI could not start or reach an engine \(.+\)\. packline build runs on a Dagger engine\./);
    // What the CLI said is in the message (not the SDK's TypeError on the connect parameters it never got).
    expect(message).toContain("failed to start engine: cannot connect to the Docker daemon");
    expect(message).toContain("start Docker");
  }, 60_000);
});
