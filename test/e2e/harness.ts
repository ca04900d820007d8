/**
 * The e2e harness: runs packline plan steps against the real components of the lab (test/lab/: a Docker daemon, an
 * htpasswd-protected registry at 10.123.0.1:5000, the test images and the busybox test builder with the real
 * lifecycle at 10.123.0.1:5001, the real pack CLI). The tests run in the lab's network namespace.
 *
 * `runStep` executes a plan `ContainerStep` the way a backend must: exactly the image, user, command, args, env,
 * files, mounts and workdir the plan gives. Nothing about the creator is known here; it all comes from the plan.
 */
import { execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import type { BuildPlan, ContainerStep, Late } from "../../src/core/plan/planner.js";
import { resolveText } from "../../src/core/plan/text.js";
import { type Lab, labJsonPath, labSh, readLab, registryPassword } from "../lab/lab.js";

export const E2E_DIR = dirname(fileURLToPath(import.meta.url));

// ------------------------------------------------------------------------------------------------------ state

/** What the tests use of the lab (its lab.json, test/lab/README.md), under the names the tests know. */
export interface E2EState {
  readonly lab: Lab;
  readonly stateDir: string;
  /** `unix:///…/docker.sock`: the lab's dockerd (no bridge network: containers use `--network host`, the lab's). */
  readonly dockerHost: string;
  readonly dockerBin: string;
  /** A DOCKER_CONFIG directory whose config.json holds the registry's credentials (docker login). */
  readonly dockerConfigDir: string;
  /** `10.123.0.1:5000`, the apps registry: plain HTTP, htpasswd (Basic) auth; every test publishes here. */
  readonly registry: string;
  /** `10.123.0.1:5001`, the images registry: plain HTTP, anonymous; the builder, run and build images. */
  readonly imagesRegistry: string;
  /** Both registries, which every plan must name as insecure (plain HTTP, not loopback). */
  readonly insecureRegistries: readonly string[];
  readonly username: string;
  readonly password: string;
  /** `<imagesRegistry>/e2e/builder:busybox`, made by `pack builder create`, in the registry and the daemon. */
  readonly builderImage: string;
  /** `<imagesRegistry>/e2e/run:busybox`, the builder's run image, in the registry and the daemon. */
  readonly runImage: string;
  readonly buildImage: string;
  readonly stackId: string;
  readonly cnbUserId: number;
  readonly cnbGroupId: number;
  /** The static-site buildpack, first in the builder's order; `depsBuildpack` follows it, optional. */
  readonly buildpack: { readonly id: string; readonly version: string; readonly dir: string };
  readonly depsBuildpack: { readonly id: string; readonly version: string; readonly dir: string };
  readonly fixtureApp: string;
  /** An app with a packline-deps.lock: real archives the deps buildpack caches in a layer. */
  readonly depsFixtureApp: string;
  readonly packBin: string;
  readonly packHome: string;
  readonly packVersion: string;
  readonly lifecycleVersion: string;
  readonly platformApis: readonly string[];
  readonly buildpackApis: readonly string[];
}

/** The lab's lab.json (`$PACKLINE_LAB_STATE/lab.json`), where every fact of the e2e state comes from. */
export function stateFilePath(): string {
  return labJsonPath();
}

let cachedState: E2EState | undefined;

/** The lab's facts (read once). Throws with the reason when no lab is up. */
export function e2eState(): E2EState {
  if (cachedState) return cachedState;
  const lab = readLab();
  const [buildpack, depsBuildpack] = lab.buildpacks;
  if (!buildpack || !depsBuildpack) throw new Error(`${labJsonPath()} lists ${lab.buildpacks.length} buildpacks, the e2e tests need 2`);
  cachedState = {
    lab,
    stateDir: lab.stateDir,
    dockerHost: lab.docker.host,
    dockerBin: lab.docker.bin,
    dockerConfigDir: lab.dockerConfigDir,
    registry: lab.registries.apps.address,
    imagesRegistry: lab.registries.images.address,
    insecureRegistries: lab.insecureRegistries,
    username: lab.registries.apps.username,
    password: registryPassword(lab),
    builderImage: lab.images.builder.ref,
    runImage: lab.images.run.ref,
    buildImage: lab.images.build.ref,
    stackId: lab.cnb.stackId,
    cnbUserId: lab.cnb.uid,
    cnbGroupId: lab.cnb.gid,
    buildpack,
    depsBuildpack,
    fixtureApp: lab.fixtures.static,
    depsFixtureApp: lab.fixtures.deps,
    packBin: lab.tools.pack,
    packHome: lab.tools.packHome,
    packVersion: lab.versions.pack,
    lifecycleVersion: lab.versions.lifecycle,
    platformApis: lab.versions.platformApis,
    buildpackApis: lab.versions.buildpackApis,
  };
  return cachedState;
}

// ------------------------------------------------------------------------------------------------------ processes

export interface RunResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ExecOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string;
  readonly timeoutMs?: number;
  /** Throw (with the output) when the exit code is not 0. Default true. */
  readonly check?: boolean;
  /** Echo the output as it comes (also on when PACKLINE_E2E_VERBOSE=1). */
  readonly echo?: boolean;
}

