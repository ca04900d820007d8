import { PacklineError, quote } from "../errors.js";
import { kubernetesName } from "../k8s-name.js";

/** Cluster-only options of `packline argo` / `dagger call argo` (the build options are the core's). */
export interface ArgoInput {
  readonly kind?: string;
  readonly executor?: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly serviceAccount?: string;
  readonly gitSecret?: string;
  readonly cachePvc?: string;
  readonly workspaceSize?: string;
  readonly cpuRequest?: string;
  readonly memoryRequest?: string;
  readonly cpuLimit?: string;
  readonly memoryLimit?: string;
  readonly retries?: string | number;
  readonly deadline?: string | number;
  readonly podGc?: string;
}

export const KINDS = ["workflow-template", "workflow"] as const;
export const EXECUTORS = ["creator", "pack"] as const;
export const POD_GC = ["OnPodSuccess", "OnPodCompletion", "OnWorkflowSuccess", "OnWorkflowCompletion", "none"] as const;

export interface ArgoOptions {
  readonly kind: (typeof KINDS)[number];
  readonly executor: (typeof EXECUTORS)[number];
  readonly name: string;
  readonly namespace?: string;
  readonly serviceAccount?: string;
  readonly gitSecret?: string;
  readonly cachePvc?: string;
  readonly workspaceSize: string;
  readonly resources: {
    readonly requests: Readonly<Record<string, string>>;
    readonly limits: Readonly<Record<string, string>>;
  };
  readonly retries: number;
  readonly deadlineSeconds?: number;
  readonly podGc: (typeof POD_GC)[number];
}

// Kubernetes resource.Quantity: a number with an optional binary/decimal suffix or exponent.
const QUANTITY = /^[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$/;

export function validateArgoOptions(input: ArgoInput, defaultName: string): ArgoOptions {
  const kind = oneOf("--kind", input.kind ?? "workflow-template", KINDS);
  const executor = oneOf("--executor", input.executor ?? "creator", EXECUTORS);
  // Workflow names get a random suffix (generateName) and become pod name prefixes: keep them short labels.
  const name = kubernetesName("--name", input.name || defaultName, { label: true, max: kind === "workflow" ? 52 : 63 });
  return {
    kind,
    executor,
    name,
    namespace: input.namespace ? kubernetesName("--namespace", input.namespace, { label: true }) : undefined,
    serviceAccount: input.serviceAccount ? kubernetesName("--service-account", input.serviceAccount) : undefined,
    gitSecret: input.gitSecret ? kubernetesName("--git-secret", input.gitSecret) : undefined,
    cachePvc: input.cachePvc ? kubernetesName("--cache-pvc", input.cachePvc) : undefined,
    workspaceSize: quantity("--workspace-size", input.workspaceSize || "2Gi"),
    resources: {
      requests: resourceMap({ cpu: [input.cpuRequest, "--cpu-request"], memory: [input.memoryRequest, "--memory-request"] }),
      limits: resourceMap({ cpu: [input.cpuLimit, "--cpu-limit"], memory: [input.memoryLimit, "--memory-limit"] }),
    },
    retries: count("--retries", input.retries ?? 2, 10),
    deadlineSeconds: input.deadline === undefined || input.deadline === "" ? undefined : count("--deadline", input.deadline, 7 * 24 * 3600, 1),
    podGc: oneOf("--pod-gc", input.podGc ?? "OnPodSuccess", POD_GC),
  };
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new PacklineError(`${flag} ${quote(value)} does not exist: choose one of ${allowed.join(", ")}.`);
}

function quantity(flag: string, value: string): string {
  if (!QUANTITY.test(value)) {
    throw new PacklineError(`${flag} ${quote(value)} is not a Kubernetes quantity: e.g. 500m or 2 for CPU, 512Mi or 2Gi for memory and storage.`);
  }
  return value;
}

function resourceMap(entries: Record<string, [string | undefined, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [resource, [value, flag]] of Object.entries(entries)) {
    if (value !== undefined && value !== "") out[resource] = quantity(flag, value);
  }
  return out;
}

function count(flag: string, value: string | number, max: number, min = 0): number {
  const n = typeof value === "number" ? value : /^[0-9]+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new PacklineError(`${flag} ${quote(String(value))} must be a whole number from ${min} to ${max}.`);
  }
  return n;
}
