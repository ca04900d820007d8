/**
 * packline's Argo export against the lab's cluster: render with the real CLI (`bin/packline.js argo`), apply with
 * kubectl, submit with the argo CLI, and read back what was published from the lab's apps registry.
 *
 * Every test gets its own namespace (with the executor's Role and a `regcred` dockerconfigjson Secret for the apps
 * registry) and its own image repository (`10.123.0.1:5000/cluster/<namespace>`), so tests never see each other's
 * tags.
 */
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { gitToken, type Lab, readLab, registryPassword } from "../lab.js";
import {
  apply,
  appsRegistryAuth,
  CLUSTER_DIR,
  createGitSecret,
  createNamespace,
  createRegistrySecret,
  type KubeObject,
  type NamespaceOptions,
  registryDigest,
  registryTags,
  run,
  type SubmitOptions,
  submit,
  uniqueName,
  type WorkflowResult,
} from "./cluster.js";

const REPO_ROOT = join(CLUSTER_DIR, "..", "..", "..");
export const REGISTRY_SECRET = "regcred";

/** `packline argo ARGS...` from this checkout; returns the YAML it prints (throws with its message when it refuses). */
export async function packlineArgo(args: readonly string[]): Promise<string> {
  const r = await run(process.execPath, [join(REPO_ROOT, "bin", "packline.js"), "argo", ...args], { timeoutMs: 60_000 });
  return r.stdout;
}

/** The objects of a multi-document YAML text. */
export function objects(yaml: string): KubeObject[] {
  return parseAllDocuments(yaml)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
}

/** A namespace for one test, ready for packline's workflows: executor Role, and `regcred` for the apps registry. */
export interface BuildSpace {
  readonly namespace: string;
  /** `10.123.0.1:5000/cluster/<namespace>`: where this test's builds publish. */
  readonly image: string;
  /** The repository path inside the apps registry (`cluster/<namespace>`), for registryTags/registryDigest. */
  readonly repository: string;
  readonly lab: Lab;
}

export async function buildSpace(prefix: string, opts: NamespaceOptions & { registryPassword?: string } = {}): Promise<BuildSpace> {
  const lab = readLab();
  const namespace = await createNamespace(uniqueName(prefix), opts);
  const apps = lab.registries.apps;
  await createRegistrySecret(namespace, REGISTRY_SECRET, apps.address, apps.username, opts.registryPassword ?? registryPassword(lab));
  const repository = `cluster/${namespace}`;
  return { namespace, image: `${apps.address}/${repository}`, repository, lab };
}

/** A Secret with the lab git server's token, for `--git-secret`. */
export async function gitSecret(space: BuildSpace, name = "gitcred"): Promise<string> {
  await createGitSecret(space.namespace, name, gitToken(space.lab), space.lab.git.username);
  return name;
}

/**
 * The options every lab build shares: the lab's fixture repository, this space's image, the lab's test builder, both
 * lab registries as plain HTTP, and the registry Secret. `extra` comes last (so it may repeat or add options).
 */
export function labOptions(space: BuildSpace, extra: readonly string[] = [], repo = space.lab.git.repos.fixture.url): string[] {
  const opts = ["--repo", repo, "--image", space.image, "--builder", space.lab.images.builder.ref, "--registry-secret", REGISTRY_SECRET];
  for (const r of space.lab.insecureRegistries) opts.push("--insecure-registry", r);
  return [...opts, ...extra];
}

/** Renders with packline, applies into the space's namespace; returns the applied objects. */
export async function renderAndApply(space: BuildSpace, extra: readonly string[] = [], repo?: string): Promise<KubeObject[]> {
  const yaml = await packlineArgo(labOptions(space, extra, repo));
  await apply(yaml, space.namespace);
  return objects(yaml);
}

/** Submits from the space's WorkflowTemplate (the first object packline rendered). */
export async function submitTemplate(
  space: BuildSpace,
  template: KubeObject,
  params: Readonly<Record<string, string>>,
  opts: Partial<SubmitOptions> = {},
): Promise<WorkflowResult> {
  return submit({ namespace: space.namespace, from: `workflowtemplate/${template.metadata.name}`, params, timeoutMs: 600_000, ...opts });
}

/** packline's build pushes here first; the release step then points the version's tags at it (README, Releases). */
export const STAGING_TAG = "packline-staging";

/** The check's claim on a version before it is built: `packline-claim-<version>` (README, "Two builds of one version"). */
export const CLAIM_TAG_PREFIX = "packline-claim-";

/** The version tags the apps registry holds for this space (the release protocol's staging and claim tags left out), sorted. */
export async function published(space: BuildSpace): Promise<string[]> {
  return (await allTags(space)).filter((t) => t !== STAGING_TAG && !t.startsWith(CLAIM_TAG_PREFIX));
}

/**
 * Every tag of this space's repository, the release protocol's included: the staging tag, and the claim tag the
 * release check writes for each version before its build (`packline-claim-<version>`; for a long version, of the
 * version's digest: scripts.ts).
 */
export async function allTags(space: BuildSpace): Promise<string[]> {
  return registryTags(space.lab.registries.apps.address, space.repository, appsRegistryAuth());
}

export async function publishedDigest(space: BuildSpace, tag: string): Promise<string | undefined> {
  return registryDigest(space.lab.registries.apps.address, space.repository, tag, appsRegistryAuth());
}

/** How many times a step ran: the attempts of a retried node (`name(0)`, `name(1)`, ...) or 1. */
export function attempts(r: WorkflowResult, step: string): number {
  return r.nodes.filter((n) => n.type === "Pod" && (n.displayName === step || n.displayName.startsWith(`${step}(`))).length;
}
