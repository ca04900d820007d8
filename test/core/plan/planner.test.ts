import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RawInput } from "../../../src/core/options/input.js";
import { validateArgo, validateBuild } from "../../../src/core/options/validate.js";
import { LIFECYCLE_TRANSIENT_EXIT_CODES } from "../../../src/core/plan/creator.js";
import { PIN_LABELS } from "../../../src/core/plan/pin.js";
import {
  type BuildPlan,
  type ContainerStep,
  HOST_REGISTRY_ALIAS,
  PATHS,
  type PlanText,
  planBuild,
  STAGING_TAG,
} from "../../../src/core/plan/planner.js";
import { BUILD_INPUTS_LABEL, CLAIM_SECONDS, EXIT, OUT } from "../../../src/core/plan/scripts.js";
import { latesOf } from "../../../src/core/plan/text.js";
import { packlineError } from "../../support/errors.js";

const plan = (raw: RawInput = {}) => planBuild(validateBuild("build", { tag: "v1.2.3", ...raw }));
const clusterPlan = (raw: RawInput = {}) =>
  planBuild(validateArgo({ repo: "https://github.com/acme/app", image: "registry.example.com/acme/app", registrySecret: "regcred", ...raw }).build);
const env = (step: ContainerStep) => Object.fromEntries(step.env.map((e) => [e.name, e.value]));
const flat = (texts: readonly PlanText[]) => texts.map((t) => t.map((p) => (typeof p === "string" ? p : `<${p.late}>`)).join(""));

describe("tags: the rule, for a known version", () => {
  it.each([
    ["1.2.3", {}, ["1.2.3"], []],
    ["v1.2.3", { floatingTags: true, latest: true }, ["1.2.3", "1.2", "1", "latest"], []],
    ["0.4.2", { floatingTags: true }, ["0.4.2", "0.4"], ['no "0" tag: a 0.x major version promises no compatibility']],
    ["0.4.2", { floatingTags: true, latest: true }, ["0.4.2", "0.4", "latest"], ['no "0" tag: a 0.x major version promises no compatibility']],
    [
      "1.2.3-rc.1",
      { floatingTags: true, latest: true },
      ["1.2.3-rc.1"],
      ["floating tags skipped: a prerelease never moves them", "latest skipped: a prerelease never moves it"],
    ],
  ] as [string, RawInput, string[], string[]][])("%s with %j publishes %j", (tag, raw, tags, notes) => {
    const p = plan({ tag, ...raw });
    expect(p.variants).toHaveLength(1);
    expect(flat(p.variants[0]!.tags)).toEqual(tags);
    expect(p.variants[0]!.notes).toEqual(notes);
    expect(flat(env(p.steps.release).PACKLINE_TAGS ? [env(p.steps.release).PACKLINE_TAGS!] : [])).toEqual([tags.join(" ")]);
  });
});

describe("tags: the rule, for a version given at submit time", () => {
  it("one variant per shape whose tags differ, written over late values (no stand-in version)", () => {
    const p = clusterPlan({ floatingTags: true, latest: true });
    expect(p.variants.map((v) => ({ shapes: v.shapes, tags: flat(v.tags) }))).toEqual([
      { shapes: ["release"], tags: ["<version>", "<major>.<minor>", "<major>", "latest"] },
      { shapes: ["zero"], tags: ["<version>", "<major>.<minor>", "latest"] },
      { shapes: ["prerelease"], tags: ["<version>"] },
    ]);
    expect(flat([env(p.steps.release).PACKLINE_TAGS!])).toEqual(["<tags>"]);
  });

  it("shapes with the same tags share a variant", () => {
    expect(clusterPlan().variants.map((v) => v.shapes)).toEqual([["release", "zero", "prerelease"]]);
    expect(clusterPlan({ latest: true }).variants.map((v) => v.shapes)).toEqual([["release", "zero"], ["prerelease"]]);
  });

  it("the ref defaults to the tag given at submit time; --ref is literal", () => {
    expect(clusterPlan().source).toMatchObject({ kind: "git", ref: [{ late: "tag" }] });
    expect(clusterPlan({ ref: "main" }).source).toMatchObject({ ref: ["main"] });
    expect(plan({ repo: "https://h/a/b" }).source).toMatchObject({ ref: ["v1.2.3"] });
  });
});