/** Runs a program without a shell, collecting its output. */
export function exec(file: string, args: readonly string[], opts: ExecOptions = {}): Promise<RunResult> {
  const echo = opts.echo ?? process.env.PACKLINE_E2E_VERBOSE === "1";
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: opts.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (echo) process.stdout.write(d);
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (echo) process.stderr.write(d);
    });
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          child.kill("SIGKILL");
        }, opts.timeoutMs)
      : undefined;
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      const result = { exitCode: code ?? (signal ? 128 : 1), stdout, stderr };
      if ((opts.check ?? true) && result.exitCode !== 0) {
        reject(new Error(`${file} ${args.join(" ")} exited ${result.exitCode}${signal ? ` (${signal})` : ""}\n${stdout}\n${stderr}`));
      } else {
        resolve(result);
      }
    });
    // a program that exits without reading its stdin must not crash the test process with EPIPE
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.input ?? "");
  });
}

/** The environment every docker/pack call gets: the harness's daemon and the registry login. */
export function dockerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const s = e2eState();
  return { ...process.env, DOCKER_HOST: s.dockerHost, DOCKER_CONFIG: s.dockerConfigDir, ...extra };
}

/** `docker <args>` against the harness's daemon. */
export function docker(args: readonly string[], opts: ExecOptions = {}): Promise<RunResult> {
  return exec(e2eState().dockerBin, args, { ...opts, env: dockerEnv(opts.env) });
}

// ------------------------------------------------------------------------------------------------------ runStep

export interface RunStepOptions {
  /** Host directory mounted at the `source` volume's mount. It is chowned to the build user: pass a copy. */
  readonly sourceDir?: string;
  /** Host directory for the `cache` volume (else a docker volume named after its key, see `cacheVolume`). */
  readonly cacheDir?: string;
  /** Docker volume for the `cache` volume; default `packline-e2e-cache-<key, sanitized>`. Ignored with `cacheDir`. */
  readonly cacheVolume?: string;
  /** Secret values by SecretRef name (the files of `secret` volumes). */
  readonly secrets?: Readonly<Record<string, string>>;
  /** The plan's late values, known now (the harness fills `run-id` and `now` itself when absent). */
  readonly lates?: Readonly<Partial<Record<Late, string>>>;
  /** Host directories to reuse for scratch volumes, by volume name (e.g. the build's `layers` for a later step). */
  readonly scratchDirs?: Readonly<Record<string, string>>;
  /** Extra `docker run` flags, before the image (e.g. `--pull=never`). */
  readonly dockerArgs?: readonly string[];
  readonly timeoutMs?: number;
  readonly echo?: boolean;
  /** Aborted: the step's container is removed (a build the check discards, as a backend ends it). */
  readonly signal?: AbortSignal;
}

