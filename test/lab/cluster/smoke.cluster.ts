/**
 * The cluster itself, before any packline workflow: the real Argo controller runs a WorkflowTemplate submitted with
 * `argo submit --from ... --wait`, passes outputs between steps and to the Workflow's status, gets a claim bound by
 * the default StorageClass, and its pods reach the lab's registries and git server at 10.123.0.1. PodSecurity
 * admission (built into the API server) refuses a root pod in a namespace that enforces `restricted`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readLab } from "../lab.js";
import {
  apply,
  argo,
  claims,
  clusterInfo,
  createNamespace,
  deleteNamespace,
  describeWorkflow,
  getJson,
  type KubeList,
  type KubeObject,
  kubectl,
  node,
  submit,
  uniqueName,
  waitFor,
} from "./cluster.js";

/** The lab's busybox and git images, by their upstream names: the node's containerd mirrors them from the lab. */
const BUSYBOX = "docker.io/library/busybox:latest";
const GIT = () => readLab().images.git.upstream;

/** Two steps sharing a claim from a volumeClaimTemplate; the first one's output goes to the second and globally. */
function smokeTemplate(name: string): object {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "WorkflowTemplate",
    metadata: { name },
    spec: {
      entrypoint: "main",
      arguments: { parameters: [{ name: "who", value: "world" }] },
      volumeClaimTemplates: [{ metadata: { name: "work" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "64Mi" } } } }],
      templates: [
        {
          name: "main",
          steps: [
            [{ name: "write", template: "write" }],
            [{ name: "read", template: "read", arguments: { parameters: [{ name: "got", value: "{{steps.write.outputs.parameters.out}}" }] } }],
          ],
        },
        {
          name: "write",
          outputs: { parameters: [{ name: "out", valueFrom: { path: "/work/out.txt" }, globalName: "greeting" }] },
          container: {
            image: BUSYBOX,
            command: ["sh", "-c"],
            args: ["echo 'hello {{workflow.parameters.who}}' > /work/out.txt"],
            volumeMounts: [{ name: "work", mountPath: "/work" }],
          },
        },
        {
          name: "read",
          inputs: { parameters: [{ name: "got" }] },
          outputs: { parameters: [{ name: "both", valueFrom: { path: "/tmp/both.txt" }, globalName: "both" }] },
          container: {
            image: BUSYBOX,
            command: ["sh", "-c"],
            // the claim still holds what the first pod wrote
            args: ["printf '%s|%s' \"$(cat /work/out.txt)\" '{{inputs.parameters.got}}' > /tmp/both.txt"],
            volumeMounts: [{ name: "work", mountPath: "/work" }],
          },
        },
      ],
    },
  };
}

