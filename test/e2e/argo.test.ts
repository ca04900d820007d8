/**
 * The exported Argo build pod, run in Docker the way a kubelet runs it under the restricted pod standard: the
 * template's volumes, its init containers in order (the source container checking the version, cloning the lab
 * fixture's commit and writing the plan's files, the check, the creator), then its main container, the release; the build's containers as
 * the builder's CNB user (read by the `builder-user` pod), the helper images' as their nonroot user, all without
 * capabilities or privilege escalation. The creator pushes the same image as the plan's own build step of the same
 * files: the cluster path equals the local path.
 */
import { chmodSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { docker, e2eState, podContainerArgs, registryClient, removeTree, uniqueRepository } from "./harness.js";
import { exportFor, GREETING, planFor, registryAuthSecret, runArgoBuildPod, runBuildStep } from "./packline.js";

type Obj = Record<string, any>;

/** Runs a one-container template the way Argo would (as its pod's user, restricted), returning its output files. */
async function runTemplate(yaml: string, name: string, env: Record<string, string>): Promise<Record<string, string>> {
  const template = ((parse(yaml) as Obj).spec.templates as Obj[]).find((t) => t.name === name)!;
  const out = mkdtempSync(join(tmpdir(), `packline-e2e-${name}-`));
  chmodSync(out, 0o777); // written by the template's non-root user
  try {
    const c = template.container as Obj;
    const user = `${template.securityContext.runAsUser}:${template.securityContext.runAsGroup}`;
    const result = await docker(
      [
        "run",
        "--rm",
        ...podContainerArgs(user),
        "--entrypoint",
        c.command[0],
        ...Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
        "--tmpfs",
        "/tmp/packline:uid=65532,gid=65532",
        "-v",
        `${out}:/out`,
        c.image,
        ...c.command.slice(1, -1),
        `${c.command.at(-1)}\ncp -r /tmp/packline/. /out/ 2>/dev/null || true`,
      ],
      { check: false },
    );
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    const outputs: Record<string, string> = {};
    for (const p of (template.outputs?.parameters ?? []) as Obj[])
      outputs[p.name] = readFileSync(join(out, p.valueFrom.path.split("/").pop()), "utf8");
    return outputs;
  } finally {
    removeTree(out);
  }
}

describe("the exported Argo build pod == the plan's build step, under the restricted pod standard", () => {
  const s = e2eState();
  const fixture = s.lab.git.repos.fixture;
  let localDigest: string;

  beforeAll(async () => {
    const local = await runBuildStep(planFor(uniqueRepository("e2e/argo-local")));
    expect(local.run.exitCode, local.run.output).toBe(0);
    localDigest = local.report!.digest;
  });

  for (const kind of ["workflow-template", "workflow"] as const) {
    it(`${kind}: builder-user, then the build pod run as restricted pods and publish the local build's image`, async () => {
      const repository = uniqueRepository(`e2e/argo-${kind}`);
      const yaml = exportFor(repository, kind, { tag: fixture.tag });
      const user = await runTemplate(yaml, "builder-user", {});
      expect(user).toEqual({ uid: String(s.cnbUserId), gid: String(s.cnbGroupId) });

      const run = await runArgoBuildPod(
        yaml,
        {
          "inputs.parameters.tag": fixture.tag,
          "inputs.parameters.ref": "",
          "inputs.parameters.uid": user.uid!,
          "inputs.parameters.gid": user.gid!,
        },
        { secrets: { regcred: { ".dockerconfigjson": registryAuthSecret() } } },
      );
      try {
        expect(run.exitCode, run.output).toBe(0);
        // source, check, build, release
        expect(run.argvs).toHaveLength(4);
        for (const [i, argv] of run.argvs.entries()) {
          const builderUser = i === 0 || i === 2;
          expect(argv).toEqual(
            expect.arrayContaining([
              "--user",
              builderUser ? `${s.cnbUserId}:${s.cnbGroupId}` : "65532:65532",
              "--cap-drop",
              "ALL",
              "--security-opt",
              "no-new-privileges",
            ]),
          );
        }
        const version = fixture.tag.replace(/^v/, "");
        expect(run.output).toContain(`${fixture.tag} is commit ${fixture.commit}`);
        expect(run.output).toContain(`cloned ${fixture.url} at ${fixture.tag} (${fixture.commit})`);
        expect(run.output).toContain(`---> build-time env GREETING=${GREETING}`);
        expect(run.report!.tags).toEqual([`${s.registry}/${repository}:packline-staging`]);
        expect(run.report!.digest).toBe(localDigest);
        expect(await registryClient().manifestDigest(repository, "packline-staging")).toBe(localDigest);
        // the release, the pod's main container, tagged the version: its digest is the pod's output
        const published = await registryClient().manifestDigest(repository, version);
        expect(run.outputs.digest).toBe(published);
        expect(run.outputs.version).toBe(version);
        expect(run.outputs.revision).toBe(fixture.commit);
        expect(run.outputs.tags.split(" ")).toContain(version);
      } finally {
        run.cleanup();
      }
    });
  }

  it("a version the rule refuses stops in the version check with packline's message", async () => {
    const yaml = exportFor(uniqueRepository("e2e/argo-bad"), "workflow-template");
    const template = ((parse(yaml) as Obj).spec.templates as Obj[]).find((t) => t.name === "builder-user")!;
    // the builder-user pod's first container: the version check, before the builder image is pulled
    const version = template.initContainers[0];
    expect(version.name).toBe("version");
    const result = await docker(
      [
        "run",
        "--rm",
        "--network",
        "host",
        "--user",
        "65532:65532",
        "--entrypoint",
        "sh",
        "-e",
        "PACKLINE_TAG=1.0",
        "--tmpfs",
        "/tmp/packline:uid=65532",
        version.image,
        "-c",
        version.command[2].replace(/\$\$/g, "$"),
      ],
      { check: false },
    );
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('packline: tag "1.0" is not a semantic version');
  });
});
