/**
 * Helpers for tests against the lab's real Kubernetes and Argo Workflows controller (test/lab/cluster/cluster.sh).
 *
 * The tests run in the lab's network namespace (test/lab/README.md), where the API server is at 10.123.2.2:6443 and
 * the lab's registries and git server at 10.123.0.1. Started anywhere else on the machine (a shell on the host),
 * every command is run through `nsenter` into the lab's network namespace instead, so the same helpers work there.
 *
 * Nothing here starts or stops the cluster: `cluster.sh up` does, before the suite (from the host side, since it
 * makes namespaces and builds binaries); `clusterInfo()` reads what it wrote and says how to start it when it is not.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { readLab, registryPassword } from "../lab.js";

export const CLUSTER_DIR = dirname(fileURLToPath(import.meta.url));
export const LAB_STATE = process.env.PACKLINE_LAB_STATE ?? "/var/lib/packline-lab";
export const LAB_ADDRESS = "10.123.0.1";

// ------------------------------------------------------------------------------------------------------ the cluster

/** What `cluster.sh up` wrote to $PACKLINE_LAB_STATE/cluster/cluster.json. */
export interface ClusterInfo {
  readonly stateDir: string;
  /** Directory with kubectl, argo, crane-free binaries of the cluster (build/cluster.sh). */
  readonly bin: string;
  /** The cluster admin's kubeconfig (system:masters), server https://10.123.2.2:6443. */
  readonly kubeconfig: string;
  readonly nodeIp: string;
  readonly podCidr: string;
  readonly labAddress: string;
  /** `10.123.0.1:5000`: htpasswd, where packline publishes. */
  readonly appsRegistry: string;
  /** `10.123.0.1:5001`: anonymous; every upstream registry is mirrored to it by the node's containerd. */
  readonly imagesRegistry: string;
  readonly kubernetesVersion: string;
  readonly argoVersion: string;
  /** The namespace of Argo's own install (controller, argo-server). */
  readonly argoNamespace: string;
  /** The default StorageClass (a real dynamic provisioner). */
  readonly storageClass: string;
}

let cachedInfo: ClusterInfo | undefined;

export function clusterInfoPath(): string {
  return join(LAB_STATE, "cluster", "cluster.json");
}

/** Reads cluster.json (once). Throws with the command to run when no cluster is up. */
export function clusterInfo(): ClusterInfo {
  if (cachedInfo) return cachedInfo;
  const file = clusterInfoPath();
  if (!existsSync(file)) {
    throw new Error(`no cluster is running (${file} is missing): start it with test/lab/cluster/cluster.sh up (as root, after test/lab/lab.sh up)`);
  }
  cachedInfo = JSON.parse(readFileSync(file, "utf8")) as ClusterInfo;
  return cachedInfo;
}

/** True when this process is in the lab's network namespace (the lab address is on one of its interfaces). */
export function inLabNetwork(): boolean {
  return Object.values(networkInterfaces()).some((addrs) => addrs?.some((a) => a.address === LAB_ADDRESS));
}

// ------------------------------------------------------------------------------------------------------ processes

export interface RunResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly input?: string;
  /** Kill the command after this long (default 2 minutes) and fail, naming it. */
  readonly timeoutMs?: number;
  /** Resolve with the result instead of throwing when the command exits non-zero. */
  readonly allowFailure?: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly result: RunResult,
  ) {
    super(`${command} exited ${result.exitCode}\n${result.stderr.trim() || result.stdout.trim()}`);
  }
}

/** Runs a program in the lab's network namespace (directly when this process is already in it). */
export function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  let argv: string[] = [file, ...args];
  if (!inLabNetwork()) {
    const pidFile = join(LAB_STATE, "lab.pid");
    if (!existsSync(pidFile)) throw new Error(`not in the lab's network namespace and no lab runs (${pidFile} is missing)`);
    argv = ["nsenter", "-t", readFileSync(pidFile, "utf8").trim(), "-n", "--", ...argv];
  }
  const shown = [file.split("/").pop(), ...args].join(" ");
  const timeoutMs = opts.timeoutMs ?? 120_000;
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      env: { ...process.env, ...opts.env },
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.stdout?.on("data", (d: Buffer) => out.push(d));
    child.stderr?.on("data", (d: Buffer) => err.push(d));
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`${shown}: ${e.message}`));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const result = { exitCode: code ?? -1, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") };
      if (timedOut) reject(new Error(`${shown}: timed out after ${timeoutMs} ms\n${result.stderr.trim()}`));
      else if (result.exitCode !== 0 && !opts.allowFailure) reject(new CommandError(shown, result));
      else resolve(result);
    });
    if (child.stdin) {
      // a command may exit without reading all of its input (it failed early): that is its result, not an error here
      child.stdin.on("error", () => {});
      child.stdin.end(opts.input);
    }
  });
}

