/**
 * The Dagger backend: runs a plan on a Dagger engine. It realizes what the plan states (images, users, commands,
 * arguments, env, files, volumes, the order of the steps) and decides nothing else. The only values it makes are
 * the plan's late values, which are known only now: the commit, the time, a run id.
 */

import { randomUUID } from "node:crypto";
import { CacheSharingMode, type Container, type Directory, dag, ReturnType, type Secret, type Service } from "@dagger.io/dagger";
import { dockerConfigJson } from "../../core/docker-config.js";
import { PacklineError, quote } from "../../core/errors.js";
import { buildFailure, redact, stripAnsi } from "../../core/failure.js";
import { CRANE, IMAGES } from "../../core/images.js";
import { type BuildPlan, type ContainerStep, ENGINE_REGISTRY, type Late, outputPath, PATHS } from "../../core/plan/planner.js";
import { latesOf, resolveText } from "../../core/plan/text.js";
import { parseReport } from "../../core/report.js";

/** What the caller hands the runner besides the plan: engine objects the plan only names. */
export interface RunInputs {
  /** The local source directory (for a plan whose source is local). */
  readonly source?: Directory;
  /** The registry password or token (for a plan with password credentials). */
  readonly registryPassword?: Secret;
}

export interface RunResult {
  readonly digest: string;
  /** `image:tag` for every tag. */
  readonly references: readonly string[];
  /** Every reference pinned to the digest: `image:tag@sha256:...`. */
  readonly published: readonly string[];
  readonly revision: string;
  /** True when the version was already published from this revision with the same build options: nothing was built. */
  readonly alreadyPublished: boolean;
  /** The published image as a container (evaluated when used). */
  readonly container: Container;
  /** The SBOM files the lifecycle wrote (`/layers/sbom`), when this run built the image. */
  readonly sbom?: Directory;
  /** Seconds each step took until its result was read (a step that did not run has none), and the whole run. */
  readonly seconds: StepSeconds;
}

export interface StepSeconds {
  readonly check?: number;
  readonly build?: number;
  readonly release?: number;
  readonly total: number;
}

/** The top-level git directory (or gitfile) a local source may hold; the build never sees it. */
const GIT_DIR = ".git";

/** Users of the steps: the tool user is the "nonroot" user of distroless-style images. */
const TOOL_USER = "65532:65532";

interface Context {
  readonly plan: BuildPlan;
  readonly source: Directory;
  readonly lates: Partial<Record<Late, string>>;
  readonly buildUser: string;
  readonly secrets: Readonly<Record<string, Secret>>;
  readonly redact: readonly string[];
  /** The user's password, for the engine's own pull of the result (withRegistryAuth). */
  readonly password?: Secret;
  readonly service?: { readonly alias: string; readonly service: Service };
}

