/**
 * The check and release scripts, run for real by /bin/sh (and busybox sh, what the crane image runs) against a fake
 * `crane` that keeps a registry in files: what the scripts decide, in every case the README promises.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CRANE } from "../../../src/core/images.js";
import { BUILD_INPUTS_LABEL, CHECK_SCRIPT, CLAIM_LABELS, EXIT, OUT, releaseScript } from "../../../src/core/plan/scripts.js";
import { findShell } from "../../support/shells.js";

const BUSYBOX = findShell("busybox", "scripts", "the runs with busybox sh, the crane image's shell (/bin/sh still runs)");
const SHELLS = ["/bin/sh", ...(BUSYBOX ? ["busybox-sh"] : [])];
const LABELS = [
  { key: "org.opencontainers.image.version", env: "PACKLINE_LABEL_0" },
  { key: "org.opencontainers.image.revision", env: "PACKLINE_LABEL_1" },
  { key: BUILD_INPUTS_LABEL, env: "PACKLINE_LABEL_2" },
];

/** A crane that answers from files: $REG/<ref with / and : as _>.{config,digest}. */
const FAKE_CRANE = `#!/bin/sh
set -eu
key() { printf '%s' "$1" | tr '/:@' '___'; }
[ "$1" = --insecure ] && shift
cmd=$1; shift
[ "\${1:-}" = --insecure ] && shift
echo "$cmd $1" >> "$REG/calls"
case $cmd in
  config|digest)
    if [ -n "\${CRANE_FAIL_REF:-}" ] && [ "$1" = "$CRANE_FAIL_REF" ]; then echo "$CRANE_FAIL" >&2; exit 1; fi
    f="$REG/$(key "$1").$cmd"
    if [ ! -f "$f" ]; then echo "GET $1: MANIFEST_UNKNOWN: manifest unknown" >&2; exit 1; fi
    [ -n "\${CRANE_FAIL:-}" ] && { echo "$CRANE_FAIL" >&2; exit 1; }
    cat "$f" ;;
  push)
    # a docker-style tarball, as crane push reads one: manifest.json names the config and the layers
    tar -tf "$1" | sort | tr '\n' ' ' > "$REG/pushed-files"
    tar -xOf "$1" config.json > "$REG/$(key "$2").config"
    printf 'sha256:%s' "$(sha256sum < "$1" | cut -c1-64)" > "$REG/$(key "$2").digest"
    echo "$2" >> "$REG/pushed" ;;
  mutate)
    src=$1; shift; labels=""; tag=""
    while [ $# -gt 0 ]; do case $1 in --label) labels="$labels,\\"\${2%%=*}\\":\\"\${2#*=}\\""; shift 2 ;; --tag) tag=$2; shift 2 ;; *) shift ;; esac; done
    [ -f "$REG/$(key "$src").config" ] || { echo "GET $src: MANIFEST_UNKNOWN: manifest unknown" >&2; exit 1; }
    digest="sha256:$(printf '%s' "$src$labels" | sha256sum | cut -c1-64)"
    case $src in *@*) repo=\${src%@*} ;; *) repo=\${src%:*} ;; esac
    printf '{"created":"1980-01-01T00:00:01Z","config":{"Labels":{%s}}}' "\${labels#,}" > "$REG/$(key "$repo@$digest").config"
    printf '%s' "$digest" > "$REG/$(key "$repo@$digest").digest"
    cp "$REG/$(key "$repo@$digest").config" "$REG/$(key "$tag").config"; printf '%s' "$digest" > "$REG/$(key "$tag").digest"
    echo "$repo@$digest" ;;
  tag)
    img=$1; repo=\${img%@*}
    cp "$REG/$(key "$img").config" "$REG/$(key "$repo:$2").config"; cp "$REG/$(key "$img").digest" "$REG/$(key "$repo:$2").digest" ;;
esac
`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "scripts-test-"));
  writeFileSync(join(dir, "crane"), FAKE_CRANE);
  chmodSync(join(dir, "crane"), 0o755);
  execFileSync("mkdir", ["-p", join(dir, "reg"), join(dir, "out")]);
  // the builder and run image the check pins (pin.ts; pin.test.ts tests the pin itself)
  put(BUILDER, "sha256:builder", {});
  writeFileSync(join(dir, "reg", `${key(`${BUILDER}@sha256:builder`)}.config`), BUILDER_CONFIG);
  put(RUN_IMAGE, "sha256:run", {});
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const IMAGE = "r.example.com/acme/app";
const BUILDER = "r.example.com/builder:1";
const RUN_IMAGE = "r.example.com/run:1";
const BUILDER_CONFIG = `{"config":{"Labels":{"io.buildpacks.builder.metadata":"{\\"images\\":[{\\"image\\":\\"${RUN_IMAGE}\\"}],\\"lifecycle\\":{\\"version\\":\\"0.21.17\\"}}"}}}`;
const key = (ref: string) => ref.replace(/[/:@]/g, "_");
function put(ref: string, digest: string, labels: Record<string, string>): void {
  const json = Object.entries(labels)
    .map(([k, v]) => `"${k}":"${v}"`)
    .join(",");
  writeFileSync(join(dir, "reg", `${key(ref)}.config`), `{"created":"1980-01-01T00:00:01Z","config":{"Labels":{${json}}}}`);
  writeFileSync(join(dir, "reg", `${key(ref)}.digest`), digest);
}