/** kubectl as the cluster admin. */
export function kubectl(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const info = clusterInfo();
  return run(join(info.bin, "kubectl"), ["--kubeconfig", info.kubeconfig, ...args], opts);
}

/** The argo CLI (v4.0.5, talking to the API server directly, as the cluster admin). */
export function argo(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const info = clusterInfo();
  return run(join(info.bin, "argo"), ["--kubeconfig", info.kubeconfig, ...args], opts);
}

// ------------------------------------------------------------------------------------------------------ objects

/** The parts of Kubernetes objects these helpers read. */
export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly ownerReferences?: readonly { readonly kind: string; readonly name: string }[];
  readonly deletionTimestamp?: string;
}

export interface KubeObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: ObjectMeta;
}

export interface KubeList<T> {
  readonly items: readonly T[];
}

export interface Parameter {
  readonly name: string;
  readonly value?: string;
}

/** A node of `Workflow.status.nodes`. */
export interface WorkflowNodeStatus {
  readonly id: string;
  readonly name: string;
  readonly displayName: string;
  readonly type: string;
  readonly templateName?: string;
  readonly templateRef?: { readonly name: string; readonly template: string };
  readonly phase: string;
  readonly message?: string;
  readonly outputs?: { readonly parameters?: readonly Parameter[]; readonly exitCode?: string };
}

/** An Argo Workflow as read back from the API server. */
export interface Workflow extends KubeObject {
  readonly spec?: Readonly<Record<string, unknown>>;
  readonly status?: {
    readonly phase?: Phase;
    readonly message?: string;
    readonly startedAt?: string;
    readonly finishedAt?: string;
    readonly outputs?: { readonly parameters?: readonly Parameter[] };
    readonly nodes?: Readonly<Record<string, WorkflowNodeStatus>>;
  };
}

export interface PersistentVolumeClaim extends KubeObject {
  readonly spec?: { readonly storageClassName?: string; readonly volumeName?: string };
  readonly status?: { readonly phase?: string };
}

/** `kubectl get ... -o json`, parsed. */
export async function getJson<T = KubeObject>(args: readonly string[], opts: RunOptions = {}): Promise<T> {
  const r = await kubectl(["get", ...args, "-o", "json"], opts);
  return JSON.parse(r.stdout) as T;
}

/** Manifests as YAML text, or objects (written as JSON, which is YAML), to `kubectl apply`. */
export type Manifest = string | object | readonly object[];

function manifestText(manifest: Manifest): string {
  if (typeof manifest === "string") return manifest;
  const items = Array.isArray(manifest) ? manifest : [manifest];
  return JSON.stringify({ apiVersion: "v1", kind: "List", items });
}

/** `kubectl apply -f -` (server-side, so large objects such as CRDs and long templates are fine). */
export async function apply(manifest: Manifest, namespace?: string): Promise<string> {
  const ns = namespace ? ["-n", namespace] : [];
  const r = await kubectl([...ns, "apply", "--server-side", "--force-conflicts", "-f", "-"], { input: manifestText(manifest) });
  return r.stdout;
}

/** `kubectl create -f -`, returning the created objects' names (`kind/name`): for generateName objects. */
export async function create(manifest: Manifest, namespace?: string): Promise<string[]> {
  const ns = namespace ? ["-n", namespace] : [];
  const r = await kubectl([...ns, "create", "-f", "-", "-o", "name"], { input: manifestText(manifest) });
  return r.stdout.split("\n").filter(Boolean);
}

/** Polls `check` every `intervalMs` until it returns a value other than undefined; fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// ------------------------------------------------------------------------------------------------------ namespaces

export interface NamespaceOptions {
  /** Label the namespace `pod-security.kubernetes.io/enforce=restricted` (the API server's PodSecurity admission). */
  readonly restricted?: boolean;
  /** The service account workflows run as (created unless `default`); it gets the executor's permissions. */
  readonly serviceAccount?: string;
}

