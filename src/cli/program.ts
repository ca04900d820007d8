/**
 * The `packline` command line. Exported as functions only: the Dagger engine imports every file under src/, so
 * nothing here may read process.argv or print at import time. bin/packline.js calls main().
 */
import { Command, CommanderError, Option } from "commander";
import { writeFileSync } from "node:fs";
import { exportArgo } from "./argo/export.js";
import { EXECUTORS, KINDS, POD_GC } from "./argo/options.js";
import { PacklineError } from "./errors.js";
import type { BuildInput } from "./options.js";
import { DEFAULT_BUILDER } from "./options.js";
import { planBuild } from "./plan.js";
import { planText } from "./plan-text.js";
import { describeSecretSource, parseSecretSource, readSecret, type SecretSource } from "./secret-source.js";
import { tagsFor } from "./tags.js";

export interface CliIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

const defaultIO: CliIO = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
};

/** Flags shared by every command that plans a build (build, plan, argo): the same names as the Dagger arguments. */
export interface BuildFlags {
  tag: string;
  source?: string;
  repo?: string;
  ref?: string;
  image?: string;
  builder: string;
  runImage?: string;
  env: string[];
  buildpack: string[];
  registryUsername?: string;
  registryPassword?: string;
  cacheImage?: string;
  clearCache: boolean;
  creationTime: string;
  floatingTags: boolean;
  latest: boolean;
  insecureRegistry: string[];
}