export interface StepRun extends RunResult {
  /** The `docker create` argv (secret values never appear in it). */
  readonly argv: readonly string[];
  /** Host directory of each scratch volume, by volume name (e.g. "layers": read report.toml from there). */
  readonly scratch: Readonly<Record<string, string>>;
  /** Host directory of the step's outputs (e.g. the check's outcome), when it declares any. */
  readonly outputsDir?: string;
  /** stdout + stderr. */
  readonly output: string;
  /** Removes the scratch directories and secret files of this run. */
  cleanup(): void;
}

function resolveLates(opts: RunStepOptions): Partial<Record<Late, string>> {
  return { "run-id": randomUUID(), now: String(Math.floor(Date.now() / 1000)), ...opts.lates };
}

export function cacheVolumeName(key: string): string {
  return `packline-e2e-cache-${key.replace(/[^a-zA-Z0-9_.-]+/g, "-")}`.slice(0, 200);
}

/**
 * Makes mounted directories belong to the build user before the step starts, as the backends do (Dagger: the
 * mount's owner; a cluster: fsGroup, and the clone running as that user): a root container of the builder image.
 */
export async function chownToBuildUser(image: string, user: string, volumes: readonly string[], paths: readonly string[]): Promise<void> {
  if (paths.length === 0) return;
  await docker([
    "run",
    "--rm",
    "--network",
    "host",
    "--user",
    "0",
    "--entrypoint",
    "/bin/sh",
    ...volumes.flatMap((v) => ["-v", v]),
    image,
    "-c",
    `chown -R "${user}" "$@"`,
    "chown",
    ...paths,
  ]);
}

const builderUsers = new Map<string, Promise<string>>();

/** The builder's CNB user as uid:gid, read from the image's env as every backend does (once per image and process). */
export function builderUser(image: string): Promise<string> {
  let user = builderUsers.get(image);
  if (!user) {
    user = readBuilderUser(image);
    user.catch(() => builderUsers.delete(image));
    builderUsers.set(image, user);
  }
  return user;
}