/** A fresh namespace name: `prefix-<random>`, a valid DNS-1123 label. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString("hex")}`;
}

/**
 * Makes a namespace for one test: the PodSecurity label when asked, and the permission Argo's executor needs in
 * every namespace where workflows run (create and patch WorkflowTaskResults, as Argo's quick-start `executor` Role).
 * Waits until the service account exists, since pods cannot be created before.
 */
export async function createNamespace(name: string, opts: NamespaceOptions = {}): Promise<string> {
  const sa = opts.serviceAccount ?? "default";
  const labels: Record<string, string> = opts.restricted
    ? {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
      }
    : {};
  const objects: object[] = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name, labels } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "argo-executor", namespace: name },
      rules: [{ apiGroups: ["argoproj.io"], resources: ["workflowtaskresults"], verbs: ["create", "patch"] }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: `argo-executor-${sa}`, namespace: name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "argo-executor" },
      subjects: [{ kind: "ServiceAccount", name: sa, namespace: name }],
    },
  ];
  if (sa !== "default") objects.push({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: sa, namespace: name } });
  await apply(objects);
  await waitFor(
    `service account ${name}/${sa}`,
    async () => ((await kubectl(["-n", name, "get", "serviceaccount", sa], { allowFailure: true })).exitCode === 0 ? true : undefined),
    30_000,
  );
  return name;
}

/** Deletes a namespace (and so its workflows, pods and claims); waits for it to be gone unless `wait` is false. */
export async function deleteNamespace(name: string, wait = true): Promise<void> {
  await kubectl(["delete", "namespace", name, "--ignore-not-found", `--wait=${wait}`, "--timeout=120s"], { timeoutMs: 150_000 });
}

// ------------------------------------------------------------------------------------------------------ secrets

/** A `kubernetes.io/dockerconfigjson` Secret with one registry's credentials (what `--registry-secret` names). */
export async function createRegistrySecret(namespace: string, name: string, registry: string, username: string, password: string): Promise<void> {
  const auth = Buffer.from(`${username}:${password}`).toString("base64");
  const config = { auths: { [registry]: { username, password, auth } } };
  await apply({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace },
    type: "kubernetes.io/dockerconfigjson",
    data: { ".dockerconfigjson": Buffer.from(JSON.stringify(config)).toString("base64") },
  });
}

/** A Secret with keys `password` (a token) and optionally `username` (what `--git-secret` names). */
export async function createGitSecret(namespace: string, name: string, password: string, username?: string): Promise<void> {
  const stringData: Record<string, string> = { password };
  if (username !== undefined) stringData.username = username;
  await apply({ apiVersion: "v1", kind: "Secret", metadata: { name, namespace }, type: "Opaque", stringData });
}

/** Labels an existing namespace to enforce the restricted Pod Security Standard. */
export async function enforceRestricted(namespace: string): Promise<void> {
  await kubectl([
    "label",
    "namespace",
    namespace,
    "--overwrite",
    "pod-security.kubernetes.io/enforce=restricted",
    "pod-security.kubernetes.io/enforce-version=latest",
  ]);
}

// ------------------------------------------------------------------------------------------------------ workflows

export type Phase = "Pending" | "Running" | "Succeeded" | "Failed" | "Error";

export interface NodeSummary {
  readonly id: string;
  readonly name: string;
  readonly displayName: string;
  readonly type: string;
  readonly templateName?: string;
  readonly phase: string;
  readonly message?: string;
  /** The node's output parameters, by name. */
  readonly outputs: Readonly<Record<string, string>>;
  readonly exitCode?: string;
}

export interface WorkflowResult {
  readonly namespace: string;
  readonly name: string;
  readonly phase: Phase;
  readonly message?: string;
  /** The workflow's own `status.outputs.parameters` (global outputs), by name. */
  readonly outputs: Readonly<Record<string, string>>;
  readonly nodes: readonly NodeSummary[];
  /**
   * `argo logs` of the whole workflow and every container's log of its pods (init containers included), as far as
   * its pods still exist (pods GC'd on success have no logs left).
   */
  readonly logs: string;
  /** Every container's log (init containers too) of each pod that did not succeed, by pod name. */
  readonly failedPodLogs: Readonly<Record<string, string>>;
  /** Seconds from creation to the end, as the controller recorded them. */
  readonly durationSeconds?: number;
  /** The Workflow object as the API server returned it at the end. */
  readonly workflow: Workflow;
}

