/**
 * The rebase's check, release and rebaser-wrapper scripts, run for real by /bin/sh and by busybox sh with busybox's
 * own tools (what the crane image has), against a fake crane (rebase-fake-crane.mjs) that keeps a registry of real
 * manifests and configs: what the scripts decide in every case README "Rebase" promises, and that a rebased image
 * that is not what a rebase may make is never tagged.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CRANE } from "../../../src/core/images.js";
import { PATHS } from "../../../src/core/plan/constants.js";
import {
  JSON_PATHS,
  JSON_STRING,
  REBASE_CHECK_SCRIPT,
  REBASE_EXIT,
  REBASE_LABELS,
  REBASE_RELEASE_SCRIPT,
  REBASER_SCRIPT,
} from "../../../src/core/plan/rebase-scripts.js";
import { BUILD_INPUTS_LABEL, CLAIM_LABELS, OUT } from "../../../src/core/plan/scripts.js";
import { findShell } from "../../support/shells.js";

const BUSYBOX = findShell("busybox", "rebase-scripts", "the runs with busybox sh and busybox's awk, the crane image's (/bin/sh still runs)");
const SHELLS = ["/bin/sh", ...(BUSYBOX ? ["busybox-sh"] : [])];
const FAKE_CRANE = join(dirname(fileURLToPath(import.meta.url)), "rebase-fake-crane.mjs");

interface Registry {
  tags: Record<string, string>;
  blobs: Record<string, string>;
}
const sha = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;

/** An image into the registry (the fake's layout: rebase-fake-crane.mjs); its manifest digest. */
function putImage(reg: Registry, config: object, layers: readonly string[]): string {
  const configText = JSON.stringify(config);
  const configDigest = sha(configText);
  reg.blobs[configDigest] = configText;
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", size: configText.length, digest: configDigest },
    layers: layers.map((digest) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", size: 1, digest })),
  });
  const digest = sha(manifest);
  reg.blobs[digest] = manifest;
  return digest;
}

const IMAGE = "r.example.com/acme/app";
const RUN = "runs.example.com/stack/run:jammy";
const CREATED = "2026-01-01T00:00:00Z";
const EPOCH_1980 = "1980-01-01T00:00:01Z";
/** Layer blobs (manifest digests) and their diff ids: the OS base, the run image's top (v1, v2), two app layers. */
const BLOB = { base: sha("base.gz"), v1: sha("v1.gz"), v2: sha("v2.gz"), app: sha("app.gz"), launcher: sha("launcher.gz") };
const DIFF = { base: sha("base"), v1: sha("v1"), v2: sha("v2"), app: sha("app"), launcher: sha("launcher") };

const sorted = (labels: Record<string, string>) => Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));

function runImage(top: "v1" | "v2"): { config: object; layers: string[] } {
  return {
    config: {
      architecture: "amd64",
      created: EPOCH_1980,
      history: [{ created: EPOCH_1980 }, { created: EPOCH_1980, comment: top }],
      os: "linux",
      rootfs: { type: "layers", diff_ids: [DIFF.base, DIFF[top]] },
      config: {
        Env: ["PATH=/usr/bin:/bin"],
        User: "1000:1000",
        Labels: sorted({ "io.buildpacks.base.distro.name": "ubuntu", "io.buildpacks.base.distro.version": top === "v1" ? "22.04.1" : "22.04.2" }),
      },
    },
    layers: [BLOB.base, BLOB[top]],
  };
}

