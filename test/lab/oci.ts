/**
 * Writes a single-platform (linux/amd64) OCI image layout from layer tarballs, with no daemon and no registry:
 * `tsx test/lab/oci.ts <spec.json>...` (test/lab/build/images.sh makes the specs). The output depends only on the
 * inputs (fixed `created`, no host names, sorted JSON keys, gzip without a timestamp), so the same layers and config
 * give the same digest on every run; images.sh keys its cache on that.
 *
 * Spec: { out, base?, layers: [{ tar, comment }], config: { Env?, Entrypoint?, Cmd?, User?, WorkingDir?, Labels?,
 * ExposedPorts? }, created? }. `base` is another layout this script wrote: its layers come first, its config is the
 * starting point (fields given in `config` replace the base's). Prints the manifest digest.
 */
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

/** What buildpacks images use too: 1980-01-01T00:00:01Z, the earliest time a zip (and so a jar) can hold. */
export const FIXED_CREATED = "1980-01-01T00:00:01Z";

const MEDIA = {
  index: "application/vnd.oci.image.index.v1+json",
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar+gzip",
} as const;

export interface ImageConfigFields {
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  User?: string;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  ExposedPorts?: Record<string, Record<string, never>>;
}

export interface ImageSpec {
  readonly out: string;
  readonly base?: string;
  readonly layers: readonly { readonly tar: string; readonly comment: string }[];
  readonly config: ImageConfigFields;
  readonly created?: string;
}

interface ImageManifest {
  layers: Descriptor[];
  config: Descriptor;
}

interface ImageConfig {
  config: Record<string, unknown>;
  rootfs: { diff_ids: string[] };
  history: { created: string; created_by: string; comment?: string }[];
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string };
}

/** JSON with object keys sorted at every level, so equal values give equal bytes. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

const sha256 = (data: Buffer | string) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

function blobPath(layout: string, digest: string): string {
  return join(layout, "blobs", "sha256", digest.slice("sha256:".length));
}

function writeBlob(layout: string, data: Buffer | string, mediaType: string): Descriptor {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const digest = sha256(bytes);
  const path = blobPath(layout, digest);
  if (!existsSync(path)) writeFileSync(path, bytes);
  return { mediaType, digest, size: bytes.length };
}

/** The manifest and config of a layout's only image. */
export function readLayout(layout: string): { manifest: ImageManifest; config: ImageConfig; digest: string } {
  const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8")) as { manifests?: Descriptor[] };
  if (!Array.isArray(index.manifests) || index.manifests.length !== 1) throw new Error(`${layout}: expected one image in index.json`);
  const digest = index.manifests[0]!.digest;
  const manifest = JSON.parse(readFileSync(blobPath(layout, digest), "utf8")) as ImageManifest;
  const config = JSON.parse(readFileSync(blobPath(layout, manifest.config.digest), "utf8")) as ImageConfig;
  return { manifest, config, digest };
}

export function buildImage(spec: ImageSpec): string {
  const created = spec.created ?? FIXED_CREATED;
  const tmp = `${spec.out}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, "blobs", "sha256"), { recursive: true });

  const layers: Descriptor[] = [];
  const diffIds: string[] = [];
  const history: { created: string; created_by: string; comment?: string }[] = [];
  let config: Record<string, unknown> = {};
  if (spec.base) {
    const base = readLayout(spec.base);
    for (const layer of base.manifest.layers) {
      copyFileSync(blobPath(spec.base, layer.digest), blobPath(tmp, layer.digest));
      layers.push({ mediaType: layer.mediaType, digest: layer.digest, size: layer.size });
    }
    diffIds.push(...base.config.rootfs.diff_ids);
    history.push(...base.config.history);
    config = { ...base.config.config };
  }
  for (const layer of spec.layers) {
    const tar = readFileSync(layer.tar);
    diffIds.push(sha256(tar));
    // level 9: layers are written once and read many times; gzip output is fixed for fixed input and level
    layers.push(writeBlob(tmp, gzipSync(tar, { level: 9 }), MEDIA.layer));
    history.push({ created, created_by: layer.comment });
  }
  for (const [key, value] of Object.entries(spec.config)) {
    if (value === null) delete config[key];
    else config[key] = value;
  }

  const configBlob = writeBlob(
    tmp,
    canonical({ architecture: "amd64", os: "linux", created, config, rootfs: { type: "layers", diff_ids: diffIds }, history }),
    MEDIA.config,
  );
  const manifest = writeBlob(tmp, canonical({ schemaVersion: 2, mediaType: MEDIA.manifest, config: configBlob, layers }), MEDIA.manifest);
  writeFileSync(
    join(tmp, "index.json"),
    canonical({ schemaVersion: 2, mediaType: MEDIA.index, manifests: [{ ...manifest, platform: { architecture: "amd64", os: "linux" } }] }),
  );
  writeFileSync(join(tmp, "oci-layout"), canonical({ imageLayoutVersion: "1.0.0" }));
  rmSync(spec.out, { recursive: true, force: true });
  renameSync(tmp, spec.out);
  return manifest.digest;
}

if (process.argv[1] && /oci\.ts$/.test(process.argv[1])) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error("usage: tsx test/lab/oci.ts <spec.json>...   (in order: a base before the images on it)");
    process.exit(2);
  }
  for (const file of files) console.log(buildImage(JSON.parse(readFileSync(file, "utf8")) as ImageSpec));
}