async function readBuilderUser(image: string): Promise<string> {
  const env = await docker(["image", "inspect", "-f", "{{json .Config.Env}}", image]);
  const vars = Object.fromEntries((JSON.parse(env.stdout) as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
  if (!vars.CNB_USER_ID || !vars.CNB_GROUP_ID) throw new Error(`${image} sets no CNB_USER_ID/CNB_GROUP_ID`);
  return `${vars.CNB_USER_ID}:${vars.CNB_GROUP_ID}`;
}

/** Writes a file the plan gives into the host directory behind the mount that holds its path; else returns false. */
function writeUnderMount(mountDirs: ReadonlyMap<string, string>, path: string, contents: string): boolean {
  for (const [mountPath, hostDir] of mountDirs) {
    const rel = posix.relative(mountPath, path);
    if (rel && !rel.startsWith("..") && !posix.isAbsolute(rel)) {
      const target = join(hostDir, ...rel.split("/"));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, contents);
      chmodSync(target, 0o644);
      return true;
    }
  }
  return false;
}

/**
 * The `docker run`/`docker create` flags of a container run as a pod runs it: the host's network (where the lab's
 * registries and git server answer), `user` (`uid` or `uid:gid`), and either no capabilities and no privilege
 * escalation (the restricted pod standard) or, for a privileged container, `--privileged`. One place, so that the
 * plan's steps, the Argo build pod and the one-container templates are run under the same rules.
 */
export function podContainerArgs(user: string, privileged = false): string[] {
  return ["--network", "host", "--user", user, ...(privileged ? ["--privileged"] : ["--cap-drop", "ALL", "--security-opt", "no-new-privileges"])];
}

/**
 * What runStep reads of a plan besides the step: its volumes, its build user, and the builder image (whose root user
 * chowns docker volumes). A build plan is one; a rebase plan (src/core/plan/rebase.ts) gives its builder as `build`.
 */
export type StepHost = Pick<BuildPlan, "volumes" | "buildUser" | "builder">;
/** A step of any plan: a ContainerStep, whatever its name. */
export type HostedStep = Omit<ContainerStep, "name"> & { readonly name: string };

/**
 * Runs one plan step with `docker run --network host`, as a restricted pod would run it: exactly its image, user
 * (the builder's CNB user, the tool user 65532, or root for a privileged step), workdir, command + args and env with
 * the late values filled in; no capabilities and no privilege escalation (`--cap-drop ALL --security-opt
 * no-new-privileges`, Docker's default seccomp profile) unless the step is privileged; its files written before the
 * start; its volumes backed by host directories (source, scratch), a docker volume or host directory (cache) and
 * host files (secrets). Never throws for a non-zero exit: check `exitCode` (the output is in the result).
 */
export async function runStep(plan: StepHost, step: HostedStep, opts: RunStepOptions = {}): Promise<StepRun> {
  const work = mkdtempSync(join(tmpdir(), `packline-e2e-step-${step.name}-`));
  const lates = resolveLates(opts);
  const user =
    step.user.kind === "root"
      ? "0:0"
      : step.user.kind === "tool-user"
        ? "65532:65532"
        : plan.buildUser.kind === "given"
          ? `${plan.buildUser.uid}:${plan.buildUser.gid}`
          : await builderUser(plan.builder);
  const volumes: string[] = [];
  const mountDirs = new Map<string, string>(); // container path -> host dir, for writing files
  const owned: string[] = [];
  const scratch: Record<string, string> = {};

  for (const m of step.mounts) {
    const volume = plan.volumes.find((v) => v.name === m.volume);
    if (!volume) throw new Error(`runStep: step ${step.name} mounts undeclared volume ${m.volume}`);
    switch (volume.kind) {
      case "source": {
        if (!opts.sourceDir) throw new Error(`runStep: step "${step.name}" mounts the source at ${m.path}: give sourceDir`);
        volumes.push(`${opts.sourceDir}:${m.path}`);
        mountDirs.set(m.path, opts.sourceDir);
        break;
      }
      case "scratch": {
        const dir = opts.scratchDirs?.[volume.name] ?? join(work, "scratch", volume.name);
        mkdirSync(dir, { recursive: true });
        volumes.push(`${dir}:${m.path}`);
        mountDirs.set(m.path, dir);
        scratch[volume.name] = dir;
        break;
      }
      case "cache": {
        if (opts.cacheDir) {
          mkdirSync(opts.cacheDir, { recursive: true });
          volumes.push(`${opts.cacheDir}:${m.path}`);
        } else {
          volumes.push(`${opts.cacheVolume ?? cacheVolumeName(volume.key)}:${m.path}`);
        }
        break;
      }
      case "secret": {
        const value = opts.secrets?.[volume.secret.name];
        if (value === undefined) throw new Error(`runStep: the plan needs secret "${volume.secret.name}" and the caller gave none`);
        const dir = join(work, "secrets", volume.name);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, volume.file), value, { mode: 0o400 }); // like a Dagger secret mount: the step's user, 0400
        execFileSync("chown", ["-R", user, dir]);
        volumes.push(`${dir}:${m.path}:ro`);
        break;
      }
      case "docker-socket":
        throw new Error("runStep: the pack executor's Docker socket is not run here (see peer-pack.test.ts for pack)");
    }
    if ("ownedByBuildUser" in volume && volume.ownedByBuildUser) owned.push(m.path);
  }
  const outputsDir = step.outputs.some((o) => !o.path.startsWith("/layers")) ? join(work, "outputs") : undefined;
  if (outputsDir) {
    mkdirSync(outputsDir, { recursive: true });
    execFileSync("chown", [user, outputsDir]);
    volumes.push(`${outputsDir}:${posix.dirname(step.outputs.find((o) => !o.path.startsWith("/layers"))!.path)}`);
  }

  const outside: { path: string; contents: string }[] = [];
  for (const f of step.files) {
    if (!writeUnderMount(mountDirs, f.path, f.contents)) outside.push(f);
  }
  const envArgs = step.env.flatMap((e) => ["-e", `${e.name}=${resolveText(e.value, lates)}`]);
  // Host directories are chowned here (the harness runs as root); only docker volumes need a container. A backend
  // pays nearly nothing for this (Dagger: a mount's owner; a cluster: fsGroup), so the harness should not either.
  const ownedVolumes: string[] = [];
  for (const path of owned) {
    const bind = volumes.find((v) => v.split(":")[1] === path && v.startsWith("/"));
    if (bind) execFileSync("chown", ["-R", user, bind.split(":")[0]!]);
    else ownedVolumes.push(path);
  }
  await chownToBuildUser(plan.builder, user, volumes, ownedVolumes);

  const [entrypoint, ...commandRest] = step.command.map((t) => resolveText(t, lates));
  const name = `packline-e2e-${step.name}-${randomUUID().slice(0, 8)}`;
  const createArgs = [
    "create",
    "--name",
    name,
    ...podContainerArgs(user, step.privileged),
    "--workdir",
    step.workdir,
    ...(entrypoint !== undefined ? ["--entrypoint", entrypoint] : []),
    ...envArgs,
    ...volumes.flatMap((v) => ["-v", v]),
    ...(opts.dockerArgs ?? []),
    resolveText(step.image, lates),
    ...commandRest,
    ...step.args.map((t) => resolveText(t, lates)),
  ];
  const result = (run: RunResult, exitCode: number): StepRun => ({
    exitCode,
    stdout: run.stdout,
    stderr: run.stderr,
    output: run.stdout + run.stderr,
    argv: createArgs,
    scratch,
    outputsDir,
    cleanup: () => removeTree(work),
  });
  if (outside.length === 0) {
    // One `docker run --rm` (what a plain backend does), rather than create, start, inspect and rm: the benchmarks
    // time these steps, and the harness should not add its own docker calls to them.
    const running = docker(["run", "--rm", ...createArgs.slice(1)], { check: false, timeoutMs: opts.timeoutMs, echo: opts.echo });
    const stopped = removeOnAbort(name, running, opts.signal);
    const run = await running;
    await stopped;
    // 125-127: docker itself failed (or the run was killed): make sure no container is left behind
    if (run.exitCode >= 125) await docker(["rm", "-f", name], { check: false });
    return result(run, run.exitCode);
  }
  try {
    await docker(createArgs);
    for (const f of outside) await copyIntoContainer(name, f.path, f.contents);
    const running = docker(["start", "--attach", name], { check: false, timeoutMs: opts.timeoutMs, echo: opts.echo });
    const stopped = removeOnAbort(name, running, opts.signal);
    const run = await running;
    await stopped;
    const inspect = await docker(["inspect", "-f", "{{.State.ExitCode}}", name], { check: false });
    return result(run, inspect.exitCode === 0 ? Number(inspect.stdout.trim()) : run.exitCode);
  } finally {
    await docker(["rm", "-f", name], { check: false });
  }
}

