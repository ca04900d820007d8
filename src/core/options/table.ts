/**
 * Every option of packline, written once: its name (the Dagger argument; the CLI flag is its kebab-case), type,
 * default, help, and the commands that take it. The CLI (src/cli/program.ts) is generated from this table and
 * src/core/options/input.ts checks values against it; the Dagger signatures in src/index.ts, which the Dagger SDK
 * reads statically and so stay written out, are compared with it by test/dagger/surface.test.ts.
 */

/** The commands: `build` (dagger call build/result, packline build), `plan` (packline plan), `argo` (both). */
export type CommandName = "build" | "plan" | "argo";

export type OptionKind = "string" | "strings" | "boolean" | "integer" | "secret" | "directory" | "enum";

export interface OptionSpec {
  /** camelCase: the Dagger argument name; the CLI flag is `--` + kebab-case. */
  readonly name: string;
  readonly kind: OptionKind;
  /** The value's name in CLI help, e.g. `version` for `--tag <version>`. */
  readonly placeholder?: string;
  /** One line for `--help` and the Dagger doc string; per command where the meaning differs. */
  readonly help: string | Readonly<Partial<Record<CommandName, string>>>;
  readonly commands: readonly CommandName[];
  readonly requiredFor?: readonly CommandName[];
  readonly default?: string | number | boolean | readonly string[];
  /** For `enum`: the Dagger enum's name and its values (as the CLI and the backends spell them). */
  readonly enumName?: string;
  readonly choices?: readonly string[];
  /** An option of one front end only: the CLI's output options, or Dagger's context directory. */
  readonly only?: "cli" | "dagger";
  /**
   * `constructor`: a setting the Dagger functions share, taken once by the `Packline` constructor
   * (`dagger call --image ... build --tag ...`); otherwise an argument of each function that takes it.
   */
  readonly dagger?: "constructor";
  /** The constructor's doc string, for a shared option whose help differs per command. */
  readonly daggerHelp?: string;
  readonly short?: string;
}

export const DEFAULT_BUILDER = "paketobuildpacks/builder-jammy-base";

export const KINDS = ["workflow-template", "workflow"] as const;
export const EXECUTORS = ["creator", "pack"] as const;
export const POD_GC = ["OnPodSuccess", "OnPodCompletion", "OnWorkflowSuccess", "OnWorkflowCompletion", "none"] as const;

const ALL = ["build", "plan", "argo"] as const;
const LOCAL = ["build", "plan"] as const;
const ARGO = ["argo"] as const;

/**
 * The table itself, `as const` so that every entry keeps its literal name, kind, commands and default (the input types
 * in input.ts are derived from them), and checked against OptionSpec with `satisfies`.
 */