/** The app image on run image `top`: what the build released (`created`), or what the rebaser makes (1980). */
function appImage(
  top: "v1" | "v2",
  runDigest: string,
  opts: { created?: string; labels?: Record<string, string>; env?: string[]; app?: string } = {},
) {
  const metadata = JSON.stringify({
    app: [{ sha: DIFF.app }],
    buildpacks: [{ key: "acme/static", version: "1.0.0", layers: { web: { sha: DIFF.app, data: { note: 'a "quoted" <value>' } } } }],
    launcher: { sha: DIFF.launcher },
    processTypes: ["web"],
    runImage: { topLayer: DIFF[top], reference: `runs.example.com/stack/run@${runDigest}`, image: RUN },
  });
  return {
    config: {
      architecture: "amd64",
      created: opts.created ?? CREATED,
      history: [{ created: EPOCH_1980 }, { created: EPOCH_1980, comment: top }, { created: EPOCH_1980 }, { created: EPOCH_1980 }],
      os: "linux",
      rootfs: { type: "layers", diff_ids: [DIFF.base, DIFF[top], opts.app ?? DIFF.app, DIFF.launcher] },
      config: {
        Env: opts.env ?? ["PATH=/usr/bin:/bin", "CNB_PLATFORM_API=0.13"],
        Entrypoint: ["/cnb/process/web"],
        User: "1000:1000",
        WorkingDir: "/workspace",
        Labels: sorted({
          "io.buildpacks.base.distro.name": "ubuntu",
          "io.buildpacks.base.distro.version": top === "v1" ? "22.04.1" : "22.04.2",
          "io.buildpacks.lifecycle.metadata": metadata,
          [BUILD_INPUTS_LABEL]: "sha256:inputs",
          "org.opencontainers.image.created": CREATED,
          "org.opencontainers.image.revision": "abc123",
          "org.opencontainers.image.version": "1.2.3",
          ...opts.labels,
        }),
      },
    },
    layers: [BLOB.base, BLOB[top], opts.app === undefined ? BLOB.app : sha(opts.app), BLOB.launcher],
  };
}

let dir: string;
let reg: Registry;
let runV1: string;
let runV2: string;
let released: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "rebase-scripts-test-"));
  mkdirSync(join(dir, "out"));
  reg = { tags: {}, blobs: {} };
  const v1 = runImage("v1");
  runV1 = putImage(reg, v1.config, v1.layers);
  const v2 = runImage("v2");
  runV2 = putImage(reg, v2.config, v2.layers);
  reg.tags[RUN] = runV1;
  const app = appImage("v1", runV1);
  released = putImage(reg, app.config, app.layers);
  reg.tags[`${IMAGE}:1.2.3`] = released;
  save();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const save = () => writeFileSync(join(dir, "registry.json"), JSON.stringify(reg));
const load = (): Registry => JSON.parse(readFileSync(join(dir, "registry.json"), "utf8"));
const configOf = (r: Registry, digest: string) => JSON.parse(r.blobs[JSON.parse(r.blobs[digest]!).config.digest]!);
const layersOf = (r: Registry, digest: string) => (JSON.parse(r.blobs[digest]!).layers as { digest: string }[]).map((l) => l.digest);

/** busybox's tools under their own names, first on PATH: what the crane image's busybox sh finds. */
function busyboxPath(): string {
  const bin = join(dir, "busybox-bin");
  if (!existsSync(bin)) {
    mkdirSync(bin);
    for (const tool of [
      "awk",
      "sed",
      "grep",
      "cut",
      "cmp",
      "diff",
      "tail",
      "head",
      "tr",
      "sleep",
      "date",
      "cat",
      "cp",
      "mkdir",
      "tar",
      "sha256sum",
      "tee",
    ]) {
      symlinkSync(BUSYBOX!, join(bin, tool));
    }
  }
  return `${bin}:${dirname(process.execPath)}`;
}

function run(shell: string, script: string, env: Record<string, string> = {}) {
  const text = script
    .split(OUT.dir)
    .join(join(dir, "out"))
    .split(CRANE.bin)
    .join(`${process.execPath} ${FAKE_CRANE}`)
    .split(PATHS.layers)
    .join(join(dir, "out"));
  const [file, args] = shell === "busybox-sh" ? [BUSYBOX!, ["sh", "-c", text, "sh"]] : [shell, ["-c", text, "sh"]];
  const result = spawnSync(file, [...args, ...(env.ARGS ? env.ARGS.split(" ") : [])], {
    encoding: "utf8",
    env: {
      PATH: shell === "busybox-sh" ? busyboxPath() : `${process.env.PATH}`,
      REG: join(dir, "registry.json"),
      PACKLINE_IMAGE: IMAGE,
      PACKLINE_REGISTRY: "r.example.com",
      PACKLINE_VERSION: "1.2.3",
      PACKLINE_INSECURE: "false",
      PACKLINE_INSECURE_REGISTRIES: "",
      PACKLINE_RUN_IMAGE: "",
      PACKLINE_RUN_ID: "run-1",
      ...env,
    },
  });
  const out = (name: string) => (existsSync(join(dir, "out", name)) ? readFileSync(join(dir, "out", name), "utf8").trim() : undefined);
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, outcome: out("outcome"), digest: out("digest"), moved: out("moved") };
}