/**
 * When `signal` aborts, removes container `name` until `running` (its `docker run`) has ended: a container that did not
 * exist yet when the abort came is removed as soon as it does.
 */
async function removeOnAbort(name: string, running: Promise<RunResult>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return;
  let ended = false;
  const done = running.then(
    () => {
      ended = true;
    },
    () => {
      ended = true;
    },
  );
  if (!signal.aborted) await Promise.race([done, new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }))]);
  while (!ended) {
    await docker(["rm", "-f", name], { check: false });
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 250))]);
  }
}

/** Writes one file into a created container (for plan files outside every mount), via a tar stream. */
async function copyIntoContainer(container: string, path: string, contents: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "packline-e2e-file-"));
  try {
    const local = join(dir, posix.basename(path));
    writeFileSync(local, contents);
    chmodSync(local, 0o644);
    await docker(["cp", local, `${container}:${path}`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Removes a tree that containers filled with files of the CNB user (the harness runs as root, as setup.sh). */
export function removeTree(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * A fresh copy of a directory (default: the fixture app) in a temp dir, to mount as a step's source. The copy's root
 * gets the original's mode (mkdtemp makes it 0700): the creator's app layer records the app directory's own mode, so
 * a 0700 copy gives another image digest than the same files in a 0755 directory (a git checkout, a cluster clone).
 */
export function copySource(from: string = e2eState().fixtureApp): string {
  const dir = mkdtempSync(join(tmpdir(), "packline-e2e-src-"));
  cpSync(from, dir, { recursive: true });
  chmodSync(dir, statSync(from).mode & 0o7777);
  return dir;
}

// ------------------------------------------------------------------------------------------------------ report.toml

export interface ImageReport {
  readonly tags: readonly string[];
  readonly digest: string;
  readonly imageId?: string;
  readonly manifestSize?: number;
}

/** Reads `[image]` of the creator's report.toml (the file, or a layers dir holding report.toml). */
export function readReport(pathOrLayersDir: string): ImageReport {
  const file = pathOrLayersDir.endsWith(".toml") ? pathOrLayersDir : join(pathOrLayersDir, "report.toml");
  const table = tomlTable(readFileSync(file, "utf8"), "image");
  const digest = table.digest;
  if (typeof digest !== "string") throw new Error(`${file}: [image] has no digest`);
  return {
    tags: Array.isArray(table.tags) ? table.tags : [],
    digest,
    imageId: typeof table["image-id"] === "string" ? table["image-id"] : undefined,
    manifestSize: typeof table["manifest-size"] === "number" ? table["manifest-size"] : undefined,
  };
}

/** The string, number and string-array keys of one `[table]` of a TOML document (all report.toml needs). */
export function tomlTable(text: string, name: string): Record<string, string | number | string[]> {
  const out: Record<string, string | number | string[]> = {};
  let current = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      current = header[1]!.trim();
      continue;
    }
    if (current !== name) continue;
    const kv = /^([A-Za-z0-9_-]+)\s*=\s*(.+)$/.exec(line);
    if (!kv) continue;
    const [, key, value] = kv;
    if (value!.startsWith("[")) out[key!] = [...value!.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
    else if (value!.startsWith('"')) out[key!] = JSON.parse(value!) as string;
    else if (/^-?\d+$/.test(value!)) out[key!] = Number(value);
  }
  return out;
}

// ------------------------------------------------------------------------------------------------------ registry

/** The media types a registry may answer a manifest request with (image and index, Docker and OCI). */
export const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

export interface RegistryClient {
  readonly registry: string;
  /** Tags of a repository (e.g. "e2e/app"), sorted; [] when the repository does not exist. */
  listTags(repository: string): Promise<string[]>;
  /** The digest of a tag's (or digest's) manifest, from a HEAD request; undefined when absent. */
  manifestDigest(repository: string, reference: string): Promise<string | undefined>;
  /** The manifest document and its media type. */
  manifest(repository: string, reference: string): Promise<{ mediaType: string; digest: string; body: any }>;
  /** The image config blob (labels, env, created, user…) of a single-platform image. */
  imageConfig(repository: string, reference: string): Promise<any>;
  /** A raw request with the client's auth. */
  request(method: string, path: string, headers?: Record<string, string>): Promise<Response>;
}

/**
 * A registry HTTP API (v2) client with Basic auth: by default the harness's registry and credentials; `auth: null`
 * sends none (to see the registry refuse).
 */
export function registryClient(
  registry: string = e2eState().registry,
  auth: { username: string; password: string } | null = { username: e2eState().username, password: e2eState().password },
): RegistryClient {
  const base = `http://${registry}`;
  const authHeader: Record<string, string> = auth
    ? { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}` }
    : {};
  const request = (method: string, path: string, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { method, headers: { ...authHeader, ...headers } });

  const client: RegistryClient = {
    registry,
    request,
    async listTags(repository) {
      const res = await request("GET", `/v2/${repository}/tags/list`);
      if (res.status === 404) return [];
      if (!res.ok) throw new Error(`GET tags of ${repository}: HTTP ${res.status} ${await res.text()}`);
      const body = (await res.json()) as { tags?: string[] | null };
      return [...(body.tags ?? [])].sort();
    },
    async manifestDigest(repository, reference) {
      const res = await request("HEAD", `/v2/${repository}/manifests/${reference}`, { accept: MANIFEST_ACCEPT });
      if (res.status === 404) return undefined;
      if (!res.ok) throw new Error(`HEAD manifest ${repository}:${reference}: HTTP ${res.status}`);
      return res.headers.get("docker-content-digest") ?? undefined;
    },
    async manifest(repository, reference) {
      const res = await request("GET", `/v2/${repository}/manifests/${reference}`, { accept: MANIFEST_ACCEPT });
      if (!res.ok) throw new Error(`GET manifest ${repository}:${reference}: HTTP ${res.status} ${await res.text()}`);
      return {
        mediaType: res.headers.get("content-type") ?? "",
        digest: res.headers.get("docker-content-digest") ?? "",
        body: await res.json(),
      };
    },
    async imageConfig(repository, reference) {
      const { body } = await client.manifest(repository, reference);
      if (!body.config?.digest) throw new Error(`${repository}:${reference} is not a single-platform image manifest`);
      const res = await request("GET", `/v2/${repository}/blobs/${body.config.digest}`);
      if (!res.ok) throw new Error(`GET config blob of ${repository}:${reference}: HTTP ${res.status}`);
      return res.json();
    },
  };
  return client;
}

/** True when the registry answers an authenticated `GET /v2/` with 200. */
export async function registryAnswers(): Promise<boolean> {
  try {
    const res = await fetch(`http://${e2eState().registry}/v2/`, {
      headers: { authorization: `Basic ${Buffer.from(`${e2eState().username}:${e2eState().password}`).toString("base64")}` },
      signal: AbortSignal.timeout(2_000),
    });
    return res.status === 200;
  } catch {
    return false;
  }
}