export const TABLE = [
  {
    name: "tag",
    kind: "string",
    placeholder: "version",
    help: {
      build: "The version to publish: a semantic version such as v1.2.3 or 1.2.3 (also the git ref cloned with --repo).",
      plan: "The version to publish: a semantic version such as v1.2.3 or 1.2.3 (also the git ref cloned with --repo).",
      argo: "The default of the workflow's tag parameter; without it, tag must be given at submit time.",
    },
    commands: ALL,
    requiredFor: LOCAL,
  },
  {
    name: "context",
    kind: "directory",
    placeholder: "dir",
    help: "Set automatically: the module's repository root, built when neither --source nor --repo is given.",
    commands: ["build"],
    dagger: "constructor",
    only: "dagger",
  },
  {
    name: "source",
    kind: "directory",
    placeholder: "dir",
    help: "A directory to build instead of the current (context) directory; not with --repo.",
    commands: LOCAL,
    dagger: "constructor",
  },
  {
    name: "repo",
    kind: "string",
    placeholder: "url",
    help: {
      build: "A git repository to clone and build, e.g. https://github.com/acme/app.",
      plan: "A git repository to clone and build, e.g. https://github.com/acme/app.",
      argo: "The git repository the cluster clones, e.g. https://github.com/acme/app.",
    },
    daggerHelp: "A git repository to clone and build, e.g. https://github.com/acme/app (argo needs it: the cluster clones it).",
    commands: ALL,
    dagger: "constructor",
    requiredFor: ARGO,
  },
  {
    name: "ref",
    kind: "string",
    placeholder: "ref",
    help: "The git tag, branch or commit to clone with --repo; default: the tag as given.",
    commands: ALL,
    dagger: "constructor",
  },
  {
    name: "image",
    kind: "string",
    placeholder: "repository",
    help: {
      build: "The image repository to publish to, e.g. registry.example.com/acme/app; default: the registry inside the Dagger engine.",
      plan: "The image repository to publish to, e.g. registry.example.com/acme/app; default: the registry inside the Dagger engine.",
      argo: "The image repository to publish to, e.g. registry.example.com/acme/app.",
    },
    daggerHelp:
      "The image repository to publish to, e.g. registry.example.com/acme/app; default for build and result: the registry inside the Dagger engine (argo needs it).",
    commands: ALL,
    dagger: "constructor",
    requiredFor: ARGO,
  },
  {
    name: "builder",
    kind: "string",
    placeholder: "image",
    help: "The buildpacks builder image whose lifecycle runs the build.",
    commands: ALL,
    dagger: "constructor",
    default: DEFAULT_BUILDER,
  },
  {
    name: "runImage",
    kind: "string",
    placeholder: "image",
    help: "The run image to base the app image on; default: the builder's.",
    commands: ALL,
    dagger: "constructor",
  },
  {
    name: "env",
    kind: "strings",
    placeholder: "KEY=VALUE",
    help: "Build-time environment variable KEY=VALUE, repeatable (as pack build --env).",
    commands: ALL,
    dagger: "constructor",
    default: [],
  },
  {
    name: "buildpack",
    kind: "strings",
    placeholder: "id@version",
    help: "A buildpack to run instead of the builder's detection, id@version, repeatable; it must be in the builder.",
    commands: ALL,
    dagger: "constructor",
    default: [],
  },
  {
    name: "revision",
    kind: "string",
    placeholder: "revision",
    help: "The revision the source is (e.g. the commit, $GITHUB_SHA), for the image's label and the release check; default: a digest of the directory's content. Not with --repo (the commit is known).",
    commands: LOCAL,
    dagger: "constructor",
  },
  {
    name: "registryUsername",
    kind: "string",
    placeholder: "user",
    help: "User name for the registry of --image.",
    commands: LOCAL,
    dagger: "constructor",
  },
  {
    name: "registryPassword",
    kind: "secret",
    placeholder: "secret",
    help: "Password or token for the registry of --image, as a secret: env:NAME or file:PATH.",
    commands: LOCAL,
    dagger: "constructor",
  },
  {
    name: "registrySecret",
    kind: "string",
    placeholder: "name",
    help: "A kubernetes.io/dockerconfigjson Secret with the registry credentials.",
    commands: ARGO,
  },
  {
    name: "cacheImage",
    kind: "string",
    placeholder: "image",
    help: "Keep the buildpacks cache in this registry image instead of a cache volume.",
    commands: ALL,
    dagger: "constructor",
  },
  {
    name: "clearCache",
    kind: "boolean",
    help: "Do not restore the buildpacks cache (it is still written).",
    commands: ALL,
    dagger: "constructor",
    default: false,
  },
  {
    name: "creationTime",
    kind: "string",
    placeholder: "when",
    help: "Image creation time: default (1980-01-01T00:00:01Z, reproducible), now, commit (the commit's time, with --repo), or unix seconds from 0 (1970) to 253402300799 (9999-12-31), taken as given.",
    commands: ALL,
    dagger: "constructor",
    default: "default",
  },
  {
    name: "floatingTags",
    kind: "boolean",
    help: "Also publish MAJOR.MINOR and MAJOR (never for prereleases; no 0 tag for 0.x).",
    commands: ALL,
    dagger: "constructor",
    default: false,
  },
  {
    name: "latest",
    kind: "boolean",
    help: "Also publish latest (never for prereleases).",
    commands: ALL,
    dagger: "constructor",
    default: false,
  },
  {
    name: "insecureRegistry",
    kind: "strings",
    placeholder: "host[:port]",
    help: "A registry reached over plain HTTP or with an untrusted certificate, repeatable.",
    commands: ALL,
    dagger: "constructor",
    default: [],
  },
  {
    name: "allowOverwrite",
    kind: "boolean",
    help: "Publish even if the version's tag already holds an image from another revision or other build options.",
    commands: ALL,
    dagger: "constructor",
    default: false,
  },
  {
    name: "buildUser",
    kind: "string",
    placeholder: "uid:gid",
    help: "The builder's CNB user as uid:gid (uid not 0; gid 0 is allowed, as the restricted pod standard allows it); default: read from the builder image (CNB_USER_ID, CNB_GROUP_ID) by a first step.",
    commands: ARGO,
  },
  {
    name: "kind",
    kind: "enum",
    enumName: "ArgoKind",
    choices: KINDS,
    placeholder: "kind",
    help: "What to generate: workflow-template (reusable, the default) or workflow (submit it directly).",
    commands: ARGO,
    default: "workflow-template",
  },
  {
    name: "executor",
    kind: "enum",
    enumName: "Executor",
    choices: EXECUTORS,
    placeholder: "executor",
    help: "creator (daemonless, unprivileged, the default) or pack (the article's privileged pack build with the node's Docker socket).",
    commands: ARGO,
    default: "creator",
  },
  {
    name: "name",
    kind: "string",
    placeholder: "name",
    help: "The template's name, or the Workflow's generateName prefix; default: packline-<repository name>.",
    commands: ARGO,
  },
  {
    name: "namespace",
    kind: "string",
    placeholder: "namespace",
    help: "The namespace to create it in.",
    commands: ARGO,
  },
  {
    name: "serviceAccount",
    kind: "string",
    placeholder: "name",
    help: "The service account the pods run as.",
    commands: ARGO,
  },
  {
    name: "gitSecret",
    kind: "string",
    placeholder: "name",
    help: "A Secret with keys password (a token) and optionally username, for a private https repository.",
    commands: ARGO,
  },
  {
    name: "cachePvc",
    kind: "string",
    placeholder: "claim",
    help: "A PersistentVolumeClaim that keeps the buildpacks cache between builds.",
    commands: ARGO,
  },
  {
    name: "workspaceSize",
    kind: "string",
    placeholder: "quantity",
    help: "Size limit of the build's scratch volumes (source and layers, an emptyDir each).",
    commands: ARGO,
    default: "2Gi",
  },
  {
    name: "cpuRequest",
    kind: "string",
    placeholder: "quantity",
    help: "CPU request of the build container, e.g. 500m.",
    commands: ARGO,
  },
  {
    name: "memoryRequest",
    kind: "string",
    placeholder: "quantity",
    help: "Memory request of the build container, e.g. 1Gi.",
    commands: ARGO,
  },
  {
    name: "cpuLimit",
    kind: "string",
    placeholder: "quantity",
    help: "CPU limit of the build container.",
    commands: ARGO,
  },
  {
    name: "memoryLimit",
    kind: "string",
    placeholder: "quantity",
    help: "Memory limit of the build container.",
    commands: ARGO,
  },
  {
    name: "retries",
    kind: "integer",
    placeholder: "n",
    help: "Retries of a step that failed in a way a retry can fix (network, registry errors); 0 to 10.",
    commands: ARGO,
    default: 2,
  },
  {
    name: "deadline",
    kind: "integer",
    placeholder: "seconds",
    help: "Fail the workflow after this many seconds.",
    commands: ARGO,
  },
  {
    name: "podGc",
    kind: "enum",
    enumName: "PodGc",
    choices: POD_GC,
    placeholder: "strategy",
    help: "When to delete finished pods: OnPodSuccess (default), OnPodCompletion, OnWorkflowSuccess, OnWorkflowCompletion or none.",
    commands: ARGO,
    default: "OnPodSuccess",
  },
  {
    name: "sbomArtifact",
    kind: "boolean",
    help: "Keep the SBOM files as the build step's sbom output artifact (needs an artifact repository in the cluster).",
    commands: ARGO,
    default: false,
  },
  {
    name: "sbomDir",
    kind: "string",
    placeholder: "dir",
    help: "Write the image's SBOM files (CycloneDX, SPDX, Syft) into this directory; it is made if missing and must take a file before anything runs.",
    commands: ["build"],
    only: "cli",
  },
  {
    name: "json",
    kind: "boolean",
    help: "Print the plan as JSON.",
    commands: ["plan"],
    only: "cli",
    default: false,
  },
  {
    name: "output",
    kind: "string",
    placeholder: "file",
    short: "-o",
    help: "Write the YAML to this file (- for stdout), only when everything is valid: a regular file is replaced whole and keeps its mode and owner; a device, FIFO or link is written through.",
    commands: ARGO,
    only: "cli",
  },
] as const satisfies readonly OptionSpec[];

