/**
 * Helpers for the real-engine suite (npm run test:engine): where the engine is, the environment the Dagger SDK and
 * CLI need to use it, and ways to drive packline against it (the SDK's connection(), `packline build` as a process,
 * the `dagger` CLI). test/lab/engine/engine.sh starts the engine (or adopts a given one) and writes its client
 * environment to $PACKLINE_LAB_STATE/engine/env; everything here reads that file.
 */
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ENGINE_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(ENGINE_DIR, "../../..");
export const LAB_STATE = process.env.PACKLINE_LAB_STATE ?? "/var/lib/packline-lab";
/** The lab's address: its registries and git server listen there; engine containers reach it through dagger0. */
export const LAB_ADDR = "10.123.0.1";
export const IMAGES_REGISTRY = `${LAB_ADDR}:5001`;
export const APPS_REGISTRY = `${LAB_ADDR}:5000`;
export const NPM_REGISTRY = `http://${LAB_ADDR}:4873/`;

export interface EngineInfo {
  /** "started": engine.sh runs it in the lab; "external": one given by the caller (no log, maybe not in the lab). */
  readonly mode: "started" | "external";
  /** `unix://...` for the lab's engine; empty for a CLI's own default engine. */
  readonly runnerHost: string;
  readonly cliBin: string;
  /** The engine's own log (started engines only): tests read it, e.g. to prove no secret reached it. */
  readonly logPath?: string;
  /** Whether the built-in SDK content is there, i.e. whether TypeScript modules load (`dagger call`). */
  readonly modules: boolean;
  /** The lab's npm registry's request log (started engines with modules): a package it lacked shows as MISSING. */
  readonly npmRegistryLog?: string;
}

export function engineEnvFile(): string {
  return join(LAB_STATE, "engine", "env");
}

/** The engine engine.sh brought up, or undefined when none is up. */
export function findEngine(): EngineInfo | undefined {
  const file = engineEnvFile();
  if (!existsSync(file)) return undefined;
  const kv = Object.fromEntries(
    readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
  return {
    mode: kv.PACKLINE_ENGINE_MODE === "external" ? "external" : "started",
    runnerHost: kv._EXPERIMENTAL_DAGGER_RUNNER_HOST ?? "",
    cliBin: kv._EXPERIMENTAL_DAGGER_CLI_BIN ?? "dagger",
    logPath: kv.PACKLINE_ENGINE_LOG || undefined,
    modules: kv.PACKLINE_ENGINE_MODULES === "1",
    npmRegistryLog: kv.PACKLINE_NPM_REGISTRY_LOG || undefined,
  };
}

/** The engine, or an error that says how to get one (the suite's setup brings it up; a test never skips for it). */
export function engine(): EngineInfo {
  const e = findEngine();
  if (!e) {
    throw new Error(
      `no Dagger engine is up (${engineEnvFile()} is missing): run the suite with npm run test:engine, or ` + "test/lab/engine/engine.sh up first",
    );
  }
  return e;
}

/**
 * The environment a Dagger client needs for this engine: the runner host and CLI (else the SDK would download a
 * CLI and look for Docker), no nagging, and none of the variables that would send it elsewhere or leak into the
 * engine: DAGGER_SESSION_PORT/TOKEN (the SDK would skip the CLI and use that session), GOPROXY/GODEBUG (the Go SDK
 * copies the client's values into its containers, which have no route to a proxy).
 */
export function engineEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const e = engine();
  const env: NodeJS.ProcessEnv = { ...base, DAGGER_NO_NAG: "1", _EXPERIMENTAL_DAGGER_CLI_BIN: e.cliBin };
  for (const k of ["DAGGER_SESSION_PORT", "DAGGER_SESSION_TOKEN", "GOPROXY", "GODEBUG", "DAGGER_CLOUD_TOKEN"]) delete env[k];
  if (e.runnerHost) env._EXPERIMENTAL_DAGGER_RUNNER_HOST = e.runnerHost;
  else delete env._EXPERIMENTAL_DAGGER_RUNNER_HOST;
  return env;
}

/**
 * Runs fn inside the SDK's connection() to the lab's engine: what packline's CLI does, and what a test needs to
 * call the module's code (the Packline class, runPlan) for real. The SDK reads its settings from process.env, so
 * they are set for the worker (vitest runs engine tests one file at a time, in forks).
 */