/**
 * Stops the apps registry (`lab.sh stop registry-apps`: TERM to its process, only that one) and checks it no longer
 * answers. Its storage stays: `startRegistry` serves the same repositories again.
 */
export async function stopRegistry(): Promise<void> {
  labSh(["stop", e2eState().lab.registries.apps.service]);
  if (await registryAnswers()) throw new Error("stopRegistry: the registry still answers after its process stopped");
}

/**
 * Starts the apps registry again inside the lab (`lab.sh start registry-apps`: same config, storage and htpasswd),
 * which returns once it answers with the credentials. A no-op when it already answers.
 */
export async function startRegistry(): Promise<void> {
  if (await registryAnswers()) return;
  labSh(["start", e2eState().lab.registries.apps.service]);
  if (!(await registryAnswers())) throw new Error("startRegistry: lab.sh started the registry but it does not answer");
}

/** Splits `host:port/repo/path:tag` (or `@sha256:…`) into repository path and reference. */
export function splitReference(ref: string): { registry: string; repository: string; reference: string } {
  const slash = ref.indexOf("/");
  const registry = ref.slice(0, slash);
  const rest = ref.slice(slash + 1);
  const at = rest.indexOf("@");
  if (at >= 0) return { registry, repository: rest.slice(0, at), reference: rest.slice(at + 1) };
  const colon = rest.lastIndexOf(":");
  if (colon < 0) return { registry, repository: rest, reference: "latest" };
  return { registry, repository: rest.slice(0, colon), reference: rest.slice(colon + 1) };
}

