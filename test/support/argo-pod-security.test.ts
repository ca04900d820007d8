/**
 * Self-test of our Pod Security Standards checker: one case per control of the text, then random pods checked by both
 * our checker and the admission controller's own code (tools/argo-lint pod-security), check by check.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { ARGO_LINT_BUILD_TIMEOUT_MS, ensureArgoLint, type Json, upstreamPodSecurity } from "./argo-lint.js";
import { failedChecks, podSecurityFailures } from "./argo-pod-security.js";

const SAFE_CONTAINER = {
  name: "main",
  image: "example",
  securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
};
/** A pod that meets restricted: non-root and RuntimeDefault seccomp on the pod, a locked-down container. */
const RESTRICTED_POD = {
  securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } },
  containers: [SAFE_CONTAINER],
  volumes: [{ name: "work", emptyDir: {} }],
};

function withContainer(securityContext: Json, extra: Json = {}): Json {
  return {
    ...RESTRICTED_POD,
    containers: [{ ...SAFE_CONTAINER, ...extra, securityContext: { ...SAFE_CONTAINER.securityContext, ...securityContext } }],
  };
}

describe("our Pod Security checker, control by control", () => {
  it("passes a restricted pod at both levels", () => {
    expect(podSecurityFailures(RESTRICTED_POD, "restricted")).toEqual([]);
    expect(podSecurityFailures(RESTRICTED_POD, "baseline")).toEqual([]);
  });

  it.each(cases)("%s", (_name, pod, baseline, restricted) => {
    expect(failedChecks(pod, "baseline")).toEqual(baseline);
    expect(failedChecks(pod, "restricted")).toEqual(restricted);
  });

  it("names the container and the rule in each failure", () => {
    const failures = podSecurityFailures(withContainer({ allowPrivilegeEscalation: true }), "restricted");
    expect(failures).toEqual([{ check: "allowPrivilegeEscalation", why: 'containers "main": allowPrivilegeEscalation is not false' }]);
  });
});