export async function withEngine<T>(fn: () => Promise<T>): Promise<T> {
  const env = engineEnv();
  for (const k of Object.keys(process.env)) if (!(k in env)) delete process.env[k];
  Object.assign(process.env, env);
  const { connection } = await import("@dagger.io/dagger");
  let result: T | undefined;
  let failure: unknown;
  // connection() wraps errors thrown inside it (issue 11, item 3): hand the test the original one
  await connection(async () => {
    try {
      result = await fn();
    } catch (e) {
      failure = e;
    }
  });
  if (failure !== undefined) throw failure;
  return result as T;
}

/** The engine's log so far ("" for an engine the suite did not start: it has none to read). */
export function engineLog(): string {
  const p = engine().logPath;
  return p && existsSync(p) ? readFileSync(p, "utf8") : "";
}

export interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time in milliseconds. */
  readonly ms: number;
}

/** Runs a command to its end with a time limit (killed past it, code -1), collecting its output. */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {},
): Promise<Ran> {
  const started = Date.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 10 * 60_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? -1, stdout, stderr, ms: Date.now() - started });
    });
    // a child that ends before reading its input (most take none) must not fail the caller with EPIPE
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.input ?? "");
  });
}

/**
 * Runs the `dagger` CLI against the engine. --progress=plain keeps stderr readable; the working directory decides
 * which module `dagger call`/`functions` loads (use a copy: see moduleCopy).
 */
export function runDagger(args: readonly string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Ran> {
  return run(engine().cliBin, ["--progress=plain", ...args], {
    cwd: opts.cwd,
    env: { ...engineEnv(), ...opts.env },
    timeoutMs: opts.timeoutMs,
  });
}

/**
 * Runs `packline` (bin/packline.js of this checkout, or of `root`, e.g. a moduleCopy) as a process against the
 * engine, as a user's `npx packline` would.
 */
export function runPackline(
  args: readonly string[],
  opts: { root?: string; cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Ran> {
  const root = opts.root ?? REPO_ROOT;
  return run(process.execPath, [join(root, "bin", "packline.js"), ...args], {
    cwd: opts.cwd ?? root,
    env: { ...engineEnv(), ...opts.env },
    timeoutMs: opts.timeoutMs,
  });
}

/**
 * A copy of this repository as a user would have it, for `dagger call` (the engine uploads the module's directory;
 * the copy keeps sdk/ and the lab's state out of it). By default the files git knows (tracked, and new ones not
 * ignored) as they are in the working tree, so the module loaded is the code the other tests run; in CI's fresh
 * clone that is the commit under test. With a ref (or PACKLINE_ENGINE_MODULE_REF), that commit's tree instead.
 * The copy is a git repository (a module's context directory is its repository's root) and has a node_modules
 * symlink to this checkout's (the TypeScript runtime never uploads node_modules), so runPackline({ root }) can run
 * the copy's own bin/packline.js. Remove it with removeDir when done.
 */
export async function moduleCopy(ref = process.env.PACKLINE_ENGINE_MODULE_REF): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "packline-module-"));
  if (ref) {
    const r = await run("sh", ["-c", `git -C "${REPO_ROOT}" archive "${ref}" | tar -C "${dir}" -xf -`]);
    if (r.code !== 0) throw new Error(`git archive ${ref} failed: ${r.stderr}`);
  } else {
    const ls = await run("git", ["-C", REPO_ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"]);
    if (ls.code !== 0) throw new Error(`git ls-files failed: ${ls.stderr}`);
    // a file staged but deleted in the working tree (a move in progress) is not part of the tree as it is
    const files = ls.stdout.split("\0").filter((f) => f && existsSync(join(REPO_ROOT, f)));
    const tar = await run("sh", ["-c", `tar -C "${REPO_ROOT}" --null -T - -cf - | tar -C "${dir}" -xf -`], {
      input: files.join("\0"),
    });
    if (tar.code !== 0) throw new Error(`copying the working tree failed: ${tar.stderr}`);
  }
  const g = await run("sh", ["-c", "git init -q && git add -A && git -c user.name=lab -c user.email=lab@packline.invalid commit -qm copy"], {
    cwd: dir,
  });
  if (g.code !== 0) throw new Error(`git init of the module copy failed: ${g.stderr}`);
  symlinkSync(join(REPO_ROOT, "node_modules"), join(dir, "node_modules"));
  return dir;
}

/** Copies a directory to a fresh temporary one (fixtures the tests change). */
export function tempCopy(src: string): string {
  const dir = mkdtempSync(join(tmpdir(), "packline-fixture-"));
  cpSync(src, dir, { recursive: true });
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
