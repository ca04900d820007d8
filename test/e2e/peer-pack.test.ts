/**
 * Issue 4, point 6: the peer. `pack build --publish --trust-builder` with the same builder, app, registry, build-time
 * env and creation time; both images are read back from the registry (manifests, configs, app layer contents) and
 * compared. The test asserts what must be equal (run image layers, buildpack and lifecycle layers, the app's files,
 * entrypoint, user, created) and that the differences are exactly the known ones, each printed with its reason.
 * Findings: test/e2e/PEER.md.
 */
import { chmodSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PLATFORM_API } from "../../src/core/plan/planner.js";
import { copySource, e2eState, packBuild, registryClient, removeTree, splitReference, uniqueRepository } from "./harness.js";
import { GREETING, planFor, runBuildStep } from "./packline.js";

const CREATION_TIME = "1700000000";

interface TarEntry {
  readonly name: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtime: number;
  readonly type: string;
  readonly size: number;
  readonly content: string;
}

/** The entries of a gzipped tar layer (ustar + PAX `path`), with their metadata and (small) contents. */
function tarEntries(gz: Buffer): TarEntry[] {
  const tar = gunzipSync(gz);
  const entries: TarEntry[] = [];
  let paxPath: string | undefined;
  const field = (b: Buffer, start: number, len: number) =>
    b
      .subarray(start, start + len)
      .toString("utf8")
      .replace(/\0.*$/s, "");
  const octal = (b: Buffer, start: number, len: number) => parseInt(field(b, start, len).trim() || "0", 8);
  for (let off = 0; off + 512 <= tar.length; ) {
    const h = tar.subarray(off, off + 512);
    if (h.every((x) => x === 0)) break;
    const size = octal(h, 124, 12);
    const type = String.fromCharCode(h[156]!) || "0";
    const body = tar.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === "x") {
      paxPath = /\d+ path=([^\n]*)\n/.exec(body.toString("utf8"))?.[1];
      continue;
    }
    const prefix = field(h, 345, 155);
    const name = paxPath ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100));
    paxPath = undefined;
    entries.push({
      name,
      mode: octal(h, 100, 8),
      uid: octal(h, 108, 8),
      gid: octal(h, 116, 8),
      mtime: octal(h, 136, 12),
      type,
      size,
      content: body.toString("utf8"),
    });
  }
  return entries;
}

interface Image {
  readonly repository: string;
  readonly digest: string;
  readonly manifest: any;
  readonly config: any;
  /** Layer digests by history `created_by` (e.g. "Application Layer"), in order. */
  readonly layers: { readonly name: string; readonly digest: string }[];
}

async function readImage(repository: string, reference: string): Promise<Image> {
  const registry = registryClient();
  const m = await registry.manifest(repository, reference);
  const config = await registry.imageConfig(repository, reference);
  const history = (config.history as { created_by?: string; comment?: string; empty_layer?: boolean }[]).filter((h) => !h.empty_layer);
  expect(history).toHaveLength(m.body.layers.length);
  const layers = (m.body.layers as { digest: string }[]).map((l, i) => ({
    name: history[i]!.created_by ?? history[i]!.comment ?? `#${i}`,
    digest: l.digest,
  }));
  return { repository, digest: m.digest, manifest: m.body, config, layers };
}