/** The version's claim tag, and a claim held by `run` since `at` (unix seconds). */
const CLAIM = `${IMAGE}:packline-claim-1.2.3`;
function claimed(run = "run-1", at = 0): void {
  put(CLAIM, "sha256:claim", { [CLAIM_LABELS.run]: run, [CLAIM_LABELS.at]: String(at) });
}

/** How many times the fake crane read the claim tag's config (each line of $REG/calls is "<command> <ref>"). */
function claimReads(): number {
  return readFileSync(join(dir, "reg", "calls"), "utf8")
    .split("\n")
    .filter((line) => line === `config ${CLAIM}`).length;
}

function run(shell: string, script: string, env: Record<string, string>) {
  const text = script.split(OUT.dir).join(join(dir, "out")).split(CRANE.bin).join(join(dir, "crane"));
  const [file, args] = shell === "busybox-sh" ? [BUSYBOX!, ["sh", "-c", text]] : [shell, ["-c", text]];
  const result = spawnSync(file, args as string[], {
    encoding: "utf8",
    env: {
      PATH: process.env.PATH,
      REG: join(dir, "reg"),
      PACKLINE_IMAGE: IMAGE,
      PACKLINE_REGISTRY: "r.example.com",
      PACKLINE_VERSION: "1.2.3",
      PACKLINE_REVISION: "abc123",
      PACKLINE_BUILD_INPUTS: "sha256:inputs",
      PACKLINE_INSECURE: "false",
      PACKLINE_ALLOW_OVERWRITE: "false",
      PACKLINE_RUN_ID: "run-1",
      PACKLINE_BUILDER: BUILDER,
      ...env,
    },
  });
  const out = (name: string) => (existsSync(join(dir, "out", name)) ? readFileSync(join(dir, "out", name), "utf8").trim() : undefined);
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, outcome: out("outcome"), digest: out("digest") };
}