describe("the lab's Kubernetes and Argo", () => {
  const ns = uniqueName("smoke");

  beforeAll(async () => {
    await createNamespace(ns);
  });
  afterAll(async () => {
    await deleteNamespace(ns, false);
  });

  it("runs the versions it says", async () => {
    const info = clusterInfo();
    const version = JSON.parse((await kubectl(["version", "-o", "json"])).stdout);
    expect(version.serverVersion.gitVersion).toBe(info.kubernetesVersion);
    const nodes = await getJson<KubeList<KubeObject & { status: { nodeInfo: { kubeletVersion: string } } }>>(["nodes"]);
    expect(nodes.items.map((n) => n.status.nodeInfo.kubeletVersion)).toEqual([info.kubernetesVersion]);
    const image = (
      await kubectl([
        "-n",
        info.argoNamespace,
        "get",
        "deployment",
        "workflow-controller",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
      ])
    ).stdout;
    expect(image).toBe(`quay.io/argoproj/workflow-controller:${info.argoVersion}`);
    const cli = (await argo(["version", "--short"])).stdout;
    expect(cli).toContain(info.argoVersion);
  });

  it("submits a WorkflowTemplate with argo submit --from --wait: Succeeded, outputs passed and global", async () => {
    await apply(smokeTemplate("smoke"), ns);
    const r = await submit({ namespace: ns, from: "workflowtemplate/smoke", params: { who: "lab" }, argoWait: true, timeoutMs: 180_000 });
    expect(r.phase, describeWorkflow(r)).toBe("Succeeded");
    expect(node(r, "write").outputs.out).toBe("hello lab");
    expect(node(r, "read").outputs.both).toBe("hello lab|hello lab");
    expect(r.outputs).toEqual({ greeting: "hello lab", both: "hello lab|hello lab" });
    // the volumeClaimTemplate's claim was provisioned by the default class, and Argo deletes it after a success
    await waitFor(
      "the workflow's claim to be deleted",
      async () => {
        const left = (await claims(ns)).filter((c) => c.owners.includes(`Workflow/${r.name}`) && !c.deleting);
        return left.length === 0 ? true : undefined;
      },
      60_000,
    );
  });

  it("binds a claim through the default StorageClass", async () => {
    const info = clusterInfo();
    const classes = await getJson<KubeList<KubeObject>>(["storageclass"]);
    const defaults = classes.items.filter((c) => c.metadata.annotations?.["storageclass.kubernetes.io/is-default-class"] === "true");
    expect(defaults.map((c) => c.metadata.name)).toEqual([info.storageClass]);
    await apply(
      [
        {
          apiVersion: "v1",
          kind: "PersistentVolumeClaim",
          metadata: { name: "data" },
          spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "16Mi" } } },
        },
        {
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "use-data" },
          spec: {
            restartPolicy: "Never",
            containers: [
              {
                name: "c",
                image: BUSYBOX,
                command: ["sh", "-c", "echo kept > /data/f && cat /data/f"],
                volumeMounts: [{ name: "d", mountPath: "/data" }],
              },
            ],
            volumes: [{ name: "d", persistentVolumeClaim: { claimName: "data" } }],
          },
        },
      ],
      ns,
    );
    await waitFor(
      "pod use-data to succeed",
      async () => {
        const phase = (await kubectl(["-n", ns, "get", "pod", "use-data", "-o", "jsonpath={.status.phase}"])).stdout;
        if (phase === "Failed") throw new Error("pod use-data failed");
        return phase === "Succeeded" ? true : undefined;
      },
      120_000,
    );
    const [claim] = (await claims(ns)).filter((c) => c.name === "data");
    expect(claim?.phase).toBe("Bound");
    expect(claim?.storageClass).toBe(info.storageClass);
    expect((await kubectl(["-n", ns, "logs", "use-data"])).stdout.trim()).toBe("kept");
  });

  it("lets pods reach the lab's registries and git server at 10.123.0.1", async () => {
    const info = clusterInfo();
    const fixture = readLab().git.repos.fixture;
    const wf = {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Workflow",
      metadata: { generateName: "reach-" },
      spec: {
        entrypoint: "main",
        templates: [
          {
            name: "main",
            steps: [
              [
                { name: "registries", template: "registries" },
                { name: "git", template: "git" },
              ],
            ],
          },
          {
            name: "registries",
            outputs: {
              parameters: [
                { name: "images", valueFrom: { path: "/tmp/images" } },
                { name: "apps", valueFrom: { path: "/tmp/apps" } },
              ],
            },
            container: {
              image: BUSYBOX,
              command: ["sh", "-c"],
              // The images registry answers /v2/ anonymously; the apps registry asks for credentials (401, which
              // busybox's wget reports on stderr with -S and an exit status 1).
              args: [
                `wget -q -O /tmp/images http://${info.imagesRegistry}/v2/ && ` +
                  `{ wget -S -O /dev/null http://${info.appsRegistry}/v2/ 2>&1 || true; } | grep -m1 'HTTP/' > /tmp/apps`,
              ],
            },
          },
          {
            name: "git",
            outputs: { parameters: [{ name: "refs", valueFrom: { path: "/tmp/refs" } }] },
            // the lab's git image, through the docker.io mirror: smart HTTP against the lab's git server
            container: { image: GIT(), command: ["sh", "-c"], args: [`git ls-remote ${fixture.url} > /tmp/refs`] },
          },
        ],
      },
    };
    const r = await submit({ namespace: ns, manifest: wf, timeoutMs: 120_000 });
    expect(r.phase, describeWorkflow(r)).toBe("Succeeded");
    expect(node(r, "registries").outputs.images).toBe("{}");
    expect(node(r, "registries").outputs.apps).toMatch(/HTTP\/1\.[01] 401/);
    expect(node(r, "git").outputs.refs).toContain(`${fixture.commit}\trefs/tags/${fixture.tag}^{}`);
  });

  it("enforces the restricted Pod Security Standard where a namespace asks for it", async () => {
    const restricted = await createNamespace(uniqueName("restricted"), { restricted: true });
    try {
      const pod = {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "root" },
        spec: { containers: [{ name: "c", image: BUSYBOX, command: ["true"] }] },
      };
      const refused = await kubectl(["-n", restricted, "create", "-f", "-"], { input: JSON.stringify(pod), allowFailure: true });
      expect(refused.exitCode).not.toBe(0);
      expect(refused.stderr).toMatch(/violates PodSecurity "restricted:latest"/);
      const compliant = {
        ...pod,
        metadata: { name: "nonroot" },
        spec: {
          securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } },
          containers: [
            { name: "c", image: BUSYBOX, command: ["true"], securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } } },
          ],
        },
      };
      await kubectl(["-n", restricted, "create", "-f", "-"], { input: JSON.stringify(compliant) });
    } finally {
      await deleteNamespace(restricted, false);
    }
  });
});