export interface SubmitOptions {
  readonly namespace: string;
  /** A Workflow manifest (YAML text or object) to submit, as `argo submit file.yaml` does. */
  readonly manifest?: string | object;
  /** `workflowtemplate/NAME` (or `clusterworkflowtemplate/NAME`) to submit from, as `argo submit --from`. */
  readonly from?: string;
  /** Workflow parameters (`-p name=value`). */
  readonly params?: Readonly<Record<string, string>>;
  readonly serviceAccount?: string;
  /** Labels for the submitted workflow, e.g. to find it later. */
  readonly labels?: Readonly<Record<string, string>>;
  /** How long to wait for the workflow to finish (default 5 minutes). */
  readonly timeoutMs?: number;
  /** Use `argo submit --wait` itself (true) instead of polling the Workflow (default false). */
  readonly argoWait?: boolean;
}

const FINISHED: readonly string[] = ["Succeeded", "Failed", "Error"];

/** Submits a workflow with the argo CLI and waits for it to finish; never throws for a failed workflow. */
export async function submit(opts: SubmitOptions): Promise<WorkflowResult> {
  if ((opts.manifest === undefined) === (opts.from === undefined)) throw new Error("submit: give exactly one of manifest and from");
  const args = ["submit", "-n", opts.namespace, "-o", "name"];
  let input: string | undefined;
  if (opts.from) args.push("--from", opts.from);
  else {
    args.push("-");
    input = typeof opts.manifest === "string" ? opts.manifest : JSON.stringify(opts.manifest);
  }
  for (const [k, v] of Object.entries(opts.params ?? {})) args.push("-p", `${k}=${v}`);
  if (opts.serviceAccount) args.push("--serviceaccount", opts.serviceAccount);
  const labels = Object.entries(opts.labels ?? {}).map(([k, v]) => `${k}=${v}`);
  if (labels.length) args.push("-l", labels.join(","));
  const timeoutMs = opts.timeoutMs ?? 300_000;
  if (opts.argoWait) args.push("--wait");
  const r = await argo(args, { input, timeoutMs: timeoutMs + 30_000, allowFailure: opts.argoWait });
  // `-o name` prints the name first; with --wait argo then waits and exits non-zero when the workflow fails.
  const name = r.stdout
    .split("\n")
    .map((l) => l.trim())
    .find((l) => /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(l));
  if (!name) throw new CommandError(`argo ${args.join(" ")}`, r);
  return waitForWorkflow(opts.namespace, name, timeoutMs);
}