const cases: [string, Json, string[], string[]][] = [
  // name, pod, failed baseline checks, failed restricted checks
  ["privileged container", withContainer({ privileged: true }), ["privileged"], ["privileged"]],
  ["host network", { ...RESTRICTED_POD, hostNetwork: true }, ["hostNamespaces"], ["hostNamespaces"]],
  ["host PID", { ...RESTRICTED_POD, hostPID: true }, ["hostNamespaces"], ["hostNamespaces"]],
  [
    "hostPath volume",
    { ...RESTRICTED_POD, volumes: [{ name: "sock", hostPath: { path: "/var/run/docker.sock" } }] },
    ["hostPathVolumes"],
    ["restrictedVolumes"],
  ],
  ["nfs volume", { ...RESTRICTED_POD, volumes: [{ name: "n", nfs: { server: "s", path: "/" } }] }, [], ["restrictedVolumes"]],
  ["host port", withContainer({}, { ports: [{ containerPort: 80, hostPort: 80 }] }), ["hostPorts"], ["hostPorts"]],
  ["SYS_ADMIN added", withContainer({ capabilities: { drop: ["ALL"], add: ["SYS_ADMIN"] } }), ["capabilities_baseline"], ["capabilities_restricted"]],
  ["CHOWN added", withContainer({ capabilities: { drop: ["ALL"], add: ["CHOWN"] } }), [], ["capabilities_restricted"]],
  ["NET_BIND_SERVICE added", withContainer({ capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] } }), [], []],
  ["capabilities not dropped", withContainer({ capabilities: {} }), [], ["capabilities_restricted"]],
  ["privilege escalation unset", withContainer({ allowPrivilegeEscalation: undefined }), [], ["allowPrivilegeEscalation"]],
  ["privilege escalation allowed", withContainer({ allowPrivilegeEscalation: true }), [], ["allowPrivilegeEscalation"]],
  ["root user on the pod", { ...RESTRICTED_POD, securityContext: { ...RESTRICTED_POD.securityContext, runAsUser: 0 } }, [], ["runAsUser"]],
  ["root user on a container", withContainer({ runAsUser: 0 }), [], ["runAsUser"]],
  ["runAsNonRoot false on a container", withContainer({ runAsNonRoot: false }), [], ["runAsNonRoot"]],
  ["runAsNonRoot nowhere", { ...RESTRICTED_POD, securityContext: { seccompProfile: { type: "RuntimeDefault" } } }, [], ["runAsNonRoot"]],
  [
    "seccomp Unconfined on a container",
    withContainer({ seccompProfile: { type: "Unconfined" } }),
    ["seccompProfile_baseline"],
    ["seccompProfile_restricted"],
  ],
  ["seccomp nowhere", { ...RESTRICTED_POD, securityContext: { runAsNonRoot: true } }, [], ["seccompProfile_restricted"]],
  ["/proc unmasked", withContainer({ procMount: "Unmasked" }), ["procMount"], ["procMount"]],
  ["SELinux custom type", withContainer({ seLinuxOptions: { type: "spc_t" } }), ["seLinuxOptions"], ["seLinuxOptions"]],
  ["AppArmor unconfined", withContainer({ appArmorProfile: { type: "Unconfined" } }), ["appArmorProfile"], ["appArmorProfile"]],
  [
    "unsafe sysctl",
    { ...RESTRICTED_POD, securityContext: { ...RESTRICTED_POD.securityContext, sysctls: [{ name: "kernel.msgmax", value: "1" }] } },
    ["sysctls"],
    ["sysctls"],
  ],
  ["Windows host process", withContainer({ windowsOptions: { hostProcess: true } }), ["windowsHostProcess"], ["windowsHostProcess"]],
  [
    "a probe naming a host (1.34)",
    withContainer({}, { livenessProbe: { httpGet: { host: "10.0.0.1", port: 80 } } }),
    ["hostProbesAndHostLifecycle"],
    ["hostProbesAndHostLifecycle"],
  ],
  [
    "an init container without the settings",
    { ...RESTRICTED_POD, initContainers: [{ name: "init", image: "x" }] },
    [],
    ["allowPrivilegeEscalation", "capabilities_restricted"],
  ],
];

/** Random pods over the fields the standards look at, each from a few values that matter. */
function podArbitrary(): fc.Arbitrary<Json> {
  const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
  const seccomp = opt(
    fc
      .constantFrom("RuntimeDefault", "Localhost", "Unconfined")
      .map((type) => (type === "Localhost" ? { type, localhostProfile: "p.json" } : { type })),
  );
  const securityContext = fc.record(
    {
      allowPrivilegeEscalation: opt(fc.boolean()),
      privileged: opt(fc.boolean()),
      runAsNonRoot: opt(fc.boolean()),
      runAsUser: opt(fc.constantFrom(0, 1000)),
      seccompProfile: seccomp,
      capabilities: opt(
        fc.record(
          { drop: opt(fc.subarray(["ALL", "NET_RAW"])), add: opt(fc.subarray(["NET_BIND_SERVICE", "CHOWN", "SYS_ADMIN"])) },
          { requiredKeys: [] },
        ),
      ),
      procMount: opt(fc.constantFrom("Default", "Unmasked")),
      appArmorProfile: opt(fc.constantFrom("RuntimeDefault", "Unconfined").map((type) => ({ type }))),
      seLinuxOptions: opt(fc.constantFrom("container_t", "spc_t").map((type) => ({ type }))),
    },
    { requiredKeys: [] },
  );
  const container = (name: string) =>
    fc.record(
      {
        name: fc.constant(name),
        image: fc.constant("example"),
        securityContext: opt(securityContext),
        ports: opt(fc.constant([{ containerPort: 80, hostPort: 8080 }])),
      },
      { requiredKeys: ["name", "image"] },
    );
  const podSecurityContext = fc.record(
    {
      runAsNonRoot: opt(fc.boolean()),
      runAsUser: opt(fc.constantFrom(0, 1000)),
      seccompProfile: seccomp,
      sysctls: opt(fc.constantFrom([{ name: "net.ipv4.tcp_syncookies", value: "1" }], [{ name: "kernel.msgmax", value: "1" }])),
    },
    { requiredKeys: [] },
  );
  const volume = fc.constantFrom(
    { name: "e", emptyDir: {} },
    { name: "h", hostPath: { path: "/x" } },
    { name: "s", secret: { secretName: "s" } },
    { name: "n", nfs: { server: "s", path: "/" } },
  );
  return fc.record(
    {
      securityContext: opt(podSecurityContext),
      hostNetwork: opt(fc.boolean()),
      hostIPC: opt(fc.boolean()),
      initContainers: opt(fc.tuple(container("init")).map((c) => [...c])),
      containers: fc.tuple(container("wait"), container("main")).map((c) => [...c]),
      volumes: opt(fc.uniqueArray(volume, { maxLength: 3, selector: (v) => v.name })),
    },
    { requiredKeys: ["containers"] },
  );
}