/** The staged image a rebaser onto run image v2 would push, with `opts` tampering with it. */
function stage(opts: Parameters<typeof appImage>[2] = {}): string {
  const app = appImage("v2", runV2, { created: EPOCH_1980, ...opts });
  const digest = putImage(reg, app.config, app.layers);
  reg.tags[`${IMAGE}:packline-staging`] = digest;
  return digest;
}
function claimed(run = "run-1", at = 0): void {
  reg.tags[`${IMAGE}:packline-claim-1.2.3`] = putImage(reg, { config: { Labels: { [CLAIM_LABELS.at]: String(at), [CLAIM_LABELS.run]: run } } }, []);
}
const report = (digest: string) => `[image]\n  tags = ["${IMAGE}:packline-staging"]\n  digest = "${digest}"\n`;
function release(shell: string, staged: string, env: Record<string, string> = {}) {
  save();
  return run(shell, REBASE_RELEASE_SCRIPT, {
    PACKLINE_BUILD_REPORT: report(staged),
    PACKLINE_CLAIM_SECONDS: "0",
    PACKLINE_FLOATING_TAGS: "1.2 1 latest",
    ...env,
  });
}

describe.each(SHELLS)("the rebase scripts under %s", (shell) => {
  it("parse", () => {
    for (const script of [REBASE_CHECK_SCRIPT, REBASE_RELEASE_SCRIPT, REBASER_SCRIPT]) {
      const [file, args] = shell === "busybox-sh" ? [BUSYBOX!, ["sh", "-n", "-c", script]] : [shell, ["-n", "-c", script]];
      expect(spawnSync(file, args as string[]).status).toBe(0);
    }
  });

  it("JSON_PATHS: every leaf with its path, strings as written; text that is not JSON fails", () => {
    const awk = (input: string, program = JSON_PATHS) =>
      spawnSync(shell === "busybox-sh" ? BUSYBOX! : "awk", [...(shell === "busybox-sh" ? ["awk"] : []), program], { input, encoding: "utf8" });
    expect(awk('{"a":{"b":[1,"x\\"}y",{}],"c":[]},"d":true}').stdout).toBe(
      '."a"."b"[0]\t1\n."a"."b"[1]\t"x\\"}y"\n."a"."b"[2]\t{}\n."a"."c"\t[]\n."d"\ttrue\n',
    );
    expect(awk('{"a":').status).not.toBe(0);
    expect(awk('{"a":1} x').status).not.toBe(0);
    expect(awk('"{\\"a\\":\\"b\\\\\\\\c\\"}"', JSON_STRING).stdout).toBe('{"a":"b\\\\c"}');
  });

  describe("check", () => {
    it("a version on an older run image: claimed for this run, outcome rebase", () => {
      reg.tags[RUN] = runV2;
      save();
      const r = run(shell, REBASE_CHECK_SCRIPT);
      expect(r, r.stderr).toMatchObject({ code: 0, outcome: "rebase", digest: released });
      const claim = configOf(load(), load().tags[`${IMAGE}:packline-claim-1.2.3`]!);
      expect(claim.config.Labels[CLAIM_LABELS.run]).toBe("run-1");
    });

    it("a version already on the run image: outcome current, its digest, nothing claimed (safe to retry)", () => {
      const r = run(shell, REBASE_CHECK_SCRIPT);
      expect(r, r.stderr).toMatchObject({ code: 0, outcome: "current", digest: released });
      expect(r.stdout).toContain("nothing to rebase");
      expect(load().tags[`${IMAGE}:packline-claim-1.2.3`]).toBeUndefined();
    });

    it("--run-image is looked up instead of the recorded one", () => {
      reg.tags["other.example.com/run:v2"] = runV2;
      save();
      expect(run(shell, REBASE_CHECK_SCRIPT, { PACKLINE_RUN_IMAGE: "other.example.com/run:v2" }).outcome).toBe("rebase");
    });

    it("a version standing on a mirror its metadata lists is not refused as on another run image (nothing on stderr)", () => {
      const metadata = JSON.parse(configOf(reg, released).config.Labels["io.buildpacks.lifecycle.metadata"]);
      metadata.runImage.reference = `mirror.example.com/stack/run@${runV1}`;
      metadata.runImage.mirrors = ["mirror.example.com/stack/run"];
      relabel({ "io.buildpacks.lifecycle.metadata": JSON.stringify(metadata) });
      reg.tags[RUN] = runV2;
      save();
      const r = run(shell, REBASE_CHECK_SCRIPT);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.outcome).toBe("rebase");
      expect(r.stderr).not.toMatch(/regex|grep/i);
    });

    it.each([
      ["a version that does not exist", () => delete reg.tags[`${IMAGE}:1.2.3`], "is not published: there is no version 1.2.3"],
      ["an image packline did not build", () => relabel({ [BUILD_INPUTS_LABEL]: undefined }), "was not built by packline"],
      ["an image of another version", () => relabel({ "org.opencontainers.image.version": "1.2.4" }), "was not built by packline"],
      ["an image without buildpacks metadata", () => relabel({ "io.buildpacks.lifecycle.metadata": undefined }), "has no buildpacks metadata"],
      ["a version the lifecycle marked not rebasable", () => relabel({ "io.buildpacks.rebasable": "false" }), "is marked not rebasable"],
      ["a version its owner marked not rebasable", () => relabel({ [REBASE_LABELS.rebasable]: "false" }), "is marked not rebasable"],
      ["a run image that does not exist", () => delete reg.tags[RUN], `the run image ${RUN} does not exist`],
      [
        "a version built on another run image than its metadata names (a --run-image the builder's run.toml lacks)",
        () => {
          const metadata = JSON.parse(configOf(reg, released).config.Labels["io.buildpacks.lifecycle.metadata"]);
          metadata.runImage.reference = `elsewhere.example.com/custom/run@${runV1}`;
          relabel({ "io.buildpacks.lifecycle.metadata": JSON.stringify(metadata) });
        },
        "stands on elsewhere.example.com/custom/run@",
      ],
    ])("refuses %s (exit 4, nothing claimed)", (_what, change, message) => {
      reg.tags[RUN] = runV2;
      change();
      save();
      const r = run(shell, REBASE_CHECK_SCRIPT);
      expect(r.code, r.stdout + r.stderr).toBe(REBASE_EXIT.refused);
      expect(r.stderr).toContain(message);
      expect(r.outcome).toBeUndefined();
      expect(load().tags[`${IMAGE}:packline-claim-1.2.3`]).toBeUndefined();
    });

    it("refused credentials are not retried (exit 3); other registry errors are (exit 1)", () => {
      expect(run(shell, REBASE_CHECK_SCRIPT, { CRANE_FAIL: "UNAUTHORIZED: authentication required" }).code).toBe(REBASE_EXIT.credentials);
      expect(run(shell, REBASE_CHECK_SCRIPT, { CRANE_FAIL: "GET ...: 503 Service Unavailable" }).code).toBe(REBASE_EXIT.transient);
    });
  });

  describe("release", () => {
    beforeEach(() => {
      reg.tags[RUN] = runV2;
      reg.tags[`${IMAGE}:1.2`] = released;
      reg.tags[`${IMAGE}:1`] = sha("a newer 1.x"); // 1 holds 1.3.0 (not in this registry's blobs: only its digest matters)
      reg.tags[`${IMAGE}:latest`] = released;
      claimed();
    });

    it("tags the verified image: app layers and config kept, run image layers new, created and labels right; floating tags that held the version move", () => {
      const staged = stage();
      const r = release(shell, staged);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const after = load();
      const final = after.tags[`${IMAGE}:1.2.3`]!;
      expect(r.digest).toBe(final);
      expect(final).not.toBe(released);
      expect(layersOf(after, final)).toEqual([BLOB.base, BLOB.v2, BLOB.app, BLOB.launcher]);
      const config = configOf(after, final);
      expect(config.created).toBe(CREATED);
      expect(config.config.Labels[REBASE_LABELS.from]).toBe(released);
      expect(config.config.Labels[REBASE_LABELS.runImage]).toBe(`runs.example.com/stack/run@${runV2}`);
      expect(config.config.Labels["org.opencontainers.image.version"]).toBe("1.2.3");
      expect(config.config.Labels["org.opencontainers.image.created"]).toBe(CREATED);
      expect(config.config.Labels["io.buildpacks.base.distro.version"]).toBe("22.04.2");
      expect(after.tags[`${IMAGE}:1.2`]).toBe(final);
      expect(after.tags[`${IMAGE}:latest`]).toBe(final);
      expect(after.tags[`${IMAGE}:1`]).toBe(sha("a newer 1.x"));
      expect(r.moved!.split("\n")).toEqual(["1.2", "latest"]);
    });

    it("a staged image on the version's own run image: nothing tagged, the existing digest", () => {
      const app = appImage("v1", runV1, { created: EPOCH_1980 });
      const staged = putImage(reg, app.config, app.layers);
      const r = release(shell, staged);
      expect(r, r.stderr).toMatchObject({ code: 0, digest: released });
      expect(load().tags[`${IMAGE}:1.2.3`]).toBe(released);
    });

    it.each([
      ["another app layer", { app: sha("patched app") }, "other layers"],
      ["another env", { env: ["PATH=/usr/bin:/bin", "EVIL=1"] }, "differs from"],
      ["another revision label", { labels: { "org.opencontainers.image.revision": "zzz" } }, "differs from"],
    ])("refuses a staged image with %s (exit 6): no tag moves", (_what, tamper, message) => {
      const staged = stage(tamper);
      save();
      const before = load().tags;
      const r = release(shell, staged);
      expect(r.code, r.stdout + r.stderr).toBe(REBASE_EXIT.unverified);
      expect(r.stderr).toContain(message);
      expect(r.stderr).toContain("nothing was tagged");
      const after = load().tags;
      for (const tag of ["1.2.3", "1.2", "1", "latest"]) expect(after[`${IMAGE}:${tag}`]).toBe(before[`${IMAGE}:${tag}`]);
    });

    it("another run's claim (a build or rebase of the same version at once): nothing tagged (exit 4)", () => {
      claimed("run-2");
      const r = release(shell, stage());
      expect(r.code, r.stdout + r.stderr).toBe(REBASE_EXIT.refused);
      expect(r.stderr).toContain("ran at the same time");
      expect(load().tags[`${IMAGE}:1.2.3`]).toBe(released);
    });

    it("a report without a digest: nothing tagged", () => {
      save();
      const r = run(shell, REBASE_RELEASE_SCRIPT, { PACKLINE_BUILD_REPORT: "[image]\n", PACKLINE_CLAIM_SECONDS: "0", PACKLINE_FLOATING_TAGS: "" });
      expect(r.code).toBe(REBASE_EXIT.noDigest);
      expect(load().tags[`${IMAGE}:1.2.3`]).toBe(released);
    });
  });

  it("the rebaser's wrapper: the lifecycle's refusals in packline's words (exit 4), other failures keep their code", () => {
    const fake = join(dir, "rebaser");
    writeFileSync(fake, '#!/bin/sh\necho "$FAKE_OUT"\nexit "$FAKE_CODE"\n');
    chmodSync(fake, 0o755);
    const wrapper = REBASER_SCRIPT.split("/cnb/lifecycle/rebaser").join(fake);
    const go = (out: string, code: number) => run(shell, wrapper, { FAKE_OUT: out, FAKE_CODE: String(code), PACKLINE_RUN_IMAGE: "elsewhere/run:v9" });
    expect(go("ok", 0).code).toBe(0);
    const name = go(
      "ERROR: rebase app image: new base image 'elsewhere/run:v9' not found in existing run image metadata: {...}; please provide -force",
      72,
    );
    expect(name.code).toBe(REBASE_EXIT.refused);
    expect(name.stderr).toContain("elsewhere/run:v9 is not the run image 1.2.3 was built on");
    expect(name.stderr).not.toContain("-force");
    expect(go("ERROR: unable to satisfy target os/arch constraints; new run image: ...", 72).stderr).toContain(
      "another OS, architecture or distribution",
    );
    expect(go("ERROR: incompatible stack: 'a' is not compatible with 'b'", 72).stderr).toContain("another stack");
    const other = go("ERROR: connection refused", 1);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain("the lifecycle's rebaser failed (exit code 1)");
  });
});

/** Changes labels of the released image (undefined: removes one), keeping it under the version's tag. */
function relabel(labels: Record<string, string | undefined>): void {
  const config = configOf(reg, released);
  for (const [k, v] of Object.entries(labels)) {
    if (v === undefined) delete config.config.Labels[k];
    else config.config.Labels[k] = v;
  }
  reg.tags[`${IMAGE}:1.2.3`] = putImage(reg, config, layersOf(reg, released));
}
