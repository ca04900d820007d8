/**
 * A Pod Security Standards checker of our own, written from the Kubernetes documentation's text
 * (https://kubernetes.io/docs/concepts/security/pod-security-standards/, policy version 1.34): the "baseline" and
 * "restricted" profiles, control by control, over a PodSpec. Each failure carries the ID of the check the admission
 * controller's own code (k8s.io/pod-security-admission/policy) uses for the same control, so the self-test can
 * compare the two check by check on random pods (argo-pod-security.test.ts, through tools/argo-lint pod-security).
 *
 * Linux pods only: the Windows-only exemptions of the text (spec.os.name: windows) are not modelled, and the
 * windowsOptions.hostProcess control is.
 */
import type { Json } from "./argo-lint.js";

export type Level = "baseline" | "restricted";

export interface Failure {
  /** The admission controller's check ID for the control (e.g. `runAsNonRoot`). */
  readonly check: string;
  /** Where and what, e.g. `containers "wait": allowPrivilegeEscalation is not false`. */
  readonly why: string;
}

type Container = { readonly kind: "containers" | "initContainers" | "ephemeralContainers"; readonly c: Json };

function containers(spec: Json): Container[] {
  return (["initContainers", "containers", "ephemeralContainers"] as const).flatMap((kind) =>
    ((spec[kind] ?? []) as Json[]).map((c) => ({ kind, c })),
  );
}

const where = (x: Container) => `${x.kind} ${JSON.stringify(x.c.name ?? "")}`;

/** Capabilities a baseline container may add (the text's list). */
const BASELINE_CAPABILITIES = new Set([
  "AUDIT_WRITE",
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "MKNOD",
  "NET_BIND_SERVICE",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_CHROOT",
]);

/** The "safe" sysctls of the text (with the ones added in 1.27, 1.29 and 1.32). */
const SAFE_SYSCTLS = new Set([
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
  "net.ipv4.tcp_rmem",
  "net.ipv4.tcp_wmem",
]);

const SELINUX_TYPES = new Set(["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"]);

/** Volume types the restricted profile allows. */
const RESTRICTED_VOLUMES = new Set([
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "image",
  "persistentVolumeClaim",
  "projected",
  "secret",
]);

/** Every field of a Volume other than its name is its source (one per volume). */
const volumeTypes = (volume: Json) => Object.keys(volume).filter((k) => k !== "name" && volume[k] !== undefined && volume[k] !== null);

function baseline(spec: Json, meta: Json): Failure[] {
  const out: Failure[] = [];
  const fail = (check: string, why: string) => out.push({ check, why });
  const all = containers(spec);
  const podSc = spec.securityContext ?? {};

  // HostProcess: Windows pods may not run host processes.
  if (podSc.windowsOptions?.hostProcess === true) fail("windowsHostProcess", "pod: windowsOptions.hostProcess is true");
  for (const x of all)
    if (x.c.securityContext?.windowsOptions?.hostProcess === true) fail("windowsHostProcess", `${where(x)}: windowsOptions.hostProcess is true`);

  // Host Namespaces: hostNetwork, hostPID, hostIPC must be unset or false.
  for (const field of ["hostNetwork", "hostPID", "hostIPC"]) if (spec[field] === true) fail("hostNamespaces", `pod: ${field} is true`);

  // Privileged Containers.
  for (const x of all) if (x.c.securityContext?.privileged === true) fail("privileged", `${where(x)}: privileged is true`);

  // Capabilities: adding beyond the default set is forbidden.
  for (const x of all) {
    for (const cap of (x.c.securityContext?.capabilities?.add ?? []) as string[]) {
      if (!BASELINE_CAPABILITIES.has(cap)) fail("capabilities_baseline", `${where(x)}: adds ${cap}`);
    }
  }

  // HostPath Volumes.
  for (const v of (spec.volumes ?? []) as Json[]) if (v.hostPath) fail("hostPathVolumes", `volume ${JSON.stringify(v.name)}: hostPath`);

  // Host Ports: unset or 0.
  for (const x of all) {
    for (const port of (x.c.ports ?? []) as Json[]) if (port.hostPort) fail("hostPorts", `${where(x)}: hostPort ${port.hostPort}`);
  }

  // Host probes / lifecycle hooks (1.34): no `host` in httpGet or tcpSocket handlers.
  for (const x of all) {
    const handlers = [x.c.livenessProbe, x.c.readinessProbe, x.c.startupProbe, x.c.lifecycle?.postStart, x.c.lifecycle?.preStop];
    for (const h of handlers) {
      if (h?.httpGet?.host || h?.tcpSocket?.host) fail("hostProbesAndHostLifecycle", `${where(x)}: a probe or lifecycle handler names a host`);
    }
  }

  // AppArmor: RuntimeDefault or Localhost (fields), runtime/default or localhost/* (the older annotations).
  const apparmorOk = (p: Json) => p === undefined || p.type === "RuntimeDefault" || p.type === "Localhost";
  if (!apparmorOk(podSc.appArmorProfile)) fail("appArmorProfile", `pod: appArmorProfile ${podSc.appArmorProfile.type}`);
  for (const x of all) if (!apparmorOk(x.c.securityContext?.appArmorProfile)) fail("appArmorProfile", `${where(x)}: appArmorProfile`);
  for (const [key, value] of Object.entries((meta?.annotations ?? {}) as Record<string, string>)) {
    if (key.startsWith("container.apparmor.security.beta.kubernetes.io/") && value !== "runtime/default" && !value.startsWith("localhost/")) {
      fail("appArmorProfile", `annotation ${key}: ${value}`);
    }
  }

  // SELinux: only the container types; no custom user or role.
  const selinuxOk = (o: Json) => !o || (SELINUX_TYPES.has(o.type ?? "") && !o.user && !o.role);
  if (!selinuxOk(podSc.seLinuxOptions)) fail("seLinuxOptions", "pod: seLinuxOptions");
  for (const x of all) if (!selinuxOk(x.c.securityContext?.seLinuxOptions)) fail("seLinuxOptions", `${where(x)}: seLinuxOptions`);

  // /proc Mount Type: the default.
  for (const x of all) {
    const procMount = x.c.securityContext?.procMount;
    if (procMount !== undefined && procMount !== "Default") fail("procMount", `${where(x)}: procMount ${procMount}`);
  }

  // Seccomp: never Unconfined.
  if (podSc.seccompProfile?.type === "Unconfined") fail("seccompProfile_baseline", "pod: seccompProfile Unconfined");
  for (const x of all)
    if (x.c.securityContext?.seccompProfile?.type === "Unconfined") fail("seccompProfile_baseline", `${where(x)}: seccompProfile Unconfined`);

  // Sysctls: only the safe set.
  for (const s of (podSc.sysctls ?? []) as Json[]) if (!SAFE_SYSCTLS.has(s.name)) fail("sysctls", `pod: sysctl ${s.name}`);
  return out;
}