/** A restricted pod with at most two of the hand-written cases' changes: pods near the line, on both sides of it. */
function nearRestrictedArbitrary(cases: readonly Json[]): fc.Arbitrary<Json> {
  return fc.subarray([...cases], { maxLength: 2 }).map((changes) => {
    let pod: Json = RESTRICTED_POD;
    for (const change of changes) {
      pod = {
        ...pod,
        ...change,
        securityContext: { ...pod.securityContext, ...change.securityContext },
        containers: [...pod.containers.filter((c: Json) => c.name !== "main"), ...change.containers],
      };
    }
    return pod;
  });
}

describe("our checker agrees with the admission controller's own checks (k8s.io/pod-security-admission)", () => {
  beforeAll(async () => {
    await ensureArgoLint();
  }, ARGO_LINT_BUILD_TIMEOUT_MS);

  it("on the hand-written pods", async () => {
    const pods = [RESTRICTED_POD, withContainer({ privileged: true }), withContainer({ runAsUser: 0, capabilities: {} })];
    const verdicts = await upstreamPodSecurity(pods);
    pods.forEach((pod, i) => {
      for (const level of ["baseline", "restricted"] as const) {
        expect(verdicts[i]![level].failures.map((f) => f.check).sort(), `${level} ${JSON.stringify(pod)}`).toEqual(failedChecks(pod, level));
      }
    });
  });

  it("on 400 random pods, check by check", async () => {
    // The tool's admission code is policy 1.33 (see tools/argo-lint/README.md): the 1.34 control is checked above only.
    const near = nearRestrictedArbitrary(cases.filter(([name]) => !name.includes("(1.34)")).map(([, pod]) => pod));
    const pods = [...fc.sample(podArbitrary(), { numRuns: 300 }), ...fc.sample(near, { numRuns: 100 })];
    const verdicts = await upstreamPodSecurity(pods);
    let restrictedSeen = 0;
    pods.forEach((pod, i) => {
      const upstream = verdicts[i]!;
      expect(upstream.error, "the tool's per-check run disagrees with the admission's evaluator").toBeUndefined();
      for (const level of ["baseline", "restricted"] as const) {
        expect(failedChecks(pod, level), `${level}: ${JSON.stringify(pod)}`).toEqual(upstream[level].failures.map((f) => f.check).sort());
        expect(upstream[level].allowed).toBe(upstream[level].failures.length === 0);
      }
      if (upstream.restricted.allowed) restrictedSeen++;
    });
    // The sample holds both kinds of pod, or agreement would prove little.
    expect(restrictedSeen).toBeGreaterThan(0);
    expect(restrictedSeen).toBeLessThan(pods.length);
  });
});