describe("the build step: the lifecycle creator as the builder's own user", () => {
  it("exactly these arguments, env, files and mounts", () => {
    const p = plan({
      image: "registry.example.com/acme/app",
      registryUsername: "me",
      registryPassword: true,
      env: ["GREETING=hi there"],
      buildpack: ["acme/bp@1.0.0"],
    });
    const step = p.steps.build;
    // by the digest the check pins (pin.ts); the plan keeps the name the user's CNB user is read from
    expect(step.image).toEqual(["paketobuildpacks/builder-jammy-base@", { late: "builder-digest" }]);
    expect(step.pullAlways).toBeUndefined();
    expect(p.builder).toBe("paketobuildpacks/builder-jammy-base");
    expect(step.user).toEqual({ kind: "build-user" });
    expect(step.privileged).toBe(false);
    expect(flat([...step.command, ...step.args])).toEqual([
      "/bin/sh",
      "-c",
      'umask 0022 && exec /cnb/lifecycle/creator "$@"',
      "creator",
      "-app=/workspace",
      "-layers=/layers",
      "-platform=/platform",
      "-cache-dir=/cache",
      "-order=/platform/order.toml",
      "-report=/layers/report.toml",
      "-log-level=info",
      "-no-color",
      `registry.example.com/acme/app:${STAGING_TAG}`,
    ]);
    expect(env(step)).toEqual({
      CNB_PLATFORM_API: ["0.13"],
      PACKLINE_RUN_ID: [{ late: "run-id" }],
      CNB_RUN_IMAGE: [{ late: "run-image" }],
      DOCKER_CONFIG: [PATHS.dockerConfigDir],
    });
    expect(step.files).toEqual([
      { path: "/platform/env/GREETING", contents: "hi there" },
      { path: "/platform/order.toml", contents: '[[order]]\n[[order.group]]\nid = "acme/bp"\nversion = "1.0.0"\n' },
    ]);
    expect(step.mounts).toEqual([
      { volume: "source", path: "/workspace" },
      { volume: "layers", path: "/layers" },
      { volume: "platform", path: "/platform" },
      { volume: "cache", path: "/cache" },
      { volume: "registry-auth", path: "/packline/docker", readOnly: true },
    ]);
    expect(step.outputs).toEqual([
      { name: "report", path: "/layers/report.toml" },
      { name: "sbom", path: "/layers/sbom", directory: true },
    ]);
    expect(step.transientExitCodes).toEqual([...LIFECYCLE_TRANSIENT_EXIT_CODES]);
  });

  it("volumes: which belong to the build user, and how long they live", () => {
    expect(plan({ image: "r.example.com/a", registryUsername: "me", registryPassword: true }).volumes).toEqual([
      { name: "source", kind: "source", ownedByBuildUser: true },
      { name: "layers", kind: "scratch", ownedByBuildUser: true },
      { name: "platform", kind: "scratch", ownedByBuildUser: false },
      { name: "cache", kind: "cache", key: "packline-buildpacks-cache-r.example.com/a", ownedByBuildUser: true },
      { name: "registry-auth", kind: "secret", secret: { name: "registry-auth" }, file: "config.json" },
    ]);
  });

  it("optional arguments in their places", () => {
    const step = plan({
      image: "r.example.com/a",
      runImage: "r.example.com/run:1",
      cacheImage: "r.example.com/a-cache:build",
      clearCache: true,
      insecureRegistry: ["r.example.com", "mirror.local:5000"],
    }).steps.build;
    expect(flat(step.args)).toEqual([
      "-app=/workspace",
      "-layers=/layers",
      "-platform=/platform",
      "-cache-image=r.example.com/a-cache:build",
      "-skip-restore",
      "-insecure-registry=r.example.com",
      "-insecure-registry=mirror.local:5000",
      "-report=/layers/report.toml",
      "-log-level=info",
      "-no-color",
      `r.example.com/a:${STAGING_TAG}`,
    ]);
    expect(step.mounts.map((m) => m.path)).not.toContain("/cache");
  });

  it("the builder and run image the check pins: by digest, or in a pod by the tag pulled every time and checked again", () => {
    const local = plan({ image: "r.example.com/a", runImage: "r.example.com/run:1", insecureRegistry: ["r.example.com"] });
    expect(env(local.steps.check)).toMatchObject({
      PACKLINE_BUILDER: ["paketobuildpacks/builder-jammy-base"],
      PACKLINE_RUN_IMAGE: ["r.example.com/run:1"],
      PACKLINE_PIN_INSECURE: ["r.example.com"],
    });
    expect(local.steps.check.outputs.filter((o) => o.late)).toEqual([
      { name: "builder-digest", path: `${OUT.dir}/builder-digest`, late: "builder-digest" },
      { name: "run-image", path: `${OUT.dir}/run-image`, late: "run-image" },
      { name: "lifecycle-version", path: `${OUT.dir}/lifecycle-version`, late: "lifecycle-version" },
    ]);
    expect(env(local.steps.release).PACKLINE_RECHECK).toBeUndefined();
    // no empty values (some platforms drop them): the builder's own run image, no plain-HTTP registry
    expect(Object.keys(env(plan().steps.check)).filter((n) => n.startsWith("PACKLINE_RUN_IMAGE") || n.startsWith("PACKLINE_PIN"))).toEqual([]);
    // the build needs the check's pins: it starts after it
    expect(local.overlap.checkBesideBuild).toBe(false);
    // a builder given by digest is run as given
    expect(plan({ builder: `b.example.com/builder@sha256:${"a".repeat(64)}` }).steps.build.image).toEqual([
      `b.example.com/builder@sha256:${"a".repeat(64)}`,
    ]);

    const pod = clusterPlan({ builder: "b.example.com/builder:1" });
    expect(pod.steps.build).toMatchObject({ image: ["b.example.com/builder:1"], pullAlways: true });
    expect(env(pod.steps.release)).toMatchObject({
      PACKLINE_RECHECK: ["builder"],
      PACKLINE_BUILDER: ["b.example.com/builder:1"],
      PACKLINE_BUILDER_DIGEST: [{ late: "builder-digest" }],
    });
    expect(env(clusterPlan({ executor: "pack" }).steps.release).PACKLINE_RECHECK).toEqual(["builder run-image"]);
    const byDigest = clusterPlan({ builder: `b.example.com/builder@sha256:${"a".repeat(64)}` });
    expect(byDigest.steps.build.pullAlways).toBeUndefined();
    expect(env(byDigest.steps.release).PACKLINE_RECHECK).toBeUndefined();
  });

  it.each([
    ["default", undefined],
    ["now", [{ late: "now" }]],
    ["1700000000", ["1700000000"]],
  ] as [string, PlanText | undefined][])("creation time %s -> SOURCE_DATE_EPOCH %j", (creationTime, value) => {
    expect(env(plan({ creationTime }).steps.build).SOURCE_DATE_EPOCH).toEqual(value);
  });

  it("creation time commit is the clone's commit time", () => {
    expect(env(plan({ creationTime: "commit", repo: "https://h/a/b" }).steps.build).SOURCE_DATE_EPOCH).toEqual([{ late: "commit-time" }]);
  });
});