function restricted(spec: Json): Failure[] {
  const out: Failure[] = [];
  const fail = (check: string, why: string) => out.push({ check, why });
  const all = containers(spec);
  const podSc = spec.securityContext ?? {};

  // Volume Types: only the listed kinds.
  for (const v of (spec.volumes ?? []) as Json[]) {
    for (const type of volumeTypes(v)) if (!RESTRICTED_VOLUMES.has(type)) fail("restrictedVolumes", `volume ${JSON.stringify(v.name)}: ${type}`);
  }

  // Privilege Escalation: allowPrivilegeEscalation must be false, in every container.
  for (const x of all)
    if (x.c.securityContext?.allowPrivilegeEscalation !== false)
      fail("allowPrivilegeEscalation", `${where(x)}: allowPrivilegeEscalation is not false`);

  // Running as Non-root: runAsNonRoot true on the pod (no container saying false), or on every container.
  const podNonRoot = podSc.runAsNonRoot === true;
  for (const x of all) {
    const own = x.c.securityContext?.runAsNonRoot;
    if (own === false) fail("runAsNonRoot", `${where(x)}: runAsNonRoot is false`);
    else if (own !== true && !podNonRoot) fail("runAsNonRoot", `${where(x)}: runAsNonRoot is not true, on it or on the pod`);
  }
  if (podSc.runAsNonRoot === false) fail("runAsNonRoot", "pod: runAsNonRoot is false");

  // Running as Non-root user: runAsUser never 0.
  if (podSc.runAsUser === 0) fail("runAsUser", "pod: runAsUser 0");
  for (const x of all) if (x.c.securityContext?.runAsUser === 0) fail("runAsUser", `${where(x)}: runAsUser 0`);

  // Seccomp: RuntimeDefault or Localhost, on the pod or on every container; never another type.
  const seccompOk = (p: Json) => p?.type === "RuntimeDefault" || p?.type === "Localhost";
  const podSeccomp = podSc.seccompProfile;
  if (podSeccomp !== undefined && !seccompOk(podSeccomp)) fail("seccompProfile_restricted", `pod: seccompProfile ${podSeccomp.type}`);
  for (const x of all) {
    const own = x.c.securityContext?.seccompProfile;
    if (own !== undefined && !seccompOk(own)) fail("seccompProfile_restricted", `${where(x)}: seccompProfile ${own.type}`);
    else if (own === undefined && !seccompOk(podSeccomp)) fail("seccompProfile_restricted", `${where(x)}: no seccompProfile, on it or on the pod`);
  }

  // Capabilities: drop ALL; add at most NET_BIND_SERVICE.
  for (const x of all) {
    const caps = x.c.securityContext?.capabilities ?? {};
    if (!((caps.drop ?? []) as string[]).includes("ALL")) fail("capabilities_restricted", `${where(x)}: does not drop ALL capabilities`);
    for (const cap of (caps.add ?? []) as string[]) if (cap !== "NET_BIND_SERVICE") fail("capabilities_restricted", `${where(x)}: adds ${cap}`);
  }
  return out;
}

/** Restricted checks that replace a baseline check of the same control (the text states the stricter rule). */
const OVERRIDES: Record<string, string> = {
  capabilities_baseline: "capabilities_restricted",
  seccompProfile_baseline: "seccompProfile_restricted",
  hostPathVolumes: "restrictedVolumes",
};

/** What the pod breaks of the profile (an empty list: it meets it). `meta`: the pod's metadata (annotations). */
export function podSecurityFailures(spec: Json, level: Level, meta: Json = {}): Failure[] {
  const base = baseline(spec, meta);
  if (level === "baseline") return base;
  return [...base.filter((f) => OVERRIDES[f.check] === undefined), ...restricted(spec)];
}

/** The IDs of the checks a pod fails, sorted and once each (what the admission controller reports). */
export function failedChecks(spec: Json, level: Level, meta: Json = {}): string[] {
  return [...new Set(podSecurityFailures(spec, level, meta).map((f) => f.check))].sort();
}
