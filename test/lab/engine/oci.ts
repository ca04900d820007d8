/**
 * Minimal OCI image tooling for the lab's Dagger engine, with no dependency beyond Node and GNU tar:
 *
 *   tsx oci.ts layout <dir> <name> [--layer <tar>]... [--env K=V]... [--cmd <arg>]... [--workdir <path>]
 *       adds an image (uncompressed tar layers, linux/amd64) to the OCI layout <dir>, tagged <name> in index.json,
 *       and prints its manifest digest. The engine's built-in SDK content (/usr/local/share/dagger/content) is such
 *       a layout: the engine looks images up there by manifest digest only.
 *   tsx oci.ts push <dir> <name> <registry-host:port>/<repository>:<tag>
 *       pushes the image <name> of a layout to a plain-HTTP, anonymous registry (the lab's "images" registry), by
 *       the distribution API, and prints the manifest digest. Blobs the registry already has are not sent again.
 *
 * Why not crane: the SDK content has to be built before any registry runs (and on a clean machine, from a script),
 * and writing a layout is a few hashes and JSON files. Layers stay uncompressed: they are read from the local disk
 * only, and compressing 600 MB on 2 cores costs minutes for nothing.
 */
import { createHash } from "node:crypto";
import { copyFileSync, createReadStream, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";

const MT = {
  index: "application/vnd.oci.image.index.v1+json",
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar",
} as const;

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return `sha256:${h.digest("hex")}`;
}

/** The diff ID of an uncompressed layer is its digest. */
async function addBlobFile(dir: string, path: string, mediaType: string): Promise<Descriptor> {
  const digest = await sha256File(path);
  const dest = join(dir, "blobs", "sha256", digest.slice(7));
  if (!existsSync(dest)) {
    // copy through a temporary name so an interrupted run never leaves a blob whose bytes do not match its name
    const tmp = `${dest}.tmp`;
    copyFileSync(path, tmp);
    renameSync(tmp, dest);
  }
  return { mediaType, digest, size: statSync(dest).size };
}

function addBlobBytes(dir: string, bytes: Buffer, mediaType: string): Descriptor {
  const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  const dest = join(dir, "blobs", "sha256", digest.slice(7));
  if (!existsSync(dest)) writeFileSync(dest, bytes);
  return { mediaType, digest, size: bytes.length };
}

function readIndex(dir: string): { schemaVersion: 2; mediaType: string; manifests: Descriptor[] } {
  const p = join(dir, "index.json");
  if (!existsSync(p)) return { schemaVersion: 2, mediaType: MT.index, manifests: [] };
  return JSON.parse(readFileSync(p, "utf8"));
}

export async function addImage(
  dir: string,
  name: string,
  opts: { layers: string[]; env: string[]; cmd: string[]; workdir?: string },
): Promise<string> {
  mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const layers: Descriptor[] = [];
  for (const l of opts.layers) layers.push(await addBlobFile(dir, l, MT.layer));
  const config = {
    // created is fixed so that the same layers give the same digest (the cache keys of the engine follow digests)
    created: "1980-01-01T00:00:01Z",
    architecture: "amd64",
    os: "linux",
    config: {
      Env: opts.env,
      ...(opts.cmd.length ? { Cmd: opts.cmd } : {}),
      ...(opts.workdir ? { WorkingDir: opts.workdir } : {}),
    },
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
    history: layers.map(() => ({ created: "1980-01-01T00:00:01Z", created_by: "packline lab (test/lab/engine/oci.ts)" })),
  };
  const configDesc = addBlobBytes(dir, Buffer.from(JSON.stringify(config)), MT.config);
  const manifest = { schemaVersion: 2, mediaType: MT.manifest, config: configDesc, layers };
  const manifestDesc = addBlobBytes(dir, Buffer.from(JSON.stringify(manifest)), MT.manifest);
  const index = readIndex(dir);
  index.manifests = index.manifests.filter((m) => m.annotations?.["org.opencontainers.image.ref.name"] !== name);
  index.manifests.push({
    ...manifestDesc,
    annotations: { "org.opencontainers.image.ref.name": name },
  });
  writeFileSync(join(dir, "index.json"), JSON.stringify(index, null, 1));
  return manifestDesc.digest;
}

function blobPath(dir: string, digest: string): string {
  return join(dir, "blobs", "sha256", digest.replace(/^sha256:/, ""));
}

async function check(res: Response, what: string): Promise<Response> {
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${await res.text()}`);
  return res;
}

export async function pushImage(dir: string, name: string, target: string): Promise<string> {
  const m = /^([^/]+)\/(.+):([^:/]+)$/.exec(target);
  if (!m) throw new Error(`push target must be host:port/repository:tag, got ${target}`);
  const [, host, repo, tag] = m;
  const base = `http://${host}/v2/${repo}`;
  const desc = readIndex(dir).manifests.find((d) => d.annotations?.["org.opencontainers.image.ref.name"] === name);
  if (!desc) throw new Error(`no image named ${name} in ${dir}`);
  const manifestBytes = readFileSync(blobPath(dir, desc.digest));
  const manifest = JSON.parse(manifestBytes.toString("utf8")) as { config: Descriptor; layers: Descriptor[] };
  for (const blob of [manifest.config, ...manifest.layers]) {
    const head = await fetch(`${base}/blobs/${blob.digest}`, { method: "HEAD" });
    if (head.ok) continue;
    const start = await check(await fetch(`${base}/blobs/uploads/`, { method: "POST" }), `start upload to ${host}/${repo}`);
    const loc = new URL(start.headers.get("location") ?? "", `http://${host}`);
    loc.searchParams.set("digest", blob.digest);
    // a monolithic PUT with a streamed body (a Go module cache layer is larger than one Buffer should hold): the distribution registry accepts it, and nothing is held in memory
    await check(
      await fetch(loc, {
        method: "PUT",
        headers: { "content-type": "application/octet-stream", "content-length": String(blob.size) },
        body: Readable.toWeb(createReadStream(blobPath(dir, blob.digest))) as unknown as BodyInit,
        duplex: "half",
      } as RequestInit),
      `upload ${blob.digest} to ${host}/${repo}`,
    );
  }
  await check(
    await fetch(`${base}/manifests/${tag}`, { method: "PUT", headers: { "content-type": MT.manifest }, body: manifestBytes }),
    `put manifest ${target}`,
  );
  return desc.digest;
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  if (cmd === "layout") {
    const [dir, name, ...flags] = rest;
    const opts = { layers: [] as string[], env: [] as string[], cmd: [] as string[], workdir: undefined as string | undefined };
    for (let i = 0; i < flags.length; i += 2) {
      const v = flags[i + 1];
      if (v === undefined) throw new Error(`${flags[i]} needs a value`);
      if (flags[i] === "--layer") opts.layers.push(v);
      else if (flags[i] === "--env") opts.env.push(v);
      else if (flags[i] === "--cmd") opts.cmd.push(v);
      else if (flags[i] === "--workdir") opts.workdir = v;
      else throw new Error(`unknown flag ${flags[i]}`);
    }
    if (!dir || !name) throw new Error("usage: oci.ts layout <dir> <name> [--layer tar]...");
    console.log(await addImage(dir, name, opts));
  } else if (cmd === "push") {
    const [dir, name, target] = rest;
    if (!dir || !name || !target) throw new Error("usage: oci.ts push <dir> <name> <host:port/repo:tag>");
    console.log(await pushImage(dir, name, target));
  } else {
    throw new Error("usage: oci.ts layout|push ...");
  }
}

if (process.argv[1] && /oci\.ts$/.test(process.argv[1])) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(`oci.ts: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