export async function runPlan(plan: BuildPlan, inputs: RunInputs): Promise<RunResult> {
  if (plan.version.kind !== "known") throw new PacklineError("internal: the Dagger backend runs plans with a known version.");
  if (plan.hostTunnel && !hasHost()) {
    throw new PacklineError(
      `${plan.image.target.kind === "host-registry" ? `--image ${quote(plan.image.name)}` : "--run-image or --cache-image"} is on localhost, which a Dagger module (dagger call) cannot reach: the engine gives modules no access to your machine. Run the same build with npx packline build, which reaches your localhost through a tunnel; or give the registry's address as the engine's containers reach it (with --insecure-registry <host:port> for plain HTTP).`,
    );
  }
  const started = performance.now();
  const times: { check?: number; build?: number; release?: number } = {};
  const timed = async <T>(name: keyof typeof times, go: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await go();
    } finally {
      times[name] = (performance.now() - t0) / 1000;
    }
  };
  // The builder's user is read while the source is resolved (a registry round trip that needs nothing else); it is
  // still known before any step starts.
  const buildUser = buildUserOf(plan);
  buildUser.catch(() => undefined); // awaited below; a failure of resolveSource first must not leave it unhandled
  const { source, lates } = await resolveSource(plan, inputs);
  lates["run-id"] = randomUUID();
  if (needs(plan, "now")) lates.now = String(Math.floor(Date.now() / 1000));
  const revision = resolveText(plan.revision, lates);
  const { secrets, redact: secretTexts } = await registrySecrets(plan, inputs);
  const ctx: Context = {
    plan,
    source,
    lates,
    buildUser: await buildUser,
    secrets,
    redact: secretTexts,
    password: inputs.registryPassword,
    service: targetService(plan),
  };
  const prepared = (performance.now() - started) / 1000; // the source, the builder's user, the secrets: before any step
  const references = plan.variants[0]!.tags.map((tag) => `${plan.image.name}:${resolveText(tag, lates)}`);
  const finish = (digest: string, alreadyPublished: boolean, sbom?: Directory): RunResult => {
    const seconds = { ...times, total: (performance.now() - started) / 1000 };
    // For benchmarks (npm run bench:engine): the steps' times, on stderr, when asked.
    if (process.env.PACKLINE_STEP_TIMES === "1") {
      const part = (n: keyof typeof times) => (seconds[n] === undefined ? "-" : seconds[n]!.toFixed(2));
      console.error(
        `packline: step seconds: check ${part("check")}, build ${part("build")}, release ${part("release")}, total ${seconds.total.toFixed(2)}, before the steps ${prepared.toFixed(2)}`,
      );
    }
    return { ...result(digest, alreadyPublished, sbom), seconds };
  };
  const result = (digest: string, alreadyPublished: boolean, sbom?: Directory) => ({
    digest,
    references,
    published: references.map((ref) => `${ref}@${digest}`),
    revision,
    alreadyPublished,
    container: publishedContainer(ctx, digest),
    sbom,
  });

  // The plan lets the build start beside the check (types.ts, Overlap). Here it starts as far as its container: the
  // builder image, the source with its owner, the scratch directories, the cache and the files are made while the
  // check runs, and the creator starts when the check has said "unpublished". Not the creator itself: the SDK cannot
  // cancel a query, so a creator the check makes useless would run to its end in a session that outlives the run (a
  // module's, `dagger run`'s), and a retry of a published version would cost a whole build, not a registry lookup
  // (the engine suite's release-check test asserts that it runs no creator).
  // A plan whose build runs what the check pins (pin.ts) does not allow it: its container is made after the check.
  const early = plan.overlap.checkBesideBuild ? stepContainer(ctx, plan.steps.build) : undefined;
  const preparing = early?.sync();
  preparing?.catch(() => undefined); // the check's word comes first; a failure here shows again in the build
  const build = () =>
    timed("build", async () => {
      const ran = await runBuild(ctx, early ?? stepContainer(ctx, plan.steps.build));
      lates["build-report"] = await ran.file(outputPath(plan.steps.build, "report")).contents();
      return ran;
    });
  const step = plan.steps.check;
  const outcome = await timed("check", async () => {
    const check = await runStep(ctx, step);
    return {
      published: (await check.file(outputPath(step, "outcome")).contents()).trim() === "published",
      digest: async () => (await check.file(outputPath(step, "digest")).contents()).trim(),
      lates: async () => {
        const values = step.outputs.filter((o) => o.late !== undefined);
        const read = await Promise.all(values.map(async (o) => [o.late!, (await check.file(o.path).contents()).trim()] as const));
        return Object.fromEntries(read) as Partial<Record<Late, string>>;
      },
    };
  });
  if (outcome.published) return finish(await outcome.digest(), true);
  Object.assign(lates, await outcome.lates()); // what the check pinned (the builder and run image digests)

  const built = await build();
  parseReport(lates["build-report"]!); // refuse a report without a digest here, with packline's message
  const digest = await timed("release", async () => {
    const release = await runStep(ctx, plan.steps.release);
    return (await release.file(outputPath(plan.steps.release, "digest")).contents()).trim();
  });
  const sbomOutput = plan.steps.build.outputs.find((o) => o.directory);
  return finish(digest, false, sbomOutput ? built.directory(sbomOutput.path) : undefined);
}

function needs(plan: BuildPlan, value: Late): boolean {
  const steps = [plan.steps.check, plan.steps.build, plan.steps.release].filter((s): s is ContainerStep => s !== undefined);
  return steps.some((step) => [...step.command, ...step.args, ...step.env.map((e) => e.value)].some((t) => latesOf(t).includes(value)));
}