interface ArgoFlags extends BuildFlags {
  registrySecret?: string;
  kind: string;
  executor: string;
  name?: string;
  namespace?: string;
  serviceAccount?: string;
  gitSecret?: string;
  cachePvc?: string;
  workspaceSize: string;
  cpuRequest?: string;
  memoryRequest?: string;
  cpuLimit?: string;
  memoryLimit?: string;
  retries: string;
  deadline?: string;
  podGc: string;
  output?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function addBuildFlags(command: Command, options: { tagRequired?: boolean } = {}): Command {
  const tag = new Option("--tag <version>", "version to publish: v1.2.3 or 1.2.3 (also the git tag cloned with --repo)");
  if (options.tagRequired !== false) tag.makeOptionMandatory();
  return command
    .addOption(tag)
    .option("--source <dir>", "directory to build (default: the current directory; not with --repo)")
    .option("--repo <url>", "git repository to clone and build, e.g. https://github.com/acme/app")
    .option("--ref <ref>", "git tag, branch or commit to clone with --repo (default: --tag as given)")
    .option("--image <repository>", "image repository to publish to (default: the registry inside the Dagger engine)")
    .option("--builder <image>", "buildpacks builder image", DEFAULT_BUILDER)
    .option("--run-image <image>", "run image for the app image (default: the builder's)")
    .option("--env <KEY=VALUE>", "build-time environment variable, repeatable (as pack build --env)", collect, [])
    .option("--buildpack <id@version>", "buildpack to run instead of detection, repeatable; must be in the builder", collect, [])
    .option("--registry-username <user>", "user name for the registry of --image")
    .option("--registry-password <secret>", "password or token for --image's registry: env:NAME or file:PATH")
    .option("--cache-image <image>", "keep the buildpacks cache in this registry image instead of a cache volume")
    .option("--clear-cache", "do not restore the buildpacks cache", false)
    .option("--creation-time <when>", "default (1980-01-01T00:00:01Z, reproducible), now, commit, or unix seconds", "default")
    .option("--floating-tags", "also publish MAJOR.MINOR and MAJOR (never for prereleases; no 0 tag for 0.x)", false)
    .option("--latest", "also publish latest (never for prereleases)", false)
    .option("--insecure-registry <host[:port]>", "registry reached over plain HTTP or an untrusted certificate, repeatable", collect, []);
}

/** The flags as the core's input; the password only as "given or not" (the plan holds secrets by reference). */
export function buildInput(flags: BuildFlags): BuildInput {
  return {
    tag: flags.tag,
    sourceGiven: flags.source !== undefined,
    repo: flags.repo,
    ref: flags.ref,
    image: flags.image,
    builder: flags.builder,
    runImage: flags.runImage,
    env: flags.env,
    buildpacks: flags.buildpack,
    registryUsername: flags.registryUsername,
    registryPassword: flags.registryPassword !== undefined,
    cacheImage: flags.cacheImage,
    clearCache: flags.clearCache,
    creationTime: flags.creationTime,
    floatingTags: flags.floatingTags,
    latest: flags.latest,
    insecureRegistries: flags.insecureRegistry,
  };
}

function passwordSource(flags: BuildFlags): SecretSource | undefined {
  return flags.registryPassword === undefined ? undefined : parseSecretSource("--registry-password", flags.registryPassword);
}

export function createProgram(io: CliIO = defaultIO): Command {
  const program = new Command("packline")
    .description("Clone, build with Cloud Native Buildpacks, and publish under semver tags: on a laptop, in CI, in Argo Workflows.")
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError("(add --help for usage)");

  addBuildFlags(program.command("plan").description("print what a build would run (no engine needed)"))
    .option("--json", "print the plan as JSON", false)
    .action((flags: BuildFlags & { json: boolean }) => {
      const source = passwordSource(flags);
      const plan = planBuild(buildInput(flags));
      const secretSources: Record<string, string> = source ? { "registry-password": describeSecretSource(source) } : {};
      io.stdout(flags.json ? JSON.stringify({ ...plan, secretSources }, null, 2) + "\n" : planText(plan, secretSources));
    });

  program
    .command("tags")
    .description("print the tags a version publishes, one a line")
    .argument("<version>", "a semantic version such as v1.2.3")
    .option("--floating-tags", "also MAJOR.MINOR and MAJOR", false)
    .option("--latest", "also latest", false)
    .action((version: string, flags: { floatingTags: boolean; latest: boolean }) => {
      const set = tagsFor(version, { floating: flags.floatingTags, latest: flags.latest });
      io.stdout(set.tags.join("\n") + "\n");
      for (const note of set.notes) io.stderr(`note: ${note}\n`);
    });

  addBuildFlags(program.command("argo").description("print the same build as an Argo WorkflowTemplate (or Workflow) for a cluster"), {
    tagRequired: false,
  })
    .option("--registry-secret <name>", "kubernetes.io/dockerconfigjson Secret with the registry credentials")
    .addOption(new Option("--kind <kind>", "what to generate").choices(KINDS).default("workflow-template"))
    .addOption(new Option("--executor <executor>", "creator: daemonless, unprivileged; pack: the article's privileged pack + Docker socket").choices(EXECUTORS).default("creator"))
    .option("--name <name>", "the template's name, or the Workflow's generateName prefix (default: packline-<repo name>)")
    .option("--namespace <namespace>", "namespace to create it in")
    .option("--service-account <name>", "service account the pods run as")
    .option("--git-secret <name>", "Secret with keys username and password (a token) for a private repository")
    .option("--cache-pvc <claim>", "PersistentVolumeClaim that keeps the buildpacks cache between builds (default: none kept)")
    .option("--workspace-size <quantity>", "size of the volume holding the source and layers", "2Gi")
    .option("--cpu-request <quantity>", "CPU request of the build container, e.g. 500m")
    .option("--memory-request <quantity>", "memory request of the build container, e.g. 1Gi")
    .option("--cpu-limit <quantity>", "CPU limit of the build container")
    .option("--memory-limit <quantity>", "memory limit of the build container")
    .option("--retries <n>", "retries of the clone and of the build/publish step", "2")
    .option("--deadline <seconds>", "fail the workflow after this many seconds")
    .addOption(new Option("--pod-gc <strategy>", "when to delete finished pods").choices(POD_GC).default("OnPodSuccess"))
    .option("-o, --output <file>", "write the YAML to this file instead of stdout (written only when valid)")
    .action((flags: ArgoFlags) => {
      if (flags.source !== undefined) throw new PacklineError("packline argo takes no --source: a cluster build clones --repo.");
      const { sourceGiven: _local, ...build } = buildInput(flags);
      const result = exportArgo(
        { ...build, registrySecret: flags.registrySecret },
        {
          kind: flags.kind,
          executor: flags.executor,
          name: flags.name,
          namespace: flags.namespace,
          serviceAccount: flags.serviceAccount,
          gitSecret: flags.gitSecret,
          cachePvc: flags.cachePvc,
          workspaceSize: flags.workspaceSize,
          cpuRequest: flags.cpuRequest,
          memoryRequest: flags.memoryRequest,
          cpuLimit: flags.cpuLimit,
          memoryLimit: flags.memoryLimit,
          retries: flags.retries,
          deadline: flags.deadline,
          podGc: flags.podGc,
        },
      );
      for (const warning of result.warnings) io.stderr(`packline: warning: ${warning}\n`);
      if (flags.output) writeFileSync(flags.output, result.yaml);
      else io.stdout(result.yaml);
    });

  addBuildFlags(program.command("build").description("build and publish through the Dagger engine (the same function as `dagger call build`)"))
    .action(async (flags: BuildFlags) => {
      const source = passwordSource(flags);
      const plan = planBuild(buildInput(flags)); // refuses bad input before an engine is started
      const password = source ? readSecret("--registry-password", source, io.env) : undefined;
      const { runBuildThroughSdk } = await import("./dagger/cli-build.js");
      io.stdout((await runBuildThroughSdk(flags, plan, password)) + "\n");
    });

  return program;
}

/** Runs the CLI and returns the exit code: 0 on success, 1 on bad input or a failed build, 2 on usage errors. */
export async function main(argv: readonly string[], io: CliIO = defaultIO): Promise<number> {
  try {
    await createProgram(io).parseAsync([...argv]);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof PacklineError) {
      io.stderr(`packline: ${error.message}\n`);
      return 1;
    }
    io.stderr(`packline: ${(error as Error).message ?? String(error)}\n`);
    return 1;
  }
}