describe("where the image goes", () => {
  it("without --image: the registry inside the engine, named after the repository, overwritten freely", () => {
    const p = plan({ repo: "https://github.com/acme/Web.App.git/" });
    expect(p.image).toEqual({
      name: "registry:5000/web.app",
      address: "registry:5000/web.app",
      registry: "registry:5000",
      target: { kind: "engine-registry", alias: "registry", port: 5000 },
      insecure: true,
    });
    expect(flat(p.steps.build.args)).toContain("-insecure-registry=registry:5000");
    expect(env(p.steps.check).PACKLINE_ALLOW_OVERWRITE).toEqual(["true"]);
    expect(env(p.steps.release).PACKLINE_CLAIM_SECONDS).toEqual(["0"]);
  });

  it("a registry on the user's machine is reached through a tunnel, reported under the user's name", () => {
    const p = plan({ image: "localhost:5000/acme/app", registryUsername: "me", registryPassword: true });
    expect(p.image).toMatchObject({ name: "localhost:5000/acme/app", address: `${HOST_REGISTRY_ALIAS}:5000/acme/app`, insecure: true });
    expect(p.image.target).toEqual({ kind: "host-registry", alias: HOST_REGISTRY_ALIAS, port: 5000, hostPort: 5000 });
    expect(p.registryAuth).toEqual({ kind: "password", registry: `${HOST_REGISTRY_ALIAS}:5000`, username: "me" });
    expect(flat(p.steps.build.args)).toContain(`-insecure-registry=${HOST_REGISTRY_ALIAS}:5000`);
  });

  it("a released version is not overwritten: the check refuses unless --allow-overwrite; the release holds its claim long enough", () => {
    expect(env(plan({ image: "r.example.com/a" }).steps.check).PACKLINE_ALLOW_OVERWRITE).toEqual(["false"]);
    expect(env(plan({ image: "r.example.com/a", allowOverwrite: true }).steps.release).PACKLINE_ALLOW_OVERWRITE).toEqual(["true"]);
    expect(env(plan({ image: "r.example.com/a" }).steps.release).PACKLINE_CLAIM_SECONDS).toEqual([String(CLAIM_SECONDS)]);
    expect(env(plan({ image: "r.example.com/a" }).steps.check).PACKLINE_RUN_ID).toEqual([{ late: "run-id" }]);
  });
});