// ------------------------------------------------------------------------------------------------------ images

/** A docker config.json for the harness's registry (what packline mounts for the creator). */
export function registryDockerConfig(): string {
  const s = e2eState();
  return JSON.stringify({ auths: { [s.registry]: { auth: Buffer.from(`${s.username}:${s.password}`).toString("base64") } } });
}

/** `docker pull` with the registry login. */
export async function pullImage(ref: string): Promise<void> {
  await docker(["pull", "-q", ref]);
}

/** A free TCP port on 127.0.0.1 (the lab's loopback: the tests and `--network host` containers share it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export interface RunningApp {
  readonly container: string;
  readonly port: number;
  readonly url: string;
  logs(): Promise<string>;
  stop(): Promise<void>;
}

/** Starts a published app image (pulled first) with `--network host` and PORT=<free port>. */
export async function runApp(ref: string, opts: { pull?: boolean; env?: Record<string, string> } = {}): Promise<RunningApp> {
  if (opts.pull ?? true) await pullImage(ref);
  const port = await freePort();
  const env = { PORT: String(port), ...opts.env };
  const { stdout } = await docker(["run", "-d", "--network", "host", ...Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]), ref]);
  const container = stdout.trim();
  return {
    container,
    port,
    url: `http://127.0.0.1:${port}/`,
    logs: async () => {
      const r = await docker(["logs", container], { check: false });
      return r.stdout + r.stderr;
    },
    stop: async () => {
      await docker(["rm", "-f", container], { check: false });
    },
  };
}