async function blob(repository: string, digest: string): Promise<Buffer> {
  const res = await registryClient().request("GET", `/v2/${repository}/blobs/${digest}`);
  if (!res.ok) throw new Error(`GET blob ${digest}: HTTP ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

interface Difference {
  readonly what: string;
  readonly packline: string;
  readonly pack: string;
}

/** Every difference between two JSON values, by path (objects by key, arrays by index). */
function jsonDifferences(path: string, a: unknown, b: unknown, out: Difference[]): void {
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  if (a && b && typeof a === "object" && typeof b === "object" && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
    for (const k of [...keys].sort()) jsonDifferences(`${path}.${k}`, (a as any)[k], (b as any)[k], out);
    return;
  }
  out.push({ what: path, packline: a === undefined ? "(absent)" : JSON.stringify(a), pack: b === undefined ? "(absent)" : JSON.stringify(b) });
}

/** The config fields and labels compared (JSON labels parsed, so a difference names the field inside). */
function comparable(config: any): unknown {
  const labels: Record<string, unknown> = {};
  for (const [k, v] of Object.entries<string>(config.config.Labels ?? {})) {
    try {
      labels[k] = k.startsWith("io.buildpacks.") && v.startsWith("{") ? JSON.parse(v) : v;
    } catch {
      labels[k] = v;
    }
  }
  return {
    created: config.created,
    architecture: config.architecture,
    os: config.os,
    history: config.history,
    Entrypoint: config.config.Entrypoint,
    Cmd: config.config.Cmd,
    Env: Object.fromEntries((config.config.Env as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)])),
    User: config.config.User,
    WorkingDir: config.config.WorkingDir,
    Labels: labels,
  };
}

/** Why each known difference exists (keys: the difference's path; a layer difference is keyed by its layer name). */
const REASONS: Record<string, string> = {
  "layer Application Layer":
    "the app layer records /workspace's own mode: pack copies the app with its root tar header mode forced to 0777 (pack pkg/archive WriteDirToTar, includeRoot with mode -1 -> os.ModePerm); packline mounts the source as it is (0755 here, like a git checkout). The files inside are identical.",
  "config.Env.CNB_PLATFORM_API": `packline asks the creator for Platform API ${PLATFORM_API} (src/core/plan/constants.ts PLATFORM_API, the lowest with everything it uses); pack negotiates the highest both pack and the lifecycle support.`,
  "config.Labels.io.buildpacks.exec-env":
    "pack sets CNB_EXEC_ENV=production (Platform API 0.15's execution environment), which the exporter records as a label; packline's Platform API 0.13 has no execution environment.",
  "config.Labels.io.buildpacks.lifecycle.metadata.app.0.sha": "the app layer's diff id (see the app layer).",
  "config.rootfs": "the diff ids of the layers: only the app layer's differs (see the app layer).",
  "manifest.config": "the config blob differs (see the config rows), so its digest and size do.",
  "manifest.digest": "follows from the config and the app layer.",
};

describe("peer: pack build --publish vs packline (issue 4: 6)", () => {
  const s = e2eState();
  const packRepository = uniqueRepository("e2e/peer-pack");
  const packlineRepository = uniqueRepository("e2e/peer-packline");
  const packline777Repository = uniqueRepository("e2e/peer-packline-0777");
  const cleanups: (() => void)[] = [];
  let pack: Image;
  let packline: Image;
  let packlineDigest: string;

  beforeAll(async () => {
    const source = copySource();
    cleanups.push(() => removeTree(source));
    const packRun = await packBuild({
      image: `${s.registry}/${packRepository}:1.2.3`,
      path: source,
      env: { GREETING },
      extraArgs: ["--creation-time", CREATION_TIME],
    });
    expect(packRun.exitCode, packRun.stdout + packRun.stderr).toBe(0);
    expect(packRun.stdout).toContain(`---> build-time env GREETING=${GREETING}`);

    const build = await runBuildStep(planFor(packlineRepository, { creationTime: CREATION_TIME }));
    expect(build.run.exitCode, build.run.output).toBe(0);
    packlineDigest = build.report!.digest;
    pack = await readImage(packRepository, "1.2.3");
    packline = await readImage(packlineRepository, "packline-staging");
  });

  afterAll(() => {
    for (const cleanup of cleanups) cleanup();
  });

  it("equal: run image layers, buildpack, SBOM and lifecycle layers, entrypoint, user, workdir, created", async () => {
    expect(packline.digest).toBe(packlineDigest);
    const run = splitReference(s.runImage);
    const runManifest = await registryClient(run.registry, null).manifest(run.repository, run.reference);
    const runLayers = (runManifest.body.layers as { digest: string }[]).map((l) => l.digest);
    expect(packline.layers.slice(0, runLayers.length).map((l) => l.digest)).toEqual(runLayers);
    expect(pack.layers.slice(0, runLayers.length).map((l) => l.digest)).toEqual(runLayers);

    expect(packline.layers.map((l) => l.name)).toEqual(pack.layers.map((l) => l.name));
    const differing = packline.layers.filter((l, i) => l.digest !== pack.layers[i]!.digest).map((l) => l.name);
    expect(differing).toEqual(["Application Layer"]);

    for (const image of [pack, packline]) {
      expect(image.config.created).toBe("2023-11-14T22:13:20Z");
      expect(image.config.config.Entrypoint).toEqual(["/cnb/process/web"]);
      expect(image.config.config.User).toBe(`${s.cnbUserId}:${s.cnbGroupId}`);
      expect(image.config.config.WorkingDir).toBe("/workspace");
    }
  });

  it("the app layers hold the same files; only /workspace's own mode differs, and a 0777 source gives pack's very layer", async () => {
    const appLayer = (image: Image) => image.layers.find((l) => l.name === "Application Layer")!.digest;
    const ours = tarEntries(await blob(packlineRepository, appLayer(packline)));
    const theirs = tarEntries(await blob(packRepository, appLayer(pack)));
    const strip = (e: TarEntry) => ({ ...e, mode: e.name.replace(/\/$/, "") === "/workspace" ? "root" : e.mode });
    expect(ours.map(strip)).toEqual(theirs.map(strip));
    const root = (entries: TarEntry[]) => entries.find((e) => e.name.replace(/\/$/, "") === "/workspace")!.mode;
    expect(root(ours).toString(8)).toBe("755");
    expect(root(theirs).toString(8)).toBe("777");
    expect(ours.find((e) => e.name === "/workspace/index.html")?.content).toContain("packline-e2e-fixture-ok");

    // the same source in a 0777 directory: packline's app layer is then pack's, byte for byte
    const source = copySource();
    cleanups.push(() => removeTree(source));
    chmodSync(source, 0o777);
    const build = await runBuildStep(planFor(packline777Repository, { creationTime: CREATION_TIME }), { source });
    expect(build.run.exitCode, build.run.output).toBe(0);
    const same = await readImage(packline777Repository, "packline-staging");
    expect(appLayer(same)).toBe(appLayer(pack));
  });

  it("the differences are exactly the known ones (printed with their reasons)", () => {
    const differences: Difference[] = [];
    packline.layers.forEach((l, i) => {
      if (l.digest !== pack.layers[i]!.digest) differences.push({ what: `layer ${l.name}`, packline: l.digest, pack: pack.layers[i]!.digest });
    });
    jsonDifferences("config", comparable(packline.config), comparable(pack.config), differences);
    if (JSON.stringify(packline.config.rootfs) !== JSON.stringify(pack.config.rootfs)) {
      differences.push({ what: "config.rootfs", packline: "diff_ids", pack: "diff_ids (one differs)" });
    }
    if (packline.manifest.config.digest !== pack.manifest.config.digest) {
      differences.push({ what: "manifest.config", packline: packline.manifest.config.digest, pack: pack.manifest.config.digest });
    }
    if (packline.digest !== pack.digest) differences.push({ what: "manifest.digest", packline: packline.digest, pack: pack.digest });

    const short = (v: string) => (v.length > 40 ? `${v.slice(0, 37)}...` : v);
    const rows = differences.map((d) => `| ${d.what} | ${short(d.packline)} | ${short(d.pack)} | ${REASONS[d.what] ?? "UNEXPLAINED"} |`);
    console.log(
      [
        `packline (Platform API ${PLATFORM_API}, creator run from the plan) vs pack ${s.packVersion} (lifecycle ${s.lifecycleVersion}), creation time ${CREATION_TIME}:`,
        "| what | packline | pack | why |",
        "|---|---|---|---|",
        ...rows,
      ].join("\n"),
    );
    expect(
      differences.filter((d) => !(d.what in REASONS)),
      "differences without a known reason",
    ).toEqual([]);
    expect(differences.map((d) => d.what).sort()).toEqual(Object.keys(REASONS).sort());
    expect(differences.find((d) => d.what === "config.Env.CNB_PLATFORM_API")).toEqual({
      what: "config.Env.CNB_PLATFORM_API",
      packline: JSON.stringify(PLATFORM_API),
      pack: JSON.stringify(s.platformApis[s.platformApis.length - 1]),
    });
  });
});