/** The source tree and what is known of it: the commit (and its time) of a clone, or a local directory's digest. */
async function resolveSource(plan: BuildPlan, inputs: RunInputs): Promise<{ source: Directory; lates: Partial<Record<Late, string>> }> {
  const lates: Partial<Record<Late, string>> = {};
  if (plan.source.kind === "local") {
    if (!inputs.source) throw new PacklineError("no source directory was given: pass --source <dir> or --repo <url>.");
    // The plan's source never holds .git, whoever hands the directory over (`dagger call --source .` in a checkout
    // uploads it; another module may pass a git tree with it): with it, the same files gave another image and
    // revision than `packline build --source` and the cluster's clone.
    const source = inputs.source.filter({ exclude: [GIT_DIR] });
    if (needs(plan, "source-digest")) lates["source-digest"] = await source.digest();
    return { source, lates };
  }
  const git = plan.source;
  const refName = resolveText(git.ref, lates);
  const ref = dag.git(git.url).ref(refName);
  try {
    lates.commit = await ref.commit();
  } catch (error) {
    throw new PacklineError(
      `--repo ${quote(git.url)} at ${quote(refName)} could not be resolved: check the URL, that the tag, branch or commit exists, and that the repository is public (${firstLine(error)}).`,
    );
  }
  // The plan says what the build sees: the checkout without .git, submodules included (Dagger's tree always
  // includes them, shallowly); the cluster's clone does the same.
  const source = ref.tree({ discardGitDir: !git.keepGitDir });
  if (needs(plan, "commit-time")) lates["commit-time"] = await commitTime(ref.tree({ discardGitDir: false }), git.url, refName);
  return { source, lates };
}

async function commitTime(tree: Directory, url: string, ref: string): Promise<string> {
  const ran = dag
    .container()
    .from(IMAGES.git)
    .withMountedDirectory("/src", tree)
    .withWorkdir("/src")
    .withExec(["git", "-c", "safe.directory=/src", "log", "-1", "--format=%ct"], { expect: ReturnType.Any });
  const out = (await ran.stdout()).trim();
  if ((await ran.exitCode()) !== 0 || !/^[0-9]+$/.test(out)) {
    throw new PacklineError(
      `--creation-time commit: could not read the commit time of ${quote(url)} at ${quote(ref)} (git printed ${quote(out)}): pass unix seconds instead.`,
    );
  }
  return out;
}

/**
 * The build user as uid:gid: given, or read from the builder image (a Cloud Native Buildpacks builder sets both), by
 * its name, beside the check that pins it: a builder whose tag moved meanwhile to one with another user fails the
 * lifecycle's switch to it, loudly.
 */
async function buildUserOf(plan: BuildPlan): Promise<string> {
  if (plan.buildUser.kind === "given") return `${plan.buildUser.uid}:${plan.buildUser.gid}`;
  if (plan.steps.build.user.kind !== "build-user") return "0:0";
  const builder = dag.container().from(plan.builder);
  const [uid, gid] = await Promise.all([builder.envVariable("CNB_USER_ID"), builder.envVariable("CNB_GROUP_ID")]);
  if (!uid || !gid || !/^[0-9]+$/.test(uid) || !/^[0-9]+$/.test(gid)) {
    throw new PacklineError(
      `--builder ${quote(plan.builder)} does not set CNB_USER_ID and CNB_GROUP_ID: it is not a Cloud Native Buildpacks builder; use one such as paketobuildpacks/builder-jammy-base.`,
    );
  }
  return `${uid}:${gid}`;
}

