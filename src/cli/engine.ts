/**
 * Which Dagger `packline build` uses, in this order: the session of a surrounding `dagger run` (DAGGER_SESSION_PORT
 * and DAGGER_SESSION_TOKEN), a CLI the user named (_EXPERIMENTAL_DAGGER_CLI_BIN), a `dagger` on PATH whose version the
 * SDK can drive, the CLI the SDK downloaded before (its cache), and only then a download, announced first. An engine
 * named by _EXPERIMENTAL_DAGGER_RUNNER_HOST is where the chosen CLI connects (the CLI reads that variable itself).
 * The SDK reads its settings from process.env, so this does too. Nothing runs at import time (the engine imports
 * every file under src/).
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir, platform } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { PacklineError } from "../core/errors.js";
import { findPackageVersion } from "./package-version.js";

export type EngineRoute =
  /** The session of `dagger run`: the SDK talks to it directly, no CLI. */
  | { readonly via: "session"; readonly port: string }
  /** A Dagger CLI the SDK runs as `dagger session` (passed as _EXPERIMENTAL_DAGGER_CLI_BIN). */
  | { readonly via: "cli"; readonly bin: string; readonly what: string }
  /** Nothing usable: the SDK downloads its CLI. */
  | { readonly via: "download"; readonly into: string };

export interface EngineChoice {
  readonly route: EngineRoute;
  /** _EXPERIMENTAL_DAGGER_RUNNER_HOST, when set: the engine the CLI connects to. */
  readonly runnerHost?: string;
  /** What was looked at, in order, and what was found: for the notice before a download and the no-engine message. */
  readonly tried: readonly string[];
}

/** The Dagger version the SDK in use drives (its package's version, which is its CLI_VERSION). */
export function sdkDaggerVersion(): string {
  const version = findPackageVersion(dirname(createRequire(import.meta.url).resolve("@dagger.io/dagger")), "@dagger.io/dagger");
  if (version === undefined) throw new Error("internal: the version of @dagger.io/dagger was not found");
  return version;
}

/** `dagger v0.21.9 (...)` -> "0.21.9"; undefined when the text names no version. */
export function parseDaggerVersion(text: string): string | undefined {
  return /\bdagger v?(\d+\.\d+\.\d+)/.exec(text)?.[1];
}

/** The SDK drives a CLI of its own major.minor (e.g. SDK 0.21.9: any 0.21.x). */
export function compatible(cliVersion: string, sdkVersion: string): boolean {
  const minor = (v: string) => v.split(".").slice(0, 2).join(".");
  return minor(cliVersion) === minor(sdkVersion);
}

/** Where the SDK keeps the CLI it downloads (env-paths' cache directory for "dagger", as the SDK computes it). */
export function sdkCacheDir(env: NodeJS.ProcessEnv): string | undefined {
  if (platform() === "darwin") return join(homedir(), "Library", "Caches", "dagger");
  if (platform() === "win32") return env.LOCALAPPDATA ? join(env.LOCALAPPDATA, "dagger", "Cache") : undefined;
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), ".cache"), "dagger");
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const file = join(dir, name);
    try {
      if (!statSync(file).isFile()) continue;
      accessSync(file, constants.X_OK);
      return file;
    } catch {}
  }
  return undefined;
}

/** Runs `<bin> version` (the client's version only; no engine is started) and returns what it printed. */
export type VersionProbe = (bin: string) => { readonly ok: boolean; readonly output: string };

export const runVersion: VersionProbe = (bin) => {
  const r = spawnSync(bin, ["version"], { encoding: "utf8", timeout: 15_000, env: { ...process.env, DAGGER_NO_NAG: "1" } });
  return { ok: r.status === 0, output: `${r.stdout ?? ""}${r.stderr ?? ""}`.trim() };
};

/** Chooses how to reach an engine; throws a PacklineError only for a setting that cannot work. */
export function chooseEngine(env: NodeJS.ProcessEnv = process.env, probe: VersionProbe = runVersion): EngineChoice {
  const sdk = sdkDaggerVersion();
  const runnerHost = env._EXPERIMENTAL_DAGGER_RUNNER_HOST || undefined;
  const tried: string[] = [];
  if (env.DAGGER_SESSION_PORT) {
    if (!env.DAGGER_SESSION_TOKEN) {
      throw new PacklineError(
        "DAGGER_SESSION_PORT is set but DAGGER_SESSION_TOKEN is not: run packline inside `dagger run`, which sets both, or unset DAGGER_SESSION_PORT.",
      );
    }
    return {
      route: { via: "session", port: env.DAGGER_SESSION_PORT },
      runnerHost,
      tried: [`the \`dagger run\` session (DAGGER_SESSION_PORT=${env.DAGGER_SESSION_PORT})`],
    };
  }
  tried.push("no `dagger run` session (DAGGER_SESSION_PORT is not set)");
  const named = env._EXPERIMENTAL_DAGGER_CLI_BIN;
  if (named) {
    return { route: { via: "cli", bin: named, what: `the Dagger CLI ${named} (_EXPERIMENTAL_DAGGER_CLI_BIN)` }, runnerHost, tried };
  }
  const dagger = onPath("dagger", env);
  if (dagger === undefined) {
    tried.push("no `dagger` on PATH");
  } else {
    const { ok, output } = probe(dagger);
    const version = ok ? parseDaggerVersion(output) : undefined;
    if (version !== undefined && compatible(version, sdk)) {
      return { route: { via: "cli", bin: dagger, what: `dagger v${version} (${dagger})` }, runnerHost, tried };
    }
    tried.push(
      version === undefined
        ? `${dagger}, whose version could not be read (\`dagger version\`: ${firstLine(output) || "no output"})`
        : `dagger v${version} on PATH (${dagger}), which this packline cannot drive: its Dagger SDK ${sdk} drives Dagger ${minorOf(sdk)}.x`,
    );
  }
  const cache = sdkCacheDir(env);
  const cached = cache === undefined ? undefined : join(cache, `dagger-${sdk}${platform() === "win32" ? ".exe" : ""}`);
  if (cached !== undefined && existsSync(cached)) {
    return { route: { via: "cli", bin: cached, what: `dagger v${sdk} downloaded before (${cached})` }, runnerHost, tried };
  }
  tried.push(`no Dagger CLI ${sdk} downloaded before${cache === undefined ? "" : ` (in ${cache})`}`);
  return { route: { via: "download", into: cache ?? "the SDK's cache directory" }, runnerHost, tried };
}

