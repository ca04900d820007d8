import { CacheSharingMode, dag, ReturnType, type Container, type Directory, type Secret, type Service } from "@dagger.io/dagger";
import { randomUUID } from "node:crypto";
import { dockerConfigJson } from "../docker-config.js";
import { PacklineError, quote } from "../errors.js";
import { buildFailure } from "../failure.js";
import { IMAGES } from "../images.js";
import { ENGINE_REGISTRY, type BuildPlan, type ContainerStep, type EnvVar } from "../plan.js";
import { parseReport, pinned } from "../report.js";

/** What the caller hands the runner besides the plan: engine objects the plan only names. */
export interface RunInputs {
  /** The local source directory (for a plan whose source is local). */
  readonly source?: Directory;
  readonly registryPassword?: Secret;
}

export interface RunResult {
  readonly digest: string;
  /** Every published reference pinned to the digest: `image:tag@sha256:...`. */
  readonly published: readonly string[];
  /** The published image as a Dagger container. */
  readonly container: Container;
}

/**
 * Executes a plan on the Dagger engine. It realizes what the plan states and decides nothing else: images,
 * commands, arguments, env, files and mounts all come from the plan.
 */
export async function runPlan(plan: BuildPlan, inputs: RunInputs): Promise<RunResult> {
  const source = sourceDirectory(plan, inputs);
  const registry = plan.publishTo.kind === "engine-registry" ? engineRegistry() : undefined;
  const secrets = await registrySecrets(plan, inputs);

  const builder = dag.container().from(plan.build.image);
  const owner = await buildUser(builder, plan.build.image);
  const runtime = await runtimeValues(plan);

  let build = applyStep(builder, plan.build, { source, owner, runtime, secrets: secrets.byName });
  if (registry) build = build.withServiceBinding(ENGINE_REGISTRY.alias, registry);

  // expect ANY so a failure comes back as output we can explain, not as an exception that hides the registry.
  const ran = build.withExec([...plan.build.command, ...plan.build.args], { expect: ReturnType.Any });
  const exitCode = await ran.exitCode();
  if (exitCode !== 0) {
    const output = `${await ran.stdout()}\n${await ran.stderr()}`;
    throw buildFailure({ registry: registryName(plan), exitCode, output, redact: secrets.plaintexts });
  }
  const report = parseReport(await ran.file(plan.reportPath).contents());
  return {
    digest: report.digest,
    published: plan.references.map((ref) => pinned(ref, report.digest)),
    container: publishedContainer(plan, report.digest, registry, inputs.registryPassword),
  };
}

function sourceDirectory(plan: BuildPlan, inputs: RunInputs): Directory {
  if (plan.source.kind === "git") return dag.git(plan.source.url).ref(plan.source.ref).tree();
  if (!inputs.source) throw new PacklineError("no source directory was given: pass --source <dir> or --repo <url>.");
  return inputs.source;
}

/** The builder's CNB user, which must own the directories the lifecycle writes as that user. */
async function buildUser(builder: Container, image: string): Promise<string> {
  const [uid, gid] = await Promise.all([builder.envVariable("CNB_USER_ID"), builder.envVariable("CNB_GROUP_ID")]);
  if (!uid || !gid || !/^[0-9]+$/.test(uid) || !/^[0-9]+$/.test(gid)) {
    throw new PacklineError(
      `--builder ${quote(image)} does not set CNB_USER_ID and CNB_GROUP_ID: it is not a Cloud Native Buildpacks builder; use one such as paketobuildpacks/builder-jammy-base.`,
    );
  }
  return `${uid}:${gid}`;
}

async function runtimeValues(plan: BuildPlan): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  const wanted = new Set(plan.build.env.flatMap((v) => ("runtime" in v ? [v.runtime] : [])));
  if (wanted.has("now")) values.now = String(Math.floor(Date.now() / 1000));
  if (wanted.has("run-id")) values["run-id"] = randomUUID();
  if (wanted.has("commit-time")) {
    const step = plan.commitTime;
    if (!step || plan.source.kind !== "git") throw new PacklineError("--creation-time commit needs --repo.");
    const withGit = dag.git(plan.source.url).ref(plan.source.ref).tree({ discardGitDir: false });
    const ran = applyStep(dag.container().from(step.image), step, { source: withGit, owner: "0:0", runtime: {}, secrets: {} }).withExec(
      [...step.command, ...step.args],
      { expect: ReturnType.Any },
    );
    const out = (await ran.stdout()).trim();
    if ((await ran.exitCode()) !== 0 || !/^[0-9]+$/.test(out)) {
      throw new PacklineError(
        `--creation-time commit: could not read the commit time of ${quote(plan.source.url)} at ${quote(plan.source.ref)} (git printed ${quote(out)}): check --repo and --ref, or pass unix seconds.`,
      );
    }
    values["commit-time"] = out;
  }
  return values;
}

