/**
 * packline's exported workflows on the real Argo controller (issue 13): the YAML `packline argo` writes, applied with
 * kubectl and submitted with the argo CLI, builds the lab's fixture app with the lab's test builder and publishes to
 * the lab's apps registry. Each test has its own namespace and image repository (packline.ts).
 *
 * Logs of successful pods are gone once Argo's pod GC deletes them, so tests that read a successful step's log render
 * with `--pod-gc none`.
 */
import { describe, type ExpectStatic, it } from "vitest";
import { claims, createClaim, deleteNamespace, describeWorkflow, node, submit, type WorkflowResult } from "./cluster.js";
import {
  allTags,
  attempts,
  buildSpace,
  gitSecret,
  labOptions,
  objects,
  packlineArgo,
  published,
  publishedDigest,
  renderAndApply,
  submitTemplate,
} from "./packline.js";

const BUILD_TIMEOUT = 10 * 60_000;

function expectSucceeded(expect: ExpectStatic, r: WorkflowResult): void {
  expect(r.phase, describeWorkflow(r)).toBe("Succeeded");
}

// Concurrent: each test has its own namespace and repository, and a build spends most of its minute waiting for the
// controller's next look at it; one at a time, the file takes four times as long.
describe.concurrent("packline argo on the real controller", () => {
  it(
    "WorkflowTemplate: submit --from -p tag=v1.0.0 --wait Succeeds; the digest output is the registry's",
    async ({ expect }) => {
      const space = await buildSpace("tmpl");
      try {
        const [template] = await renderAndApply(space);
        const r = await submitTemplate(space, template!, { tag: "v1.0.0" }, { argoWait: true });
        expectSucceeded(expect, r);
        expect(await published(space)).toEqual(["1.0.0"]);
        // besides the version's tags: the staging tag and the check's claim on the version (README, "Two builds of one version")
        expect((await allTags(space)).sort()).toEqual(["1.0.0", "packline-claim-1.0.0", "packline-staging"]);
        const digest = await publishedDigest(space, "1.0.0");
        expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
        // the Workflow's own outputs (status.outputs), where Argo CD or a script reads them
        expect(r.outputs.digest).toBe(digest);
      } finally {
        await deleteNamespace(space.namespace, false);
      }
    },
    BUILD_TIMEOUT,
  );

  it(
    "publishes the tags each version promises: release, 0.x and prerelease, from one template",
    async ({ expect }) => {
      const space = await buildSpace("versions");
      try {
        const [template] = await renderAndApply(space, ["--floating-tags", "--latest"]);
        const ref = space.lab.git.repos.fixture.tag;
        // one after the other: each run's tags are read from the same repository
        const release = await submitTemplate(space, template!, { tag: "v1.0.0" });
        expectSucceeded(expect, release);
        expect(await published(space)).toEqual(["1", "1.0", "1.0.0", "latest"]);
        const zero = await submitTemplate(space, template!, { tag: "0.4.2", ref });
        expectSucceeded(expect, zero);
        expect(await published(space)).toEqual(["0.4", "0.4.2", "1", "1.0", "1.0.0", "latest"]);
        const pre = await submitTemplate(space, template!, { tag: "1.1.0-rc.1", ref });
        expectSucceeded(expect, pre);
        expect(await published(space)).toEqual(["0.4", "0.4.2", "1", "1.0", "1.0.0", "1.1.0-rc.1", "latest"]);
        for (const [r, tag] of [
          [release, "1.0.0"],
          [zero, "0.4.2"],
          [pre, "1.1.0-rc.1"],
        ] as const) {
          expect(r.outputs.digest, `digest of ${tag}`).toBe(await publishedDigest(space, tag));
        }
      } finally {
        await deleteNamespace(space.namespace, false);
      }
    },
    3 * BUILD_TIMEOUT,
  );

  it(
    "--kind workflow with --tag, submitted directly, Succeeds the same way",
    async ({ expect }) => {
      const space = await buildSpace("kind-wf");
      try {
        const yaml = await packlineArgo(labOptions(space, ["--kind", "workflow", "--tag", "v1.0.0"]));
        const [wf] = objects(yaml);
        expect(wf?.kind).toBe("Workflow");
        const r = await submit({ namespace: space.namespace, manifest: yaml, timeoutMs: BUILD_TIMEOUT });
        expectSucceeded(expect, r);
        expect(await published(space)).toEqual(["1.0.0"]);
        expect(r.outputs.digest).toBe(await publishedDigest(space, "1.0.0"));
      } finally {
        await deleteNamespace(space.namespace, false);
      }
    },
    BUILD_TIMEOUT,
  );

  it(
    "a bad version at submit time fails in the version step with packline's message, once, and publishes nothing",
    async ({ expect }) => {
      const space = await buildSpace("badver");
      try {
        const [template] = await renderAndApply(space);
        const r = await submitTemplate(space, template!, { tag: "1.0" });
        expect(r.phase, describeWorkflow(r)).toBe("Failed");
        expect(r.logs).toContain('packline: tag "1.0" is not a semantic version');
        // a bad version is permanent: no retry; it fails in the first pod's first container, before the builder is
        // pulled, and no build pod is made
        expect(attempts(r, "builder-user"), describeWorkflow(r)).toBe(1);
        expect(attempts(r, "build"), describeWorkflow(r)).toBe(0);
        expect(await published(space)).toEqual([]);
        // and the failed run keeps no volume claim (issue 13, 4)
        expect((await claims(space.namespace)).filter((c) => !c.deleting)).toEqual([]);
      } finally {
        await deleteNamespace(space.namespace, false);
      }
    },
    BUILD_TIMEOUT,
  );

  it(
    "a wrong registry secret fails with a message naming the registry, without retries",
    async ({ expect }) => {
      const space = await buildSpace("badauth", { registryPassword: "not-the-password" });
      try {
        const [template] = await renderAndApply(space);
        const r = await submitTemplate(space, template!, { tag: "v1.0.0" });
        expect(r.phase, describeWorkflow(r)).toBe("Failed");
        expect(r.logs).toContain(`registry ${space.lab.registries.apps.address} refused the credentials`);
        const failed = r.nodes.filter((n) => n.type === "Pod" && n.phase === "Failed");
        expect(failed.length, describeWorkflow(r)).toBe(1);
        expect(await published(space)).toEqual([]);
      } finally {
        await deleteNamespace(space.namespace, false);
      }
    },
    BUILD_TIMEOUT,
  );

  it(
    "--git-secret clones a repository that needs a token",
    async ({ expect }) => {
      const space = await buildSpace("gitsecret");
      try {
        const secret = await gitSecret(space);
        const [template] = await renderAndApply(space, ["--git-secret", secret], space.lab.git.repos.fixturePrivate.url);
        const r = await submitTemplate(space, template!, { tag: "v1.0.0" });
        expectSucceeded(expect, r);
        expect(await published(space)).toEqual(["1.0.0"]);
      } finally {
        await deleteNamespace(space.namespace, false);
      }
    },
    BUILD_TIMEOUT,
  );

  it(
    "--cache-pvc: the second build reuses the first one's cache",
    async ({ expect }) => {
      const space = await buildSpace("cache");
      try {
        // the claim the user makes; the default StorageClass binds it at the first build
        await createClaim(space.namespace, "buildpacks-cache", "256Mi");
        const [template] = await renderAndApply(space, ["--cache-pvc", "buildpacks-cache", "--pod-gc", "none"]);
        const first = await submitTemplate(space, template!, { tag: "v1.0.0" });
        expectSucceeded(expect, first);
        expect(first.logs).toContain("---> cache: no stamp layer yet");
        const second = await submitTemplate(space, template!, { tag: "1.0.1", ref: space.lab.git.repos.fixture.tag });
        expectSucceeded(expect, second);
        expect(second.logs).toContain("---> cache: reusing the stamp layer (builds before this one: 1)");
      } finally {
        await deleteNamespace(space.namespace, false);
      }
    },
    2 * BUILD_TIMEOUT,
  );

  it(
    "in a namespace that enforces the restricted Pod Security Standard, the default workflow Succeeds",
    async ({ expect }) => {
      const space = await buildSpace("restricted", { restricted: true });
      try {
        const [template] = await renderAndApply(space);
        const r = await submitTemplate(space, template!, { tag: "v1.0.0" });
        expectSucceeded(expect, r);
        expect(await published(space)).toEqual(["1.0.0"]);
      } finally {
        await deleteNamespace(space.namespace, false);
      }
    },
    BUILD_TIMEOUT,
  );

  it(
    "--env values with {{ }}, $(...), quotes and unicode reach the build unchanged through the controller",
    async ({ expect }) => {
      const space = await buildSpace("env");
      const value = `{{workflow.name}} {{inputs.parameters.tag}} $(id -u) \`uname\` "double" 'single' \\ ünïcødé ✓`;
      try {
        const [template] = await renderAndApply(space, ["--env", `GREETING=${value}`, "--pod-gc", "none"]);
        const r = await submitTemplate(space, template!, { tag: "v1.0.0" });
        expectSucceeded(expect, r);
        expect(r.logs).toContain(`---> build-time env GREETING=${value}\n`);
      } finally {
        await deleteNamespace(space.namespace, false);
      }
    },
    BUILD_TIMEOUT,
  );

  it(
    "is callable from a user's own workflow (templateRef) that uses the digest",
    async ({ expect }) => {
      const space = await buildSpace("caller");
      try {
        const [template] = await renderAndApply(space);
        const caller = {
          apiVersion: "argoproj.io/v1alpha1",
          kind: "Workflow",
          metadata: { generateName: "caller-" },
          spec: {
            entrypoint: "main",
            templates: [
              {
                name: "main",
                steps: [
                  [
                    {
                      name: "build",
                      templateRef: { name: template!.metadata.name, template: "main" },
                      arguments: { parameters: [{ name: "tag", value: "v1.0.0" }] },
                    },
                  ],
                  [
                    {
                      name: "use",
                      template: "use",
                      arguments: { parameters: [{ name: "digest", value: "{{steps.build.outputs.parameters.digest}}" }] },
                    },
                  ],
                ],
              },
              {
                name: "use",
                inputs: { parameters: [{ name: "digest" }] },
                outputs: { parameters: [{ name: "seen", valueFrom: { path: "/tmp/seen" } }] },
                container: {
                  image: "docker.io/library/busybox:latest",
                  command: ["sh", "-c"],
                  args: ["printf %s '{{inputs.parameters.digest}}' > /tmp/seen"],
                },
              },
            ],
          },
        };
        const r = await submit({ namespace: space.namespace, manifest: caller, timeoutMs: BUILD_TIMEOUT });
        expectSucceeded(expect, r);
        expect(node(r, "use").outputs.seen).toBe(await publishedDigest(space, "1.0.0"));
      } finally {
        await deleteNamespace(space.namespace, false);
      }
    },
    BUILD_TIMEOUT,
  );
});