describe.each(SHELLS)("the scripts under %s", (shell) => {
  it("parse", () => {
    for (const script of [CHECK_SCRIPT, releaseScript(LABELS)]) {
      const [file, args] = shell === "busybox-sh" ? [BUSYBOX!, ["sh", "-n", "-c", script]] : [shell, ["-n", "-c", script]];
      expect(spawnSync(file, args as string[]).status).toBe(0);
    }
  });

  it("check: an absent version is unpublished, and claimed for this run (the claim tag, labelled with the run and time)", () => {
    const before = Math.floor(Date.now() / 1000);
    expect(run(shell, CHECK_SCRIPT, {})).toMatchObject({ code: 0, outcome: "unpublished" });
    const claim = JSON.parse(readFileSync(join(dir, "reg", `${key(CLAIM)}.config`), "utf8"));
    expect(claim.config.Labels[CLAIM_LABELS.run]).toBe("run-1");
    expect(Number(claim.config.Labels[CLAIM_LABELS.at])).toBeGreaterThanOrEqual(before);
    expect(Number(claim.config.Labels[CLAIM_LABELS.at])).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    // one crane call writes the claim (after the version's lookup): an image tarball pushed whole, its one layer the
    // diff id its config names
    const calls = readFileSync(join(dir, "reg", "calls"), "utf8")
      .trim()
      .split("\n");
    // (beside them, in the background, the pin's three reads of the builder and its run image: pin.test.ts)
    const pin = (c: string) => c.includes(BUILDER) || c.includes(RUN_IMAGE);
    expect(calls.filter((c) => !pin(c))).toEqual([`config ${IMAGE}:1.2.3`, `push ${join(dir, "out")}/claim-image.tar`]);
    expect(calls.filter(pin).sort()).toEqual([`config ${BUILDER}@sha256:builder`, `digest ${BUILDER}`, `digest ${RUN_IMAGE}`]);
    expect(
      readFileSync(join(dir, "reg", "pushed-files"), "utf8")
        .trim()
        .split(" "),
    ).toEqual(["config.json", "layer.tar", "manifest.json"]);
    const layer = execFileSync("sha256sum", [join(dir, "out", "claim-image", "layer.tar")], { encoding: "utf8" }).split(" ")[0];
    expect(claim.rootfs.diff_ids).toEqual([`sha256:${layer}`]);
    expect(execFileSync("tar", ["-xOf", join(dir, "out", "claim-image", "layer.tar"), "claim"], { encoding: "utf8" })).toBe("run-1\n");
  });

  it("check: a run id that is not letters, digits, '.', '_' and '-' writes no claim (it goes into the claim's JSON)", () => {
    const result = run(shell, CHECK_SCRIPT, { PACKLINE_RUN_ID: 'run"1' });
    expect(result.code).toBe(EXIT.transient);
    expect(result.stderr).toContain("internal: the run id");
    expect(existsSync(join(dir, "reg", `${key(CLAIM)}.config`))).toBe(false);
  });

  it("check: a version published or refused is not claimed; --allow-overwrite claims it", () => {
    put(`${IMAGE}:1.2.3`, "sha256:old", { "org.opencontainers.image.revision": "abc123", [BUILD_INPUTS_LABEL]: "sha256:inputs" });
    expect(run(shell, CHECK_SCRIPT, {}).outcome).toBe("published");
    put(`${IMAGE}:1.2.3`, "sha256:old", { "org.opencontainers.image.revision": "zzz999", [BUILD_INPUTS_LABEL]: "sha256:inputs" });
    expect(run(shell, CHECK_SCRIPT, {}).code).toBe(EXIT.refused);
    expect(existsSync(join(dir, "reg", `${key(CLAIM)}.config`))).toBe(false);
    expect(run(shell, CHECK_SCRIPT, { PACKLINE_ALLOW_OVERWRITE: "true" }).outcome).toBe("unpublished");
    expect(existsSync(join(dir, "reg", `${key(CLAIM)}.config`))).toBe(true);
  });

  it("check: a version too long for a claim tag of its own is claimed under its digest (a tag holds 128 characters)", () => {
    const version = `1.2.3-${"a".repeat(120)}`;
    expect(run(shell, CHECK_SCRIPT, { PACKLINE_VERSION: version })).toMatchObject({ code: 0, outcome: "unpublished" });
    const pushed = readFileSync(join(dir, "reg", "pushed"), "utf8").trim();
    expect(pushed).toMatch(new RegExp(`^${IMAGE}:packline-claim-[0-9a-f]{32}$`));
    expect(pushed.split(":").at(-1)!.length).toBeLessThanOrEqual(128);
  });

  it("check: the same revision and options is published: nothing to build, the existing digest", () => {
    put(`${IMAGE}:1.2.3`, "sha256:old", { "org.opencontainers.image.revision": "abc123", [BUILD_INPUTS_LABEL]: "sha256:inputs" });
    expect(run(shell, CHECK_SCRIPT, {})).toMatchObject({ code: 0, outcome: "published", digest: "sha256:old" });
  });

  it("check: another revision, or other options, is refused with the tag, digest, revision and fix", () => {
    put(`${IMAGE}:1.2.3`, "sha256:old", { "org.opencontainers.image.revision": "zzz999", [BUILD_INPUTS_LABEL]: "sha256:inputs" });
    const refused = run(shell, CHECK_SCRIPT, {});
    expect(refused.code).toBe(EXIT.refused);
    expect(refused.stderr).toContain(
      `packline: ${IMAGE}:1.2.3 is already published (sha256:old, revision zzz999) and this build is from revision abc123`,
    );
    expect(refused.stderr).toContain("--allow-overwrite");
    put(`${IMAGE}:1.2.3`, "sha256:old", { "org.opencontainers.image.revision": "abc123", [BUILD_INPUTS_LABEL]: "sha256:other" });
    expect(run(shell, CHECK_SCRIPT, {}).stderr).toContain(
      "from this revision (abc123) but with other build options (builder, run image, env, buildpacks, creation time, executor or Platform API)",
    );
    expect(run(shell, CHECK_SCRIPT, { PACKLINE_ALLOW_OVERWRITE: "true" })).toMatchObject({ code: 0, outcome: "unpublished" });
  });

  it("check: refused credentials are not retried (exit 3); other registry errors are (exit 1)", () => {
    put(`${IMAGE}:1.2.3`, "sha256:old", {});
    expect(run(shell, CHECK_SCRIPT, { CRANE_FAIL: "UNAUTHORIZED: authentication required" }).code).toBe(EXIT.credentials);
    expect(run(shell, CHECK_SCRIPT, { CRANE_FAIL: "GET ...: 503 Service Unavailable" }).code).toBe(EXIT.transient);
  });

  const REPORT = `[image]\n  tags = ["${IMAGE}:packline-staging"]\n  digest = "sha256:${"1".repeat(64)}"\n`;
  const releaseEnv = {
    PACKLINE_BUILD_REPORT: REPORT,
    PACKLINE_TAGS: "1.2.3 1.2 1 latest",
    PACKLINE_CLAIM_SECONDS: "0",
    PACKLINE_LABEL_0: "1.2.3",
    PACKLINE_LABEL_1: "abc123",
    PACKLINE_LABEL_2: "sha256:inputs",
  };

  it("release: labels the staged image, tags every tag, writes the final digest", () => {
    claimed();
    put(`${IMAGE}@sha256:${"1".repeat(64)}`, `sha256:${"1".repeat(64)}`, {});
    const result = run(shell, releaseScript(LABELS), releaseEnv);
    expect(result.code).toBe(0);
    expect(result.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    for (const tag of ["1.2.3", "1.2", "1", "latest"])
      expect(readFileSync(join(dir, "reg", `${key(`${IMAGE}:${tag}`)}.digest`), "utf8")).toBe(result.digest);
    const config = readFileSync(join(dir, "reg", `${key(`${IMAGE}:1.2.3`)}.config`), "utf8");
    expect(config).toContain('"org.opencontainers.image.created":"1980-01-01T00:00:01Z"');
    expect(config).toContain('"org.opencontainers.image.revision":"abc123"');
  });

  it("release: a version published meanwhile by another build is refused, nothing tagged", () => {
    claimed();
    put(`${IMAGE}:1.2.3`, "sha256:other", { "org.opencontainers.image.revision": "zzz999" });
    const result = run(shell, releaseScript(LABELS), releaseEnv);
    expect(result.code).toBe(EXIT.refused);
    expect(result.stderr).toContain("was published by another build (revision zzz999) while this one ran: nothing was tagged");
    expect(existsSync(join(dir, "reg", `${key(`${IMAGE}:latest`)}.digest`))).toBe(false);
  });

  it("release: the same revision with other options published meanwhile is refused too, nothing tagged", () => {
    claimed();
    put(`${IMAGE}@sha256:${"1".repeat(64)}`, `sha256:${"1".repeat(64)}`, {});
    put(`${IMAGE}:1.2.3`, "sha256:other", { "org.opencontainers.image.revision": "abc123", [BUILD_INPUTS_LABEL]: "sha256:other" });
    const result = run(shell, releaseScript(LABELS), releaseEnv);
    expect(result.code).toBe(EXIT.refused);
    expect(result.stderr).toContain("was published by another build of this revision with other build options (builder,");
    expect(readFileSync(join(dir, "reg", `${key(`${IMAGE}:1.2.3`)}.digest`), "utf8")).toBe("sha256:other");
    expect(existsSync(join(dir, "reg", `${key(`${IMAGE}:latest`)}.digest`))).toBe(false);
    // --allow-overwrite replaces it
    expect(run(shell, releaseScript(LABELS), { ...releaseEnv, PACKLINE_ALLOW_OVERWRITE: "true" }).code).toBe(0);
  });

  it("release: the same revision and options there already (a retry of this build) is tagged again, same image", () => {
    claimed();
    put(`${IMAGE}@sha256:${"1".repeat(64)}`, `sha256:${"1".repeat(64)}`, {});
    const first = run(shell, releaseScript(LABELS), releaseEnv);
    expect(first.code).toBe(0);
    const again = run(shell, releaseScript(LABELS), releaseEnv);
    expect(again).toMatchObject({ code: 0, digest: first.digest });
  });

  it("release: a failed lookup of the tag is never taken for an absent tag (exit 1, or 3 for credentials), nothing tagged", () => {
    claimed();
    put(`${IMAGE}@sha256:${"1".repeat(64)}`, `sha256:${"1".repeat(64)}`, {});
    const failing = { ...releaseEnv, CRANE_FAIL_REF: `${IMAGE}:1.2.3` };
    const transient = run(shell, releaseScript(LABELS), { ...failing, CRANE_FAIL: "GET ...: 503 Service Unavailable" });
    expect(transient.code).toBe(EXIT.transient);
    expect(transient.stderr).toContain(`could not look up ${IMAGE}:1.2.3 in registry r.example.com (a retry may help)`);
    expect(run(shell, releaseScript(LABELS), { ...failing, CRANE_FAIL: "UNAUTHORIZED: authentication required" }).code).toBe(EXIT.credentials);
    expect(existsSync(join(dir, "reg", `${key(`${IMAGE}:1.2.3`)}.digest`))).toBe(false);
  });

  it("release: a build that claimed the version after this one wins; this one fails and moves no tag", () => {
    claimed("run-2");
    put(`${IMAGE}@sha256:${"1".repeat(64)}`, `sha256:${"1".repeat(64)}`, {});
    const result = run(shell, releaseScript(LABELS), releaseEnv);
    expect(result.code).toBe(EXIT.refused);
    expect(result.stderr).toContain(`packline: another build published ${IMAGE}:1.2.3 at the same time, or is publishing it`);
    for (const tag of ["1.2.3", "1.2"]) expect(existsSync(join(dir, "reg", `${key(`${IMAGE}:${tag}`)}.digest`)), tag).toBe(false);
  });

  it("release: a lost claim whose winner published this revision with the same options (a twin) gives that image", () => {
    claimed("run-2");
    put(`${IMAGE}:1.2.3`, "sha256:twin", { "org.opencontainers.image.revision": "abc123", [BUILD_INPUTS_LABEL]: "sha256:inputs" });
    expect(run(shell, releaseScript(LABELS), releaseEnv)).toMatchObject({ code: 0, digest: "sha256:twin" });
  });

  it("release: without its claim (the check did not write one) nothing is tagged", () => {
    put(`${IMAGE}@sha256:${"1".repeat(64)}`, `sha256:${"1".repeat(64)}`, {});
    const result = run(shell, releaseScript(LABELS), releaseEnv);
    expect(result.code).toBe(EXIT.refused);
    expect(result.stderr).toContain(`the claim ${CLAIM} that this build's check wrote is gone`);
    expect(existsSync(join(dir, "reg", `${key(`${IMAGE}:1.2.3`)}.digest`))).toBe(false);
  });

  it("release: a claim younger than the claim time is held the rest of it before the tag is written, then read again", () => {
    claimed("run-1", Math.floor(Date.now() / 1000));
    put(`${IMAGE}@sha256:${"1".repeat(64)}`, `sha256:${"1".repeat(64)}`, {});
    const started = Date.now();
    const result = run(shell, releaseScript(LABELS), { ...releaseEnv, PACKLINE_CLAIM_SECONDS: "2" });
    expect(result.code, result.stderr).toBe(0);
    // A lower bound only: a loaded machine can make the run slower, never the wait shorter.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    // After the wait the claim is read a second time (held still?); the count, not a clock, tells the two paths apart.
    expect(claimReads()).toBe(2);
    // an old claim: no wait, so the claim is read once
    claimed("run-1", 0);
    rmSync(join(dir, "reg", "calls"));
    expect(run(shell, releaseScript(LABELS), { ...releaseEnv, PACKLINE_CLAIM_SECONDS: "2" }).code).toBe(0);
    expect(claimReads()).toBe(1);
  });

  it("release: a staged image that cannot be read publishes nothing", () => {
    claimed();
    const result = run(shell, releaseScript(LABELS), releaseEnv);
    expect(result.code).toBe(EXIT.transient);
    expect(existsSync(join(dir, "reg", `${key(`${IMAGE}:1.2.3`)}.digest`))).toBe(false);
  });

  it("release: a report without a digest publishes nothing", () => {
    expect(run(shell, releaseScript(LABELS), { ...releaseEnv, PACKLINE_BUILD_REPORT: "[image]\n" }).code).toBe(EXIT.noDigest);
  });
});
