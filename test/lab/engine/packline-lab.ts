/**
 * Helpers of the packline tests on the real engine (not a test file): the lab's registries read from outside the
 * engine (crane in the lab's network namespace, with the apps registry's login), the registry inside the engine read
 * through a crane container bound to it as the runner binds it, the options every build here shares (the lab's test
 * builder, its two plain-HTTP registries), and the module's functions called as `dagger call` calls them.
 *
 * The test process runs in the host's network namespace (npm run test:engine): the engine, the registries and the
 * git server are in the lab's, which `inLabNet` enters for a command (nsenter -n; files and pids stay the host's).
 */
import { randomBytes } from "node:crypto";
import { dag, type Secret } from "@dagger.io/dagger";
import { CRANE, IMAGES } from "../../../src/core/images.js";
import { ENGINE_REGISTRY } from "../../../src/core/plan/planner.js";
import { type BuildArgs, callResult } from "../../backends/dagger/module-call.js";
import { readLab, registryPassword } from "../lab.js";
import { APPS_REGISTRY, IMAGES_REGISTRY, type Ran, run, runPackline } from "./engine.js";

/** The env var the CLI reads the apps registry's password from (`--registry-password env:...`). */
export const PASSWORD_ENV = "PACKLINE_TEST_REGISTRY_PASSWORD";

/** Runs a command in the lab's network namespace, where 10.123.0.1 (registries, git server) is reachable. */
export function inLabNet(
  cmd: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {},
): Promise<Ran> {
  return run("nsenter", ["-t", String(readLab().pid), "-n", cmd, ...args], { timeoutMs: 5 * 60_000, ...opts });
}

/** The lab's crane, in the lab's network namespace, logged in to the apps registry. */
export function labCrane(args: readonly string[]): Promise<Ran> {
  const lab = readLab();
  return inLabNet(lab.tools.crane, args, { env: { ...process.env, DOCKER_CONFIG: lab.dockerConfigDir }, timeoutMs: 60_000 });
}

/** The digest a reference (`repo:tag` or `repo@digest`) points at, or undefined when it does not exist. */
export async function digestOf(ref: string): Promise<string | undefined> {
  const r = await labCrane(["digest", "--insecure", ref]);
  if (r.code === 0) return r.stdout.trim();
  if (/MANIFEST_UNKNOWN|NAME_UNKNOWN|manifest unknown|not found/i.test(r.stderr)) return undefined;
  throw new Error(`crane digest ${ref}: ${r.stderr}`);
}

export interface ImageConfig {
  created: string;
  config: { Labels?: Record<string, string>; Entrypoint?: string[]; User?: string };
  rootfs: { diff_ids: string[] };
}

/** The image config (labels, created, layers) of a reference, read from the registry. */
export async function configOf(ref: string): Promise<ImageConfig> {
  const r = await labCrane(["config", "--insecure", ref]);
  if (r.code !== 0) throw new Error(`crane config ${ref}: ${r.stderr}`);
  return JSON.parse(r.stdout) as ImageConfig;
}

/** The tags of a repository of the lab's registries; [] when the repository does not exist. */
export async function tagsOf(repository: string): Promise<string[]> {
  const r = await labCrane(["ls", "--insecure", repository]);
  if (r.code === 0) return r.stdout.split("\n").filter(Boolean).sort();
  if (/NAME_UNKNOWN|repository name not known/i.test(r.stderr)) return [];
  throw new Error(`crane ls ${repository}: ${r.stderr}`);
}

/** A fresh repository of the apps registry (its own cache volume too: the cache key is the image's name). */
export function appsRepository(name: string): string {
  return `${APPS_REGISTRY}/engine-${name}-${randomBytes(4).toString("hex")}/app`;
}

export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString("hex")}`;
}

/** What every build here is given: the lab's test builder; both lab registries speak plain HTTP. */
export function labArgs(): BuildArgs {
  return { builder: readLab().images.builder.ref, insecureRegistry: [IMAGES_REGISTRY, APPS_REGISTRY] };
}

/** The same as `packline build` flags. */
export function labFlags(): string[] {
  return ["--builder", readLab().images.builder.ref, "--insecure-registry", IMAGES_REGISTRY, "--insecure-registry", APPS_REGISTRY];
}

/** The apps registry's login as `packline build` flags, and the env that holds the password. */
export function loginFlags(password = registryPassword()): { flags: string[]; env: NodeJS.ProcessEnv } {
  return {
    flags: ["--registry-username", readLab().registries.apps.username, "--registry-password", `env:${PASSWORD_ENV}`],
    env: { [PASSWORD_ENV]: password },
  };
}

/**
 * `packline build --repo` of a lab git repository into the apps registry, as a user runs it against the engine: the
 * lab's builder and registries (labFlags) and the apps registry's login (loginFlags). With `ref`, that ref is built
 * as version `tag`; without, `tag` is the ref too.
 */
export function buildRepo(build: { repo: string; ref?: string; tag: string; image: string }, timeoutMs = 15 * 60_000): Promise<Ran> {
  const login = loginFlags();
  const ref = build.ref === undefined ? [] : ["--ref", build.ref];
  return runPackline(["build", "--repo", build.repo, ...ref, "--tag", build.tag, "--image", build.image, ...labFlags(), ...login.flags], {
    env: login.env,
    timeoutMs,
  });
}

/** The apps registry's login as module arguments (inside a connection: the password becomes a Secret). */
export function loginArgs(password = registryPassword()): { registryUsername: string; registryPassword: Secret } {
  return { registryUsername: readLab().registries.apps.username, registryPassword: dag.setSecret(unique("engine-test-password"), password) };
}

/** `Packline.result` as `dagger call result` calls it (inside a connection), with the lab's builder and registries. */
export function result(named: BuildArgs & { tag: string }) {
  const context = (named.source as unknown) ?? dag.directory();
  return callResult({ ...labArgs(), context, ...named });
}

/**
 * crane (the image packline runs) bound to the registry inside the engine, as the runner binds it (the same image,
 * storage cache volume and alias), running `crane <args>` once (never from the engine's cache). Inside a connection.
 */
export async function engineRegistryCrane(args: readonly string[]): Promise<string> {
  const registry = dag
    .container()
    .from(ENGINE_REGISTRY.image)
    .withMountedCache(ENGINE_REGISTRY.storagePath, dag.cacheVolume(ENGINE_REGISTRY.storageKey))
    .withExposedPort(ENGINE_REGISTRY.port)
    .asService();
  return (
    await dag
      .container()
      .from(IMAGES.crane)
      .withServiceBinding(ENGINE_REGISTRY.alias, registry)
      .withEnvVariable("PACKLINE_TEST_RUN", unique("run"))
      .withExec([CRANE.bin, ...args])
      .stdout()
  ).trim();
}

/** Terminal colour codes. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the escape character is what is looked for
export const ANSI = /\u001b\[/;

/** The last `n` non-empty lines of a text, colour codes removed. */
export function lastLines(text: string, n: number): string[] {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the escape character is what is removed
  const plain = text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, "");
  return plain
    .split("\n")
    .filter((l) => l.trim() !== "")
    .slice(-n);
}

/** The digest of `<image>:<tag>@sha256:...` in a summary's lines, for the reference that names `image:tag`. */
export function publishedDigest(summary: string, imageTag: string): string | undefined {
  const escaped = imageTag.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`${escaped}@(sha256:[0-9a-f]{64})`).exec(summary)?.[1];
}
