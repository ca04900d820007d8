/**
 * The rebase's options and planner: what a rebase plan holds for given options (images, users, commands, arguments,
 * env, volumes, secrets by reference, the floating tags it may move), and the inputs refused before any plan exists.
 */
import { describe, expect, it } from "vitest";
import { PacklineError } from "../../../src/core/errors.js";
import { CRANE, IMAGES } from "../../../src/core/images.js";
import { type RebaseInput, validateRebase } from "../../../src/core/options/rebase.js";
import { DEFAULT_BUILDER } from "../../../src/core/options/table.js";
import { PLATFORM_API, REGISTRY_AUTH_SECRET } from "../../../src/core/plan/constants.js";
import { planRebase, type RebasePlan } from "../../../src/core/plan/rebase.js";
import { REBASE_CHECK_SCRIPT, REBASE_RELEASE_SCRIPT, REBASER_SCRIPT } from "../../../src/core/plan/rebase-scripts.js";
import { literal } from "../../../src/core/plan/text.js";

const IMAGE = "registry.example.com/acme/app";
const plan = (input: RebaseInput = {}): RebasePlan => planRebase(validateRebase({ tag: "v1.2.3", image: IMAGE, ...input }));
const env = (step: RebasePlan["steps"][keyof RebasePlan["steps"]]) =>
  Object.fromEntries(step.env.map((e) => [e.name, literal(e.value) ?? JSON.stringify(e.value)]));
const argv = (step: RebasePlan["steps"][keyof RebasePlan["steps"]]) => [...step.command, ...step.args].map((t) => literal(t));

describe("planRebase", () => {
  it("three steps: the check and the release in the crane image as the tool user, the rebaser in the builder as its CNB user", () => {
    const p = plan();
    expect(p.kind).toBe("rebase");
    expect(p.version).toEqual({ input: "v1.2.3", version: "1.2.3" });
    expect(p.builder).toBe(DEFAULT_BUILDER);
    expect(p.buildUser).toEqual({ kind: "builder" });
    for (const step of [p.steps.check, p.steps.release]) {
      expect(step).toMatchObject({ image: [IMAGES.crane], user: { kind: "tool-user" }, privileged: false, transientExitCodes: [1] });
    }
    expect(argv(p.steps.check)).toEqual([CRANE.sh, "-c", REBASE_CHECK_SCRIPT]);
    expect(argv(p.steps.release)).toEqual([CRANE.sh, "-c", REBASE_RELEASE_SCRIPT]);
    expect(p.steps.rebase).toMatchObject({ name: "rebase", image: [DEFAULT_BUILDER], user: { kind: "build-user" }, privileged: false });
    expect(argv(p.steps.rebase)).toEqual([
      "/bin/sh",
      "-c",
      REBASER_SCRIPT,
      "rebaser",
      `-previous-image=${IMAGE}:1.2.3`,
      "-report=/layers/report.toml",
      "-log-level=info",
      "-no-color",
      `${IMAGE}:packline-staging`,
    ]);
    expect(env(p.steps.rebase)).toMatchObject({ CNB_PLATFORM_API: PLATFORM_API, PACKLINE_VERSION: "1.2.3", PACKLINE_RUN_IMAGE: "" });
    expect(p.steps.rebase.outputs).toEqual([{ name: "report", path: "/layers/report.toml" }]);
    expect(env(p.steps.release)).toMatchObject({ PACKLINE_IMAGE: IMAGE, PACKLINE_VERSION: "1.2.3", PACKLINE_FLOATING_TAGS: "1.2 1 latest" });
    expect(p.steps.release.env.find((e) => e.name === "PACKLINE_BUILD_REPORT")?.value).toEqual([{ late: "build-report" }]);
    expect(p.steps.check.env.find((e) => e.name === "PACKLINE_RUN_ID")?.value).toEqual([{ late: "run-id" }]);
    expect(p.volumes).toEqual([{ name: "layers", kind: "scratch", ownedByBuildUser: true }]);
  });

  it("--run-image, --builder, --build-user and --insecure-registry reach the steps", () => {
    const p = plan({
      runImage: "runs.example.com/stack/run:jammy@sha256:" + "a".repeat(64),
      builder: "registry.example.com/builder:1",
      buildUser: "1001:1000",
      insecureRegistry: ["registry.example.com", "runs.example.com"],
    });
    expect(p.runImage).toBe(`runs.example.com/stack/run:jammy@sha256:${"a".repeat(64)}`);
    expect(argv(p.steps.rebase)).toContain(`-run-image=${p.runImage}`);
    expect(argv(p.steps.rebase)).toContain("-insecure-registry=registry.example.com");
    expect(argv(p.steps.rebase)).toContain("-insecure-registry=runs.example.com");
    expect(p.steps.rebase.image).toEqual(["registry.example.com/builder:1"]);
    expect(p.buildUser).toEqual({ kind: "given", uid: 1001, gid: 1000 });
    expect(env(p.steps.check)).toMatchObject({
      PACKLINE_RUN_IMAGE: p.runImage,
      PACKLINE_INSECURE: "true",
      PACKLINE_INSECURE_REGISTRIES: "registry.example.com runs.example.com",
    });
  });

  it("credentials by reference only: a secret volume mounted read-only where the registry is read, DOCKER_CONFIG, no value", () => {
    const p = plan({ registryUsername: "me", registryPassword: true });
    expect(p.registryAuth).toEqual({ kind: "password", registry: "registry.example.com", username: "me" });
    expect(p.volumes).toContainEqual({ name: "registry-auth", kind: "secret", secret: REGISTRY_AUTH_SECRET, file: "config.json" });
    for (const step of Object.values(p.steps)) {
      expect(step.mounts).toContainEqual({ volume: "registry-auth", path: "/packline/docker", readOnly: true });
      expect(env(step).DOCKER_CONFIG).toBe("/packline/docker");
    }
    expect(plan({ registrySecret: "regcred" }).registryAuth).toEqual({
      kind: "docker-config-secret",
      registry: "registry.example.com",
      secretName: "regcred",
    });
  });

  it("the floating tags a rebase may move follow the tag rule: none for a prerelease, no 0 for 0.x", () => {
    expect(plan({ tag: "2.0.1" }).floatingTags).toEqual(["2.0", "2", "latest"]);
    expect(plan({ tag: "0.4.2" }).floatingTags).toEqual(["0.4", "latest"]);
    expect(plan({ tag: "1.2.3-rc.1" }).floatingTags).toEqual([]);
  });

  it("is pure: the same options give the same plan", () => {
    expect(JSON.stringify(plan({ runImage: "r.example.com/run:1" }))).toBe(JSON.stringify(plan({ runImage: "r.example.com/run:1" })));
  });
});