/** Submits a Workflow with `kubectl create` (no argo CLI in the way): for `workflowTemplateRef` or raw manifests. */
export async function createWorkflow(namespace: string, manifest: string | object, timeoutMs = 300_000): Promise<WorkflowResult> {
  const [created] = await create(typeof manifest === "string" ? manifest : manifest, namespace);
  if (!created) throw new Error("kubectl create returned no object");
  return waitForWorkflow(namespace, created.replace(/^.*\//, ""), timeoutMs);
}

/** Waits for a Workflow to reach Succeeded, Failed or Error, then gathers its outputs, nodes and logs. */
export async function waitForWorkflow(namespace: string, name: string, timeoutMs = 300_000): Promise<WorkflowResult> {
  const wf = await waitFor(
    `workflow ${namespace}/${name} to finish`,
    async () => {
      const w = await getJson<Workflow>(["-n", namespace, "workflow", name]);
      return FINISHED.includes(w.status?.phase ?? "") ? w : undefined;
    },
    timeoutMs,
    1000,
  ).catch(async (e: Error) => {
    // Say where it was stuck: the nodes and the controller's view.
    const w = await getJson<Workflow>(["-n", namespace, "workflow", name]).catch(() => undefined);
    throw new Error(`${e.message}\n${w ? describeWorkflow(summarize(w, "")) : "(workflow not found)"}`);
  });
  const logs = await argo(["logs", "-n", namespace, name, "--no-color"], { allowFailure: true, timeoutMs: 60_000 });
  // `argo logs` shows main containers only; a build pod's steps are mostly init containers.
  const initLogs = Object.values(await podLogs(namespace, name, () => true)).join("\n");
  return summarize(wf, `${logs.stdout}${logs.exitCode === 0 ? "" : logs.stderr}\n${initLogs}`, await failedPodLogs(namespace, name));
}

/**
 * The logs of a workflow's pods that did not succeed, every container included: `argo logs` shows the main
 * containers only, and a failure in an init container (a clone) would otherwise leave no trace.
 */
export function failedPodLogs(namespace: string, workflow: string): Promise<Record<string, string>> {
  return podLogs(namespace, workflow, (phase) => phase !== "Succeeded");
}

/** Every container's log (init containers included) of a workflow's pods that still exist and pass `keep`. */
async function podLogs(namespace: string, workflow: string, keep: (phase: string | undefined) => boolean): Promise<Record<string, string>> {
  type Pod = KubeObject & { status?: { phase?: string }; spec?: { initContainers?: { name: string }[]; containers?: { name: string }[] } };
  const pods = await getJson<KubeList<Pod>>(["-n", namespace, "pods", "-l", `workflows.argoproj.io/workflow=${workflow}`]).catch(() => ({
    items: [] as Pod[],
  }));
  const out: Record<string, string> = {};
  for (const pod of pods.items) {
    if (!keep(pod.status?.phase)) continue;
    // One container at a time: `--all-containers` gives up at the first one that never started (after a failed init
    // container), and prints none of the others.
    const names = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => c.name);
    const logs: string[] = [];
    for (const name of names) {
      const r = await kubectl(["-n", namespace, "logs", pod.metadata.name, "-c", name, "--prefix"], { allowFailure: true, timeoutMs: 30_000 });
      logs.push(r.stdout + (r.exitCode === 0 ? "" : r.stderr));
    }
    out[pod.metadata.name] = logs.join("");
  }
  return out;
}

/** The plain-data view of a Workflow object. */
export function summarize(wf: Workflow, logs: string, podLogs: Readonly<Record<string, string>> = {}): WorkflowResult {
  const params = (list: readonly Parameter[] | undefined) =>
    Object.fromEntries((list ?? []).filter((p) => p.value !== undefined).map((p) => [p.name, String(p.value)]));
  const nodes: NodeSummary[] = Object.values(wf.status?.nodes ?? {}).map((n) => ({
    id: n.id,
    name: n.name,
    displayName: n.displayName,
    type: n.type,
    templateName: n.templateName ?? n.templateRef?.template,
    phase: n.phase,
    message: n.message,
    outputs: params(n.outputs?.parameters),
    exitCode: n.outputs?.exitCode,
  }));
  const started = wf.status?.startedAt ? Date.parse(wf.status.startedAt) : undefined;
  const finished = wf.status?.finishedAt ? Date.parse(wf.status.finishedAt) : undefined;
  return {
    namespace: wf.metadata.namespace ?? "",
    name: wf.metadata.name,
    phase: wf.status?.phase ?? "Pending",
    message: wf.status?.message,
    outputs: params(wf.status?.outputs?.parameters),
    nodes,
    logs,
    failedPodLogs: podLogs,
    durationSeconds: started && finished ? (finished - started) / 1000 : undefined,
    workflow: wf,
  };
}

/** For assertion messages: one line per node (`phase type displayName: message`), then the end of the logs. */
export function describeWorkflow(r: WorkflowResult): string {
  const lines = [`workflow ${r.namespace}/${r.name}: ${r.phase}${r.message ? ` (${r.message})` : ""}`];
  for (const n of r.nodes) lines.push(`  ${n.phase} ${n.type} ${n.displayName}${n.message ? `: ${n.message}` : ""}`);
  const failed = Object.entries(r.failedPodLogs);
  for (const [pod, log] of failed) {
    lines.push(`pod ${pod} (did not succeed), last lines of every container:`, ...tail(log, 40));
  }
  if (failed.length === 0 && r.logs.trim()) lines.push("logs (last lines):", ...tail(r.logs, 30));
  return lines.join("\n");
}

function tail(text: string, n: number): string[] {
  return text
    .trim()
    .split("\n")
    .slice(-n)
    .map((l) => `  ${l}`);
}

/** The node of a workflow whose display name (step or task name) is `displayName`. */
export function node(r: WorkflowResult, displayName: string): NodeSummary {
  const found = r.nodes.filter((n) => n.displayName === displayName);
  if (found.length === 0) throw new Error(`no node ${displayName} in ${describeWorkflow(r)}`);
  return found[found.length - 1]!;
}

// ------------------------------------------------------------------------------------------------------ storage

export interface ClaimSummary {
  readonly name: string;
  readonly phase: string;
  readonly storageClass?: string;
  readonly volumeName?: string;
  readonly labels: Readonly<Record<string, string>>;
  /** `Kind/name` of each owner (Argo owns a volumeClaimTemplate's claim by its Workflow). */
  readonly owners: readonly string[];
  readonly deleting: boolean;
}

/** The PersistentVolumeClaims of a namespace. */
export async function claims(namespace: string): Promise<ClaimSummary[]> {
  const list = await getJson<KubeList<PersistentVolumeClaim>>(["-n", namespace, "persistentvolumeclaims"]);
  return list.items.map((c) => ({
    name: c.metadata.name,
    phase: c.status?.phase ?? "",
    storageClass: c.spec?.storageClassName,
    volumeName: c.spec?.volumeName,
    labels: c.metadata.labels ?? {},
    owners: (c.metadata.ownerReferences ?? []).map((o) => `${o.kind}/${o.name}`),
    deleting: Boolean(c.metadata.deletionTimestamp),
  }));
}

/** A claim bound to a volume provisioned in advance of the test (for `--cache-pvc`); waits until it is Bound. */
export async function createClaim(namespace: string, name: string, size = "1Gi", waitBound = false): Promise<void> {
  await apply({
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, namespace },
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: size } } },
  });
  // The default class binds on first use (WaitForFirstConsumer): a claim is Pending until a pod mounts it.
  if (waitBound) {
    await waitFor(`claim ${namespace}/${name} Bound`, async () =>
      (await getJson<PersistentVolumeClaim>(["-n", namespace, "pvc", name])).status?.phase === "Bound" ? true : undefined,
    );
  }
}

