#!/usr/bin/env node
/**
 * A fake `crane` for the rebase scripts' tests (not a test file): a registry kept in one JSON file, with real
 * manifests, configs and digests (sha256 of the documents), answering what the scripts call: config, manifest,
 * digest, push (the claim), append, mutate --label, edit config (stdin), tag. Written as a Node program the scripts run in
 * place of /ko-app/crane. CRANE_FAIL=<message> makes every call fail with that message.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const sha = (text) => `sha256:${createHash("sha256").update(text).digest("hex")}`;

/** Puts an image (manifest + config) into the registry; returns the manifest digest. */
function putImage(reg, config, layers) {
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

function split(ref) {
  const at = ref.indexOf("@");
  if (at >= 0) return { repo: ref.slice(0, at), digest: ref.slice(at + 1) };
  const colon = ref.lastIndexOf(":");
  if (colon > ref.lastIndexOf("/")) return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repo: ref, tag: "latest" };
}

/** The fake's main: `node <this file> <crane args>` with REG naming the registry file (a JSON {tags, blobs}). */
function main(argv) {
  const file = process.env.REG;
  const reg = JSON.parse(readFileSync(file, "utf8"));
  const args = argv.filter((a) => a !== "--insecure");
  const calls = (process.env.REG_CALLS && readFileSync(process.env.REG_CALLS, "utf8")) || "";
  if (process.env.REG_CALLS) writeFileSync(process.env.REG_CALLS, `${calls}${args.join(" ")}\n`);
  if (process.env.CRANE_FAIL) {
    process.stderr.write(`${process.env.CRANE_FAIL}\n`);
    return 1;
  }
  const resolve = (ref) => {
    const { repo, tag, digest } = split(ref);
    const d = digest ?? reg.tags[`${repo}:${tag}`];
    return d !== undefined && reg.blobs[d] !== undefined ? d : undefined;
  };
  const unknown = (ref) => {
    process.stderr.write(`GET ${ref}: MANIFEST_UNKNOWN: manifest unknown\n`);
    return 1;
  };
  const push = (manifest, configText) => {
    const configDigest = sha(configText);
    reg.blobs[configDigest] = configText;
    manifest.config = { ...manifest.config, digest: configDigest, size: configText.length };
    const text = JSON.stringify(manifest);
    const digest = sha(text);
    reg.blobs[digest] = text;
    return digest;
  };
  const save = () => writeFileSync(file, JSON.stringify(reg));
  const [cmd, ...rest] = args;
  switch (cmd) {
    case "config":
    case "manifest":
    case "digest": {
      const d = resolve(rest[0]);
      if (!d) return unknown(rest[0]);
      const manifest = JSON.parse(reg.blobs[d]);
      process.stdout.write(cmd === "digest" ? `${d}\n` : cmd === "manifest" ? reg.blobs[d] : reg.blobs[manifest.config.digest]);
      return 0;
    }
    case "append": {
      const target = rest[rest.indexOf("-t") + 1];
      const { repo, tag } = split(target);
      reg.tags[`${repo}:${tag}`] = putImage(reg, { created: "1980-01-01T00:00:01Z", config: {} }, [sha(`claim-${Math.random()}`)]);
      save();
      return 0;
    }
    case "push": {
      // the claim: a docker-style image tarball (scripts.ts, claim), its config read from it as crane reads it
      const config = JSON.parse(execFileSync("tar", ["-xOf", rest[0], "config.json"], { encoding: "utf8" }));
      const { repo, tag } = split(rest[1]);
      reg.tags[`${repo}:${tag}`] = putImage(reg, config, [sha(`claim-${Math.random()}`)]);
      save();
      return 0;
    }
    case "mutate": {
      const src = rest[0];
      const d = resolve(src);
      if (!d) return unknown(src);
      const manifest = JSON.parse(reg.blobs[d]);
      const config = JSON.parse(reg.blobs[manifest.config.digest]);
      let tag;
      for (let i = 1; i < rest.length; i++) {
        if (rest[i] === "--label") {
          const [k, ...v] = rest[++i].split("=");
          config.config.Labels = Object.fromEntries(
            Object.entries({ ...config.config.Labels, [k]: v.join("=") }).sort(([a], [b]) => (a < b ? -1 : 1)),
          );
        } else if (rest[i] === "--tag") tag = rest[++i];
      }
      const { repo } = split(src);
      const digest = push(manifest, JSON.stringify(config));
      if (tag) reg.tags[tag.includes(":", tag.lastIndexOf("/")) ? tag : `${tag}:latest`] = digest;
      save();
      process.stdout.write(`${repo}@${digest}\n`);
      return 0;
    }
    case "edit": {
      const src = rest[1];
      const d = resolve(src);
      if (!d) return unknown(src);
      const manifest = JSON.parse(reg.blobs[d]);
      const digest = push(manifest, readFileSync(0, "utf8"));
      save();
      process.stdout.write(`${split(src).repo}@${digest}\n`);
      return 0;
    }
    case "tag": {
      const d = resolve(rest[0]);
      if (!d) return unknown(rest[0]);
      reg.tags[`${split(rest[0]).repo}:${rest[1]}`] = d;
      save();
      return 0;
    }
    default:
      process.stderr.write(`fake crane: ${cmd} is not faked\n`);
      return 2;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exit(main(process.argv.slice(2)));
