/**
 * The images of one build, checked together (issue 18, items 3, 4 and 10): a cache image is never a tag packline
 * publishes; localhost is recognised however it is spelt, refused for every image a cluster's pod would read, and
 * reached through the engine's tunnel for every image `packline build` uses; a default image name stays within the
 * 255 characters an image name may have.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import type { RawInput } from "../../../src/core/options/input.js";
import { validateArgo, validateBuild } from "../../../src/core/options/validate.js";
import { HOST_REGISTRY_ALIAS, type PlanText, planBuild } from "../../../src/core/plan/planner.js";
import { claimTag, publishedTags } from "../../../src/core/plan/published-tags.js";
import { CHECK_SCRIPT } from "../../../src/core/plan/scripts.js";
import { packlineError } from "../../support/errors.js";

const IMAGE = "reg.example.com/app";
const plan = (raw: RawInput = {}) => planBuild(validateBuild("plan", { tag: "1.2.3", ...raw }));
const buildError = (raw: RawInput) => packlineError(() => plan(raw)).message;
const argo = (raw: RawInput) => validateArgo({ repo: "https://github.com/acme/app", image: IMAGE, ...raw });
const argoError = (raw: RawInput) => packlineError(() => argo(raw)).message;
const flat = (texts: readonly PlanText[]) => texts.map((t) => t.map((p) => (typeof p === "string" ? p : `<${p.late}>`)).join(""));

describe("--cache-image is never a tag packline publishes (item 3)", () => {
  it.each([
    ["the version tag", { image: IMAGE, cacheImage: `${IMAGE}:1.2.3` }, /the version tag 1\.2\.3, which this build publishes/],
    ["the staging tag", { image: IMAGE, cacheImage: `${IMAGE}:packline-staging` }, /the tag packline-staging, which the build pushes to/],
    ["untagged, with --latest", { image: IMAGE, cacheImage: IMAGE, latest: true }, /\(no tag means latest\) is the tag latest, which --latest/],
    ["latest, with --latest", { image: IMAGE, cacheImage: `${IMAGE}:latest`, latest: true }, /the tag latest, which --latest publishes/],
    ["MAJOR.MINOR, with --floating-tags", { image: IMAGE, cacheImage: `${IMAGE}:1.2`, floatingTags: true }, /the tag 1\.2, which --floating-tags/],
    ["MAJOR, with --floating-tags", { image: IMAGE, cacheImage: `${IMAGE}:1`, floatingTags: true }, /the tag 1, which --floating-tags/],
    ["the registry in another case", { image: IMAGE, cacheImage: "REG.example.com/app:1.2.3" }, /the version tag 1\.2\.3/],
    ["Docker Hub by another name", { image: "acme/app", cacheImage: "index.docker.io/acme/app:1.2.3" }, /the version tag 1\.2\.3/],
    ["this machine by another name", { image: "localhost:5000/app", cacheImage: "LOCALHOST:5000/app:1.2.3" }, /the version tag 1\.2\.3/],
  ] as [string, RawInput, RegExp][])("%s is refused, with the fix", (_name, raw, why) => {
    const message = buildError(raw);
    expect(message).toMatch(/^--cache-image "/);
    expect(message).toMatch(why);
    expect(message).toMatch(/Give the cache a tag of its own, e\.g\. .*:buildcache, or a repository of its own\.$/);
  });

  it("a cluster, whose version comes at submit time, refuses any version tag (and latest with --latest)", () => {
    expect(argoError({ cacheImage: `${IMAGE}:2.0.0` })).toMatch(
      /is the version tag 2\.0\.0, which the workflow publishes when it is submitted with that version/,
    );
    expect(argoError({ cacheImage: `${IMAGE}:packline-staging` })).toMatch(/packline-staging/);
    expect(argoError({ cacheImage: IMAGE, latest: true })).toMatch(/no tag means latest/);
    expect(argoError({ cacheImage: `${IMAGE}:3`, floatingTags: true })).toMatch(
      /the tag 3, which --floating-tags publishes when the workflow is submitted with a version that makes it/,
    );
  });

  it("the release check's claim tag of the version is refused (the planner's list: variants, staging and claim tags)", () => {
    expect(buildError({ image: IMAGE, cacheImage: `${IMAGE}:packline-claim-1.2.3` })).toMatch(
      /is the tag packline-claim-1\.2\.3, which the release check writes to claim the version/,
    );
    // a version over 100 characters is claimed under a digest of it (scripts.ts, claim_ref)
    const long = `1.2.3-${"a".repeat(120)}`;
    expect(buildError({ tag: long, image: IMAGE, cacheImage: `${IMAGE}:${claimTag(long)}` })).toMatch(/which the release check writes/);
    expect(claimTag(long)).toMatch(/^packline-claim-[0-9a-f]{32}$/);
    // a cluster's version comes at submit time: any version's claim, and any digest-form claim
    expect(argoError({ cacheImage: `${IMAGE}:packline-claim-2.0.0` })).toMatch(/is a claim tag, which the release check writes/);
    expect(argoError({ cacheImage: `${IMAGE}:${claimTag(long)}` })).toMatch(/is a claim tag/);
    // another version's claim is not this build's (as another version's tag is not)
    expect(plan({ image: IMAGE, cacheImage: `${IMAGE}:packline-claim-2.0.0` }).steps.build.args.flat()).toContain(
      `-cache-image=${IMAGE}:packline-claim-2.0.0`,
    );
  });

  it("a cluster refuses exactly the tags some submitted version makes", () => {
    expect(argoError({ cacheImage: `${IMAGE}:1.0.0-rc.1` })).toMatch(/the version tag 1\.0\.0-rc\.1/);
    expect(argoError({ cacheImage: `${IMAGE}:0.4`, floatingTags: true })).toMatch(/--floating-tags/);
    for (const tag of ["0", "01", "1.2.3.4", "v1.2.3", "buildcache", "packline-claim-x"]) {
      expect(argo({ cacheImage: `${IMAGE}:${tag}`, floatingTags: true, latest: true }).build.cacheImage?.tag).toBe(tag); // no 0.x major tag
    }
  });

  it("a literal tag of a submit-time variant is written whichever shapes the variant serves", () => {
    const plan = planBuild(argo({ latest: true }).build);
    const zeroOnly = { ...plan, variants: [{ shapes: ["zero" as const], tags: [[{ late: "version" as const }], ["latest"]], notes: [] }] };
    expect(publishedTags(zeroOnly).some((t) => t.matches("latest"))).toBe(true);
    expect(publishedTags(zeroOnly).some((t) => t.matches("1.0.0"))).toBe(false); // a release is not a shape it serves
    expect(publishedTags(zeroOnly).some((t) => t.matches("0.3.1"))).toBe(true);
  });

  it("the claim tag named here is the one the check and release scripts write (their shell, run)", () => {
    const block = /if \[ \$\{#PACKLINE_VERSION\} -le [0-9]+ \]; then\n[\s\S]*?\nfi\n/.exec(CHECK_SCRIPT)?.[0];
    expect(block, "the claim_ref block of scripts.ts").toBeDefined();
    for (const version of ["1.2.3", `1.0.0-${"b".repeat(94)}`, `1.0.0-${"b".repeat(95)}`, `2.0.0-${"c".repeat(120)}`]) {
      const r = spawnSync("sh", ["-c", `${block}printf '%s' "$claim_ref"`], {
        env: { PATH: process.env.PATH, PACKLINE_IMAGE: "reg/app", PACKLINE_VERSION: version },
        encoding: "utf8",
      });
      expect(r.stdout).toBe(`reg/app:${claimTag(version)}`);
    }
  });

  it.each([
    [{ image: IMAGE, cacheImage: `${IMAGE}:buildcache` }],
    [{ image: IMAGE, cacheImage: IMAGE }], // latest, but --latest is not given
    [{ image: IMAGE, cacheImage: `${IMAGE}:1.2` }], // no --floating-tags
    [{ image: IMAGE, cacheImage: `${IMAGE}:1.2.4` }],
    [{ image: IMAGE, cacheImage: `${IMAGE}-cache:1.2.3` }],
    [{ image: IMAGE, cacheImage: `${IMAGE}:1`, floatingTags: true, tag: "1.2.3-rc.1" }], // a prerelease moves no floating tag
  ] as RawInput[][])("%j is accepted", (raw) => {
    expect(plan(raw).steps.build.args.flat()).toContain(`-cache-image=${raw.cacheImage}`);
  });
});

describe("localhost however it is spelt (item 4)", () => {
  const LOCAL = [
    "LOCALHOST:5000",
    "127.1:5000",
    "[0:0:0:0:0:0:0:1]:5000",
    "localhost.localdomain:5000",
    "127.0.0.2:5000",
    "[::1]:5000",
    "0x7f.1:5000",
  ];

  it.each(LOCAL)("argo --image %s/app is refused: inside a pod that is the pod", (registry) => {
    expect(argoError({ image: `${registry}/app` })).toMatch(/^--image ".*" is on "localhost", which inside a pod is the pod itself/);
  });

  it.each(LOCAL)("argo --run-image and --cache-image on %s are refused too (the pod's lifecycle reads them)", (registry) => {
    expect(argoError({ runImage: `${registry}/run:1` })).toMatch(/^--run-image ".*" is on "localhost", which inside a pod is the pod itself/);
    expect(argoError({ cacheImage: `${registry}/cache:1` })).toMatch(/^--cache-image ".*" is on "localhost", which inside a pod is the pod itself/);
  });

  it.each([...LOCAL, "localhost:5000", "localhost"])("argo --insecure-registry %s is refused: no registry a pod uses is on the pod", (registry) => {
    expect(argoError({ insecureRegistry: [registry] })).toMatch(
      /^--insecure-registry ".*" is on "localhost", which inside a pod is the pod itself .*: give the registry's address as the cluster's pods reach it/,
    );
    // packline build: the engine's tunnel reaches a registry on this machine, over plain HTTP
    expect(plan({ insecureRegistry: [registry] }).image.target.kind).toBe("engine-registry");
  });

  it.each(["registry.example.com:5000", "10.0.0.1:5000", "128.0.0.1:5000", "[fd00::1]:5000", "localhostx:5000", "kind-registry:5000"])(
    "%s is not this machine",
    (registry) => {
      expect(argo({ image: `${registry}/app`, runImage: `${registry}/run:1`, cacheImage: `${registry}/cache:1` }).build.image?.registry).toBe(
        registry,
      );
    },
  );

  it.each(LOCAL)("packline build --image %s/app goes through the tunnel, to the host as the user named it", (registry) => {
    const p = plan({ image: `${registry}/app` });
    expect(p.image.target.kind).toBe("host-registry");
    expect(p.image.address).toBe(`${HOST_REGISTRY_ALIAS}:5000/app`);
    expect(p.hostTunnel?.ports).toEqual([5000]);
  });

  it("packline build --run-image and --cache-image on localhost are reached through the tunnel (each port), as insecure registries", () => {
    const p = plan({ image: IMAGE, runImage: "localhost:5001/run:base", cacheImage: "LOCALHOST:5002/cache:build" });
    expect(p.hostTunnel).toEqual({ alias: HOST_REGISTRY_ALIAS, host: "localhost", ports: [5001, 5002] });
    const args = flat(p.steps.build.args);
    // the check pins the run image through the tunnel (pin.ts), the build runs what it pinned
    expect(p.steps.check.env).toContainEqual({ name: "PACKLINE_RUN_IMAGE", value: [`${HOST_REGISTRY_ALIAS}:5001/run:base`] });
    expect(
      p.steps.check.env
        .find((e) => e.name === "PACKLINE_PIN_INSECURE")
        ?.value.join("")
        .split(" "),
    ).toContain(`${HOST_REGISTRY_ALIAS}:5001`);
    expect(args).toContain(`-cache-image=${HOST_REGISTRY_ALIAS}:5002/cache:build`);
    expect(args).toContain(`-insecure-registry=${HOST_REGISTRY_ALIAS}:5001`);
    expect(args).toContain(`-insecure-registry=${HOST_REGISTRY_ALIAS}:5002`);
    expect(p.image.target.kind).toBe("registry"); // the image itself is not on this machine
  });

  it("the tunnel goes to the host as named (127.0.0.2 is not 127.0.0.1; [::1] is ::1)", () => {
    expect(plan({ image: "127.0.0.2:5000/app" }).hostTunnel).toEqual({ alias: HOST_REGISTRY_ALIAS, host: "127.0.0.2", ports: [5000] });
    expect(plan({ image: "[::1]:5000/app", runImage: "[0:0:0:0:0:0:0:1]:5001/run" }).hostTunnel).toEqual({
      alias: HOST_REGISTRY_ALIAS,
      host: "::1",
      ports: [5000, 5001],
    });
  });

  it("images on this machine under two different host names are refused (one tunnel reaches one host)", () => {
    expect(buildError({ image: "localhost:5000/app", runImage: "127.0.0.2:5001/run" })).toMatch(
      /^--image \("localhost:5000"\) and --run-image \("127\.0\.0\.2:5001"\) name this machine by different hosts/,
    );
  });

  it("a build with no registry on this machine has no tunnel", () => {
    expect(plan({ image: IMAGE, runImage: "reg.example.com/run" }).hostTunnel).toBeUndefined();
  });
});

describe("the default image name (item 10)", () => {
  it("a 2 KB repository name gives an image name of at most 255 characters, which the plan accepts as --image would", () => {
    const long = "a".repeat(2048);
    const p = plan({ repo: `https://github.com/acme/${long}` });
    expect(p.image.name.length).toBeLessThanOrEqual(255);
    expect(p.image.name).toMatch(/^registry:5000\/a+-[0-9a-f]{12}$/);
    // Two long names that share their start still differ.
    const other = plan({ repo: `https://github.com/acme/${long}b` });
    expect(other.image.name).not.toBe(p.image.name);
    expect(() => validateBuild("plan", { tag: "1.2.3", image: p.image.name })).not.toThrow();
  });

  it("a name that fits is kept as it is", () => {
    expect(plan({ repo: "https://github.com/acme/web-app.git" }).image.name).toBe("registry:5000/web-app");
  });
});