/** The registry secret the steps read: a docker config.json made inside the engine from the user's password. */
async function registrySecrets(plan: BuildPlan, inputs: RunInputs): Promise<{ secrets: Record<string, Secret>; redact: string[] }> {
  const auth = plan.registryAuth;
  if (!auth) return { secrets: {}, redact: [] };
  if (auth.kind !== "password") {
    throw new PacklineError(
      `--registry-secret ${quote(auth.secretName)} names a cluster secret: on Dagger give --registry-username and --registry-password.`,
    );
  }
  if (!inputs.registryPassword) throw new PacklineError("--registry-username was given without --registry-password.");
  const password = await inputs.registryPassword.plaintext();
  if (password === "") throw new PacklineError("--registry-password is empty: give the password or token the registry expects.");
  const config = dockerConfigJson(auth.registry, auth.username, password);
  const volume = plan.volumes.find((v) => v.kind === "secret");
  if (volume?.kind !== "secret") throw new PacklineError("internal: registry credentials without a secret volume.");
  // The name scopes the secret to this registry and user; the value never leaves the engine.
  const secret = dag.setSecret(`packline-${volume.secret.name}-${auth.registry}-${auth.username}`, config);
  // Everything derived from the password is redacted too (a registry may echo the base64 "user:password").
  const basic = Buffer.from(`${auth.username}:${password}`, "utf8").toString("base64");
  return { secrets: { [volume.secret.name]: secret }, redact: [password, config, basic] };
}

/**
 * Whether this client may reach the caller's machine (dag.host()): a client such as packline build may; a module
 * may not (the API the engine generates for modules has no host, so a tunnel to localhost cannot be made there).
 */
function hasHost(): boolean {
  return typeof (dag as { host?: unknown }).host === "function";
}

/** The registry the steps push to when it is not reachable by name: the one inside the engine, or a tunnel. */
function targetService(plan: BuildPlan): Context["service"] {
  const target = plan.image.target;
  if (target.kind === "engine-registry") {
    const service = dag
      .container()
      .from(ENGINE_REGISTRY.image)
      .withMountedCache(ENGINE_REGISTRY.storagePath, dag.cacheVolume(ENGINE_REGISTRY.storageKey))
      .withExposedPort(target.port)
      .asService();
    return { alias: target.alias, service };
  }
  const tunnel = plan.hostTunnel;
  if (tunnel) {
    // Inside a container of the engine, localhost is the container: reach the user's localhost through a tunnel.
    const ports = tunnel.ports.map((port) => ({ frontend: port, backend: port }));
    return { alias: tunnel.alias, service: dag.host().service(ports, { host: tunnel.host }) };
  }
  return undefined;
}

/** A step's container, everything but the exec: image, mounts, files, env, user, workdir. */
function stepContainer(ctx: Context, step: ContainerStep): Container {
  const user = step.user.kind === "build-user" ? ctx.buildUser : step.user.kind === "tool-user" ? TOOL_USER : "0:0";
  let c = dag.container().from(resolveText(step.image, ctx.lates));
  for (const mount of step.mounts) {
    const volume = ctx.plan.volumes.find((v) => v.name === mount.volume);
    if (!volume) throw new PacklineError(`internal: step ${step.name} mounts an undeclared volume ${mount.volume}.`);
    const owner = "ownedByBuildUser" in volume && volume.ownedByBuildUser ? user : undefined;
    switch (volume.kind) {
      case "source":
        c = c.withMountedDirectory(mount.path, ctx.source, owner ? { owner } : undefined);
        break;
      case "scratch":
        // In the container's own filesystem, so that what the step writes there can be read back after the exec.
        c = c.withDirectory(mount.path, dag.directory(), owner ? { owner } : undefined);
        break;
      case "cache":
        c = c.withMountedCache(mount.path, dag.cacheVolume(volume.key), { sharing: CacheSharingMode.Locked, ...(owner ? { owner } : {}) });
        break;
      case "secret": {
        const secret = ctx.secrets[volume.secret.name];
        if (!secret) throw new PacklineError(`internal: the plan mounts secret ${quote(volume.secret.name)}, which was not provided.`);
        c = c.withMountedSecret(`${mount.path}/${volume.file}`, secret, { owner: user, mode: 0o400 });
        break;
      }
      case "docker-socket":
        throw new PacklineError("the pack executor needs a node's Docker socket: it exists only in Argo workflows (packline argo --executor pack).");
    }
  }
  for (const file of step.files) c = c.withNewFile(file.path, file.contents, { owner: user });
  for (const variable of step.env) c = c.withEnvVariable(variable.name, resolveText(variable.value, ctx.lates));
  if (ctx.service) c = c.withServiceBinding(ctx.service.alias, ctx.service.service);
  return c.withUser(user).withWorkdir(step.workdir);
}