// ------------------------------------------------------------------------------------------------------ the lab

/** Runs curl in the lab's network namespace; returns the body (throws on an HTTP error unless allowFailure). */
export async function curl(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return run("curl", ["-sS", "--max-time", "30", ...args], opts);
}

/** The apps registry's login (user `packline` and the password lab.sh made), for registryTags/registryDigest. */
export function appsRegistryAuth(): { username: string; password: string } {
  const lab = readLab();
  return { username: lab.registries.apps.username, password: registryPassword(lab) };
}

/** The tags of a repository in a lab registry (`[]` when the repository does not exist). */
export async function registryTags(registry: string, repository: string, auth?: { username: string; password: string }): Promise<string[]> {
  const user = auth ? ["-u", `${auth.username}:${auth.password}`] : [];
  const r = await curl([...user, "-w", "\n%{http_code}", `http://${registry}/v2/${repository}/tags/list`]);
  const [body, code] = splitCode(r.stdout);
  if (code === "404") return [];
  if (code !== "200") throw new Error(`GET ${registry}/v2/${repository}/tags/list: HTTP ${code} ${body}`);
  return ((JSON.parse(body).tags as string[] | null) ?? []).sort();
}

/** The digest a lab registry gives for `repository:tag` (its Docker-Content-Digest), or undefined when absent. */
export async function registryDigest(
  registry: string,
  repository: string,
  tag: string,
  auth?: { username: string; password: string },
): Promise<string | undefined> {
  const user = auth ? ["-u", `${auth.username}:${auth.password}`] : [];
  const accept = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
  ].join(", ");
  const r = await curl([...user, "-I", "-H", `Accept: ${accept}`, "-w", "\n%{http_code}", `http://${registry}/v2/${repository}/manifests/${tag}`]);
  const [headers, code] = splitCode(r.stdout);
  if (code === "404") return undefined;
  if (code !== "200") throw new Error(`HEAD ${registry}/v2/${repository}/manifests/${tag}: HTTP ${code}`);
  return /^docker-content-digest:\s*(\S+)/im.exec(headers)?.[1];
}

function splitCode(out: string): [string, string] {
  const i = out.lastIndexOf("\n");
  return [out.slice(0, i), out.slice(i + 1).trim()];
}