describe("the registry steps", () => {
  it("run the crane image as a non-root user, retry only what a retry can fix, and write their outputs", () => {
    const p = plan({ image: "r.example.com/a" });
    for (const step of [p.steps.check, p.steps.release]) {
      expect(step.image).toEqual(["ghcr.io/google/go-containerregistry/crane/debug:v0.20.6"]);
      expect(step.user).toEqual({ kind: "tool-user" });
      expect(step.transientExitCodes).toEqual([EXIT.transient]);
    }
    expect(p.steps.check.outputs.map((o) => o.name)).toEqual(["outcome", "digest", "builder-digest", "run-image", "lifecycle-version"]);
    expect(p.steps.release.outputs.map((o) => o.name)).toEqual(["digest"]);
    expect(env(p.steps.release).PACKLINE_BUILD_REPORT).toEqual([{ late: "build-report" }]);
  });

  it("labels: version, revision, source, and the build inputs", () => {
    const p = plan({ repo: "https://github.com/acme/app" });
    expect(p.labels.map((l) => [l.key, flat([l.value])[0]])).toEqual([
      ["org.opencontainers.image.version", "1.2.3"],
      ["org.opencontainers.image.revision", "<commit>"],
      ["org.opencontainers.image.source", "https://github.com/acme/app"],
      [BUILD_INPUTS_LABEL, expect.stringMatching(/^sha256:[0-9a-f]{64}$/)],
      [PIN_LABELS.builder, "paketobuildpacks/builder-jammy-base@<builder-digest>"],
      [PIN_LABELS.runImage, "<run-image>"],
      [PIN_LABELS.lifecycle, "<lifecycle-version>"],
    ]);
    expect(flat([plan().revision])).toEqual(["<source-digest>"]);
    expect(flat([plan({ revision: "abc123" }).revision])).toEqual(["abc123"]);
  });

  it("the build inputs change with what decides the image, and not with the version or the run", () => {
    const inputs = (raw: RawInput) => flat([plan({ image: "r.example.com/a", ...raw }).labels.find((l) => l.key === BUILD_INPUTS_LABEL)!.value])[0];
    const base = inputs({});
    for (const same of [
      { tag: "v9.9.9" },
      { floatingTags: true },
      { image: "r.example.com/elsewhere" },
      { clearCache: true },
      { cacheImage: "r.example.com/c:1" },
      { insecureRegistry: ["r.example.com"] },
    ]) {
      expect(inputs(same), JSON.stringify(same)).toBe(base);
    }
    for (const change of [
      { env: ["A=1"] },
      { builder: "acme/builder:2" },
      { runImage: "acme/run:1" },
      { creationTime: "now" },
      { buildpack: ["a/b@1.0.0"] },
    ]) {
      expect(inputs(change)).not.toBe(base);
    }
  });
});