describe("validateRebase refuses, naming the value and the fix", () => {
  it.each<[string, RebaseInput, string]>([
    ["no version", { tag: undefined }, "rebase needs --tag"],
    ["a version that is not MAJOR.MINOR.PATCH", { tag: "1.2" }, `--tag "1.2" is not a semantic version`],
    ["latest as a version", { tag: "latest" }, `--tag "latest" is not a semantic version`],
    ["build metadata", { tag: "1.2.3+build.5" }, "has build metadata"],
    ["blanks around a version", { tag: " 1.2.3" }, "has characters a version cannot have"],
    ["no image", { image: undefined }, "rebase needs --image"],
    ["an image with a tag", { image: `${IMAGE}:1.2.3` }, "has a tag"],
    ["an image on localhost", { image: "localhost:5000/app" }, "is on localhost, which a rebase cannot reach yet"],
    ["a run image on localhost", { runImage: "127.0.0.1:5000/run:1" }, "is on localhost"],
    ["a run image that is not a reference", { runImage: "Run Image" }, "--run-image"],
    ["a user without a password", { registryUsername: "me" }, "without --registry-password"],
    ["a password without a user", { registryPassword: true }, "without --registry-username"],
    ["a password pasted into the user name", { registryUsername: "me:hunter2", registryPassword: true }, "its value is not shown"],
    ["a build user of root", { buildUser: "0:0" }, "--build-user"],
  ])("%s", (_what, input, message) => {
    const go = () => validateRebase({ tag: "v1.2.3", image: IMAGE, ...input });
    expect(go).toThrow(PacklineError);
    expect(go).toThrow(message);
    if (input.registryUsername?.includes(":")) {
      try {
        go();
      } catch (error) {
        expect((error as Error).message).not.toContain("hunter2");
      }
    }
  });
});