/** The same entries, for code that walks every option alike. */
export const OPTIONS: readonly OptionSpec[] = TABLE;

/** One entry of the table, with its literal types. */
export type Option = (typeof TABLE)[number];
/** Every option's name: `"tag" | "context" | ... | "output"`. */
export type OptionName = Option["name"];

export function optionsOf(command: CommandName, frontEnd: "cli" | "dagger"): readonly OptionSpec[] {
  return OPTIONS.filter((o) => o.commands.includes(command) && (o.only === undefined || o.only === frontEnd));
}

/** The `Packline` constructor's arguments: the settings the Dagger functions share, in the table's order. */
export function constructorOptions(): readonly OptionSpec[] {
  return OPTIONS.filter((o) => o.dagger === "constructor");
}

/** A Dagger function's own arguments: the options of `command` that the constructor does not hold. */
export function functionOptions(command: CommandName): readonly OptionSpec[] {
  return optionsOf(command, "dagger").filter((o) => o.dagger !== "constructor");
}

/** The doc string of a constructor argument. */
export function constructorHelpOf(option: OptionSpec): string {
  if (option.daggerHelp !== undefined) return option.daggerHelp;
  if (typeof option.help === "string") return option.help;
  throw new Error(`internal: shared option ${option.name} has per-command help and no daggerHelp`);
}

export function helpOf(option: OptionSpec, command: CommandName): string {
  if (typeof option.help === "string") return option.help;
  const help = option.help[command];
  if (help === undefined) throw new Error(`internal: option ${option.name} has no help for ${command}`);
  return help;
}

/** `registryUsername` -> `--registry-username`. */
export function flagOf(name: string): string {
  return `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}