/** GET a URL, retrying while nothing answers (the app is starting); returns status and body. */
export async function httpGet(url: string, opts: { timeoutMs?: number } = {}): Promise<{ status: number; body: string }> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      return { status: res.status, body: await res.text() };
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`GET ${url}: no answer within ${opts.timeoutMs ?? 20_000} ms (${String(lastError)})`);
}

/** Pull, run and GET a published image; always stops it. Returns what the app answered. */
export async function fetchFromImage(ref: string, path = "/"): Promise<{ status: number; body: string; logs: string }> {
  const app = await runApp(ref);
  try {
    const res = await httpGet(new URL(path, app.url).toString());
    return { ...res, logs: await app.logs() };
  } finally {
    await app.stop();
  }
}

// ------------------------------------------------------------------------------------------------------ pack

export interface PackBuildOptions {
  readonly image: string;
  readonly path: string;
  readonly tags?: readonly string[];
  readonly publish?: boolean;
  readonly builder?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly extraArgs?: readonly string[];
  readonly echo?: boolean;
}

/** `pack <args>` with the harness's daemon, registry login and PACK_HOME. */
export function pack(args: readonly string[], opts: ExecOptions = {}): Promise<RunResult> {
  const s = e2eState();
  return exec(s.packBin, ["--no-color", ...args], { ...opts, env: dockerEnv({ PACK_HOME: s.packHome, ...opts.env }) });
}

/**
 * `pack build` with the test builder (trusted, so pack runs its creator), `--network host` (the daemon has no
 * bridge) and `--publish` by default. Never throws for a failed build: check `exitCode`.
 */
export function packBuild(opts: PackBuildOptions): Promise<RunResult> {
  const s = e2eState();
  const args = [
    "build",
    opts.image,
    "--builder",
    opts.builder ?? s.builderImage,
    "--trust-builder",
    "--path",
    opts.path,
    "--network",
    "host",
    "--pull-policy",
    "if-not-present",
    ...((opts.publish ?? true) ? ["--publish"] : []),
    ...(opts.tags ?? []).flatMap((t) => ["--tag", t]),
    ...Object.entries(opts.env ?? {}).flatMap(([k, v]) => ["--env", `${k}=${v}`]),
    ...(opts.extraArgs ?? []),
  ];
  return pack(args, { check: false, echo: opts.echo, timeoutMs: 10 * 60_000 });
}

/** A unique repository name under the harness's registry, so tests never see each other's tags. */
export function uniqueRepository(prefix = "e2e/app"): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