function execArgs(ctx: Context, step: ContainerStep): string[] {
  return [...step.command, ...step.args].map((t) => resolveText(t, ctx.lates));
}

/** How many lines of a tool's output a step's message that ends in ":" takes after it (the cause it announces). */
const CAUSE_LINES = 10;

/**
 * Runs a registry step; a failure becomes packline's own message from the step ("packline: ..." lines). A message
 * that ends in ":" announces the cause the step prints after it (crane's error: "connection refused", a TLS error...),
 * which is kept: without it, a stopped registry gave "could not look up ... (a retry may help):" and nothing more.
 */
async function runStep(ctx: Context, step: ContainerStep): Promise<Container> {
  const ran = stepContainer(ctx, step).withExec(execArgs(ctx, step), { expect: ReturnType.Any });
  const code = await ran.exitCode();
  if (code !== 0) {
    const stderr = redact(stripAnsi(await ran.stderr()), ctx.redact);
    const own: string[] = [];
    let cause = 0;
    for (const line of stderr.split("\n")) {
      if (line.startsWith("packline: ")) {
        own.push(line.slice("packline: ".length));
        cause = line.trimEnd().endsWith(":") ? CAUSE_LINES : 0;
      } else if (cause > 0 && line.trim() !== "") {
        own.push(line);
        cause--;
      }
    }
    throw new PacklineError(
      own.length > 0 ? own.join("\n") : `the ${step.name} step failed (exit code ${code}):\n${stderr.trim().split("\n").slice(-10).join("\n")}`,
    );
  }
  return ran;
}

/** Runs the creator (or pack) in the build step's container (stepContainer: everything but the exec). */
async function runBuild(ctx: Context, container: Container): Promise<Container> {
  const step = ctx.plan.steps.build;
  // expect ANY so a failure comes back as output to explain, not as an exception that hides the registry.
  const ran = container.withExec(execArgs(ctx, step), { expect: ReturnType.Any });
  const exitCode = await ran.exitCode();
  if (exitCode !== 0) {
    const output = `${await ran.stdout()}\n${await ran.stderr()}`;
    const runImage = ctx.lates["run-image"];
    throw buildFailure({
      registry: ctx.plan.image.registry,
      builder: resolveText(step.image, ctx.lates),
      runImage,
      exitCode,
      output,
      redact: ctx.redact,
    });
  }
  return ran;
}

/**
 * The published image as a Container, by digest (so it is exactly what was published). The engine pulls it itself
 * from a registry it can reach; from the registry inside the engine, a tunnel, or a registry over plain HTTP (which
 * the engine would not talk to without its own configuration) a crane container copies it out instead.
 */
function publishedContainer(ctx: Context, digest: string): Container {
  const byDigest = `${ctx.plan.image.address}@${digest}`;
  // (A tunnel made only for the run or cache image does not reach the published image.)
  if ((ctx.service && ctx.plan.image.target.kind !== "registry") || ctx.plan.image.insecure) {
    let crane = dag.container().from(IMAGES.crane).withUser(TOOL_USER);
    if (ctx.service && ctx.plan.image.target.kind !== "registry") crane = crane.withServiceBinding(ctx.service.alias, ctx.service.service);
    const secret = Object.values(ctx.secrets)[0];
    if (secret)
      crane = crane
        .withMountedSecret(`${PATHS.dockerConfigDir}/${PATHS.dockerConfigFile}`, secret, { owner: TOOL_USER, mode: 0o400 })
        .withEnvVariable("DOCKER_CONFIG", PATHS.dockerConfigDir);
    const tarball = crane
      .withExec([CRANE.bin, "pull", ...(ctx.plan.image.insecure ? ["--insecure"] : []), byDigest, "/tmp/image.tar"])
      .file("/tmp/image.tar");
    return dag.container().import_(tarball);
  }
  let c = dag.container();
  const auth = ctx.plan.registryAuth;
  if (auth?.kind === "password" && ctx.password) c = c.withRegistryAuth(auth.registry, auth.username, ctx.password);
  return c.from(byDigest);
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0]!.slice(0, 300);
}