/** The line printed before the SDK downloads its CLI. */
export function downloadNotice(choice: EngineChoice): string {
  return `note: no Dagger CLI to use (${choice.tried.join("; ")}): downloading the Dagger CLI ${sdkDaggerVersion()} into ${
    choice.route.via === "download" ? choice.route.into : "the SDK's cache"
  } (to skip this, install the Dagger CLI ${minorOf(sdkDaggerVersion())}.x: https://docs.dagger.io/install)\n`;
}

const NO_ENGINE_NEEDED = "`packline plan` and `packline argo` need no engine.";

/** What went wrong reaching an engine by `choice`, what was tried, and only advice that applies. */
export function engineError(error: unknown, choice: EngineChoice): PacklineError {
  const why = causeOf(error);
  const cause = why !== "" ? ` (${why})` : choice.route.via === "cli" ? " (the CLI ended without saying why)" : "";
  const host = choice.runnerHost ? `the engine at _EXPERIMENTAL_DAGGER_RUNNER_HOST=${choice.runnerHost}` : undefined;
  const route = choice.route;
  switch (route.via) {
    case "session":
      return new PacklineError(
        `the \`dagger run\` session at DAGGER_SESSION_PORT=${route.port} could not be reached${cause}: run packline inside a running \`dagger run\`, or unset DAGGER_SESSION_PORT and DAGGER_SESSION_TOKEN to let packline start its own session. ${NO_ENGINE_NEEDED}`,
      );
    case "cli":
      return new PacklineError(
        host
          ? `${route.what} could not reach ${host}${cause}: check that this engine runs and is reachable from here, or unset _EXPERIMENTAL_DAGGER_RUNNER_HOST to let the CLI start its own engine (in Docker). ${NO_ENGINE_NEEDED}`
          : `${route.what} could not start or reach an engine${cause}: the Dagger CLI runs its engine in Docker, so start Docker (or another container runtime it supports); or point _EXPERIMENTAL_DAGGER_RUNNER_HOST at a running engine. ${NO_ENGINE_NEEDED}`,
      );
    case "download":
      return new PacklineError(
        `no Dagger engine was reached. Tried: ${choice.tried.join("; ")}; then downloading the Dagger CLI ${sdkDaggerVersion()}, which failed${cause}. Install the Dagger CLI ${minorOf(sdkDaggerVersion())}.x (https://docs.dagger.io/install)${
          host ? ` (it will connect to ${host})` : " and Docker, where it runs its engine"
        }, or run packline inside \`dagger run\`. ${NO_ENGINE_NEEDED}`,
      );
  }
}

/** The error's first non-empty line without the SDK's wrappings; "" when it says nothing (never `EngineSessionError: `). */
export function causeOf(error: unknown): string {
  const parts: string[] = [];
  let e: unknown = error;
  for (let depth = 0; e !== undefined && depth < 5; depth++) {
    const message = e instanceof Error ? e.message : String(e);
    const stderr = (e as { stderr?: unknown } | undefined)?.stderr;
    for (const text of [typeof stderr === "string" ? stderr : "", message]) {
      const line = firstLine(text.replace(/^failed to execute function with automatic provisioning: /, "").replace(/^\w*Error(: ?|$)/, ""));
      if (line !== "" && !parts.some((p) => p.includes(line) || line.includes(p))) parts.push(line);
    }
    e = e instanceof Error ? e.cause : undefined;
  }
  // The SDK's own TypeError when the CLI ended before printing its connect parameters says nothing to a user.
  const said = parts.filter((p) => !/reading 'port'|connect params/.test(p));
  const text = said.length === 0 && parts.length > 0 ? "the CLI ended without starting a session" : said.join(": ");
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}

function firstLine(text: string): string {
  return (text.split("\n").find((l) => l.trim() !== "") ?? "").trim();
}

function minorOf(version: string): string {
  return version.split(".").slice(0, 2).join(".");
}