interface StepContext {
  readonly source: Directory;
  readonly owner: string;
  readonly runtime: Record<string, string>;
  readonly secrets: Record<string, Secret>;
}

/** Applies a plan step's user, env, files, mounts and working directory to a container (everything but the exec). */
export function applyStep(base: Container, step: ContainerStep, ctx: StepContext): Container {
  let c = base;
  for (const mount of step.mounts) {
    const owner = "ownedByBuildUser" in mount && mount.ownedByBuildUser ? ctx.owner : undefined;
    switch (mount.kind) {
      case "source":
        c = c.withMountedDirectory(mount.path, ctx.source, owner ? { owner } : undefined);
        break;
      case "scratch":
        // In the container's own filesystem, so the report written there can be read back after the exec.
        c = c.withDirectory(mount.path, dag.directory(), owner ? { owner } : undefined);
        break;
      case "cache":
        c = c.withMountedCache(mount.path, dag.cacheVolume(mount.key), {
          sharing: CacheSharingMode.Locked,
          ...(owner ? { owner } : {}),
        });
        break;
      case "secret": {
        const secret = ctx.secrets[mount.secret.name];
        if (!secret) throw new PacklineError(`internal: the plan mounts secret ${quote(mount.secret.name)}, which was not provided.`);
        c = c.withMountedSecret(mount.path, secret, { mode: 0o444 });
        break;
      }
    }
  }
  for (const file of step.files) c = c.withNewFile(file.path, file.contents);
  for (const variable of step.env) c = c.withEnvVariable(variable.name, envValue(variable, ctx.runtime));
  return c.withUser(step.user).withWorkdir(step.workdir);
}

function envValue(variable: EnvVar, runtime: Record<string, string>): string {
  if ("value" in variable) return variable.value;
  const value = runtime[variable.runtime];
  if (value === undefined) throw new PacklineError(`internal: no value for runtime variable ${variable.name} (${variable.runtime}).`);
  return value;
}

/** The registry secret the lifecycle reads: a docker config.json built inside the engine from the user's secret. */
async function registrySecrets(plan: BuildPlan, inputs: RunInputs): Promise<{ byName: Record<string, Secret>; plaintexts: string[] }> {
  const auth = plan.registryAuth;
  if (!auth) return { byName: {}, plaintexts: [] };
  if (auth.kind !== "password") {
    throw new PacklineError(
      `--registry-secret ${quote(auth.secretName)} names a cluster secret: on Dagger give --registry-username and --registry-password instead.`,
    );
  }
  if (!inputs.registryPassword) throw new PacklineError("--registry-username was given without --registry-password.");
  const password = await inputs.registryPassword.plaintext();
  const config = dockerConfigJson(auth.registry, auth.username, password);
  // The name scopes the secret to this registry and user; the value never leaves the engine.
  const secret = dag.setSecret(`packline-${auth.password.name}-${auth.registry}-${auth.username}`, config);
  const mount = plan.build.mounts.find((m) => m.kind === "secret");
  // Everything derived from the password is redacted too (the base64 "user:password" is what a registry log may echo).
  const basic = Buffer.from(`${auth.username}:${password}`, "utf8").toString("base64");
  return { byName: mount && mount.kind === "secret" ? { [mount.secret.name]: secret } : {}, plaintexts: [password, config, basic] };
}

/** The registry inside the engine; its storage is a cache volume, so images survive between calls on one engine. */
function engineRegistry(): Service {
  return dag
    .container()
    .from(ENGINE_REGISTRY.image)
    .withMountedCache(ENGINE_REGISTRY.storagePath, dag.cacheVolume(ENGINE_REGISTRY.storageKey))
    .withExposedPort(ENGINE_REGISTRY.port)
    .asService();
}

/** The published image as a Container, fetched back by digest (so it is exactly what was published). */
function publishedContainer(plan: BuildPlan, digest: string, registry: Service | undefined, password: Secret | undefined): Container {
  const byDigest = `${plan.image}@${digest}`;
  if (registry) {
    // The engine itself cannot resolve the service's host name, so a tool container bound to it copies the image out.
    const tarball = dag
      .container()
      .from(IMAGES.crane)
      .withServiceBinding(ENGINE_REGISTRY.alias, registry)
      .withExec(["/ko-app/crane", "pull", "--insecure", byDigest, "/image.tar"])
      .file("/image.tar");
    return dag.container().import_(tarball);
  }
  let c = dag.container();
  const auth = plan.registryAuth;
  if (auth?.kind === "password" && password && plan.publishTo.kind === "registry") {
    c = c.withRegistryAuth(plan.publishTo.registry, auth.username, password);
  }
  return c.from(byDigest);
}

function registryName(plan: BuildPlan): string {
  return plan.publishTo.kind === "registry" ? plan.publishTo.registry : `${plan.publishTo.host} (inside the Dagger engine)`;
}
