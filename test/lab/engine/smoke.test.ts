/**
 * Infrastructure checks of the lab's Dagger engine, through the TypeScript SDK as packline uses it: images resolve
 * through the mirror (unchanged names), containers run, a registry:3 service with crane and import_ works (packline's
 * engine-registry pattern), containers reach the lab address, and the engine's log is there to read.
 */

import { randomBytes } from "node:crypto";
import { dag } from "@dagger.io/dagger";
import { describe, expect, it } from "vitest";
import { engine, engineLog, IMAGES_REGISTRY, LAB_ADDR, withEngine } from "./engine.js";

describe("the lab's Dagger engine", () => {
  it("runs a container from busybox (docker.io, mirrored to the lab's images registry)", async () => {
    const out = await withEngine(() => dag.container().from("busybox").withExec(["sh", "-c", "echo hello from $(uname -s)"]).stdout());
    expect(out).toBe("hello from Linux\n");
  });

  it("reports a missing image as not found, quickly", async () => {
    const started = Date.now();
    const err = await withEngine(() => dag.container().from("library/packline-no-such-image:1").sync()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(String(err)).toMatch(/not found/);
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it("serves registry:3 as a service; crane copies into it and pulls back by digest; import_ gives a Container", async () => {
    const result = await withEngine(async () => {
      const registry = dag
        .container()
        .from("registry:3")
        .withMountedCache("/var/lib/registry", dag.cacheVolume(`smoke-registry-${Date.now()}`))
        .withExposedPort(5000)
        .asService();
      const crane = dag.container().from("gcr.io/go-containerregistry/crane:v0.20.6").withServiceBinding("registry", registry);
      const copied = crane.withExec([
        "/ko-app/crane",
        "copy",
        "--insecure",
        `${IMAGES_REGISTRY}/library/busybox:latest`,
        "registry:5000/smoke/busybox:1",
      ]);
      const digest = (await copied.withExec(["/ko-app/crane", "digest", "--insecure", "registry:5000/smoke/busybox:1"]).stdout()).trim();
      const tarball = copied
        .withExec(["/ko-app/crane", "pull", "--insecure", `registry:5000/smoke/busybox@${digest}`, "/image.tar"])
        .file("/image.tar");
      const out = await dag.container().import_(tarball).withExec(["busybox", "echo", "imported"]).stdout();
      return { digest, out };
    });
    expect(result.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(result.out).toBe("imported\n");
  });

  it("lets containers reach the lab address (the images registry's /v2/) through their gateway", async () => {
    const out = await withEngine(() =>
      dag
        .container()
        .from("busybox")
        .withEnvVariable("NOW", String(Date.now())) // never an answer from the engine's cache
        .withExec(["wget", "-q", "-O", "-", `http://${IMAGES_REGISTRY}/v2/`])
        .stdout(),
    );
    expect(out.trim()).toBe("{}");
    expect(LAB_ADDR).toBe("10.123.0.1");
  });

  it("keeps a secret out of container output and out of its own log", async () => {
    const secret = `lab-secret-${randomBytes(12).toString("hex")}`;
    const out = await withEngine(() =>
      dag
        .container()
        .from("busybox")
        .withSecretVariable("TOKEN", dag.setSecret(`smoke-${Date.now()}`, secret))
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, not a template
        .withExec(["sh", "-c", 'echo "token=$TOKEN"; echo "length=${#TOKEN}"'])
        .stdout(),
    );
    expect(out).toContain(`length=${secret.length}`);
    expect(out).not.toContain(secret);
    if (engine().mode === "started") expect(engineLog()).not.toContain(secret);
  });

  it("keeps a log of the engine's own (the suite reads it for secrets)", () => {
    const e = engine();
    if (e.mode === "external") return; // an engine given by the caller has no log of ours
    expect(engineLog()).toMatch(/starting dagger engine version/);
  });
});