describe("the build inputs digest what decides the image, not how an option was spelled", () => {
  const inputs = (p: BuildPlan) => flat([p.labels.find((l) => l.key === BUILD_INPUTS_LABEL)!.value])[0];
  const same = { repo: "https://github.com/acme/app", image: "registry.example.com/acme/app" };

  it("--build-user naming the builder's own CNB user gives the label of a build without it, on every executor", () => {
    // The lifecycle runs only as the builder's CNB_USER_ID:CNB_GROUP_ID (its RunAs cannot switch a non-root process to
    // another user), so --build-user changes how the pod is set up, never the user the image was built as.
    const cluster = inputs(clusterPlan({ buildUser: "1001:1000" }));
    expect(cluster).toBe(inputs(clusterPlan()));
    // packline build (the engine, the plan's steps in Docker) has no --build-user at all
    expect(cluster).toBe(inputs(planBuild(validateBuild("build", { tag: "v1.2.3", ...same, registryUsername: "u", registryPassword: true }))));
  });

  it("nor does the registry secret, the name or the cluster's settings change them", () => {
    expect(inputs(clusterPlan({ name: "other", namespace: "ci", cachePvc: "cache", sbomArtifact: true }))).toBe(inputs(clusterPlan()));
  });
});

describe("the pack executor (the article's form)", () => {
  it("runs pack as root, privileged, with the node's Docker socket, pushing to the staging tag", () => {
    const p = clusterPlan({ executor: "pack", env: ["A=1"], creationTime: "now", tag: "v1.2.3" });
    const step = p.steps.build;
    expect(step).toMatchObject({ image: ["buildpacksio/pack:0.40.0"], user: { kind: "root" }, privileged: true });
    expect(flat([...step.command, ...step.args])).toEqual([
      "pack",
      "build",
      `registry.example.com/acme/app:${STAGING_TAG}`,
      "--path",
      "/workspace",
      "--builder",
      "paketobuildpacks/builder-jammy-base",
      "--publish",
      "--trust-builder",
      "--env-file",
      "/platform/env.list",
      "--creation-time",
      "now",
      "--report-output-dir",
      "/layers",
      "--no-color",
    ]);
    expect(p.volumes.find((v) => v.kind === "docker-socket")).toEqual({
      name: "docker-socket",
      kind: "docker-socket",
      hostPath: "/var/run/docker.sock",
    });
  });

  it("refuses an env value with a line break, which pack's env file cannot hold", () => {
    expect(packlineError(() => clusterPlan({ executor: "pack", env: ["A=1\n2"] })).message).toMatch(/^--env A: its value has a line break/);
  });
});

describe("values reach the plan unchanged", () => {
  it("the digits the old stand-in version used, braces-free names, a trailing slash", () => {
    const p = clusterPlan({
      image: "registry.example.com/team90001/app",
      runImage: "registry.example.com/run:90001.90002",
      cacheImage: "registry.example.com/cache:v90001",
      builder: "registry.example.com/builder:90001",
      env: ["PORT_90001=90001"],
      repo: "https://github.com/acme/web-app/",
    });
    const text = JSON.stringify(p);
    for (const value of [
      "registry.example.com/team90001/app",
      "registry.example.com/run:90001.90002",
      "registry.example.com/cache:v90001",
      "registry.example.com/builder:90001",
      "/platform/env/PORT_90001",
    ]) {
      expect(text).toContain(value);
    }
    expect(p.steps.build.image).toEqual(["registry.example.com/builder:90001"]);
  });

  it("property: the plan is a pure function of the options", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("1.2.3", "0.1.0", "2.0.0-rc.1"),
        fc.boolean(),
        fc.boolean(),
        fc.array(fc.stringMatching(/^[A-Z][A-Z0-9_]{0,8}=[ -~]{0,12}$/), { maxLength: 3 }),
        (tag, floatingTags, latest, env) => {
          const names = new Set<string>();
          const unique = env.filter((e) => !names.has(e.split("=")[0]!) && names.add(e.split("=")[0]!));
          const raw = { tag, floatingTags, latest, env: unique, image: "r.example.com/a" };
          const a: BuildPlan = plan(raw);
          const b: BuildPlan = plan(raw);
          expect(a).toEqual(b);
          // Late values are only the ones a known version leaves: nothing of the version is late.
          const lates = new Set(
            [a.steps.check, a.steps.build, a.steps.release].flatMap((s) => [...s.args, ...s.env.map((e) => e.value)].flatMap(latesOf)),
          );
          for (const late of ["version", "major", "minor", "tags", "tag"] as const) expect(lates.has(late)).toBe(false);
        },
      ),
      { numRuns: 100 },
    );
  });
});
