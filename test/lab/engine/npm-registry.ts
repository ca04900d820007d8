/**
 * A small read-only npm registry for the lab's Dagger engine: the TypeScript runtime runs `npm install --omit=dev`
 * (or yarn) inside the module container, whose only network is the lab. Its node image names this registry
 * (NPM_CONFIG_REGISTRY=http://10.123.0.1:4873/, test/lab/engine/sdk-content.sh).
 *
 *   tsx npm-registry.ts serve <pool-dir> <host> <port> <base-url>
 *       serves every <pool-dir>/*.tgz: packuments (GET /<name>, /@scope%2fname) built from each tarball's own
 *       package.json, and the tarballs (GET /<name>/-/<file>). A package asked for and missing is logged with
 *       "MISSING" (the fix is to pack it), and the pool is read again on a miss, so tarballs packed after the start
 *       are served too.
 *   tsx npm-registry.ts pack <package-lock.json> <pool-dir> [<name@version>...]
 *       packs from the npm registry, into the pool, every package a production install of that lock needs (what
 *       `npm install --omit=dev` fetches), plus the extra specs. @dagger.io/dagger and its own dependencies are left
 *       out: the Dagger runtime removes it from the module's package.json and uses its generated sdk/ instead.
 *
 * The tarballs are the registry's own bytes (`npm pack <name>@<version>` downloads them as they are), so the lock's
 * integrity hashes match.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";

interface Packument {
  name: string;
  "dist-tags": { latest: string };
  versions: Record<string, Record<string, unknown>>;
  files: Record<string, string>;
}

/** Reads package/package.json out of an npm tarball (gzip'd ustar; no dependency needed for that). */
export function packageJsonOf(tgz: Buffer): Record<string, unknown> {
  const tar = gunzipSync(tgz);
  for (let off = 0; off + 512 <= tar.length; ) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const field = (s: number, n: number) =>
      header
        .subarray(s, s + n)
        .toString("utf8")
        .replace(/\0.*$/s, "");
    const name = (field(345, 155) ? `${field(345, 155)}/` : "") + field(0, 100);
    const size = parseInt(field(124, 12).trim() || "0", 8);
    const type = field(156, 1);
    off += 512;
    // the package's root folder is "package/" in npm tarballs, but some publishers used other names
    if ((type === "0" || type === "") && /^[^/]+\/package\.json$/.test(name)) {
      return JSON.parse(tar.subarray(off, off + size).toString("utf8"));
    }
    off += Math.ceil(size / 512) * 512;
  }
  throw new Error("no package.json in tarball");
}

function compare(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((x) => (/^\d+$/.test(x) ? Number(x) : x));
  const pb = b.split(/[.-]/).map((x) => (/^\d+$/.test(x) ? Number(x) : x));
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? -1,
      y = pb[i] ?? -1;
    if (x === y) continue;
    if (typeof x === "number" && typeof y === "number") return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return 0;
}

export function loadPool(dir: string, base: string): Map<string, Packument> {
  const pk = new Map<string, Packument>();
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith(".tgz")) continue;
    const path = join(dir, f);
    const bytes = readFileSync(path);
    const man = packageJsonOf(bytes);
    const name = String(man.name),
      version = String(man.version);
    const e = pk.get(name) ?? { name, "dist-tags": { latest: version }, versions: {}, files: {} };
    e.versions[version] = {
      ...man,
      _id: `${name}@${version}`,
      dist: {
        tarball: `${base}/${name}/-/${f}`,
        shasum: createHash("sha1").update(bytes).digest("hex"),
        integrity: `sha512-${createHash("sha512").update(bytes).digest("base64")}`,
      },
    };
    e.files[f] = path;
    if (compare(version, e["dist-tags"].latest) > 0 && !version.includes("-")) e["dist-tags"].latest = version;
    pk.set(name, e);
  }
  return pk;
}

function serve(dir: string, host: string, port: number, base: string): void {
  base = base.replace(/\/$/, "");
  let pool = loadPool(dir, base);
  const log = (msg: string) => process.stderr.write(`npm-registry ${new Date().toISOString()} ${msg}\n`);
  log(`serving ${pool.size} packages from ${dir} at ${base}`);
  createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? "/").split("?")[0]).replace(/^\/+/, "");
    const reply = (status: number, type: string, body: Buffer | string) => {
      res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
      res.end(req.method === "HEAD" ? undefined : body);
      log(`${req.method} /${path} ${status}`);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return reply(501, "application/json", '{"error":"read-only"}');
    const find = (name: string) => {
      if (!pool.has(name)) pool = loadPool(dir, base);
      return pool.get(name);
    };
    const sep = path.indexOf("/-/");
    if (sep > 0) {
      const e = find(path.slice(0, sep));
      const file = e?.files[path.slice(sep + 3)];
      if (file) return reply(200, "application/octet-stream", readFileSync(file));
    } else {
      const e = find(path);
      if (e) {
        const { files: _files, ...doc } = e;
        return reply(200, "application/json", JSON.stringify(doc));
      }
    }
    // npm also asks for its own update check and the audit endpoint: a 404 is harmless there
    if (!path.startsWith("-/") && path !== "npm") log(`MISSING ${path}`);
    reply(404, "application/json", '{"error":"not found"}');
  }).listen(port, host, () => log(`listening on ${host}:${port}`));
}

interface LockEntry {
  version?: string;
  dev?: boolean;
  optional?: boolean;
  link?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  os?: string[];
  cpu?: string[];
}

/**
 * The name@version list a production install of a package-lock v2/v3 fetches, from the root's dependencies, walking
 * node_modules resolution (nearest node_modules/<name> upwards) as npm lays the tree out. Packages for another OS or
 * CPU are left out (npm skips optional ones, and this runs on linux/x64 only).
 */
export function productionClosure(lock: { packages: Record<string, LockEntry> }, skip: Set<string>): string[] {
  const pkgs = lock.packages;
  const root = pkgs[""] ?? {};
  const out = new Map<string, string>();
  const resolve = (from: string, name: string): string | undefined => {
    for (let dir = from; ; ) {
      const p = `${dir ? `${dir}/` : ""}node_modules/${name}`;
      if (pkgs[p]) return p;
      if (!dir) return undefined;
      const i = dir.lastIndexOf("/node_modules/");
      dir = i < 0 ? "" : dir.slice(0, i);
    }
  };
  const fits = (e: LockEntry) =>
    (!e.os || e.os.some((o) => o === "linux" || (o.startsWith("!") && o !== "!linux"))) &&
    (!e.cpu || e.cpu.some((c) => c === "x64" || (c.startsWith("!") && c !== "!x64")));
  const visit = (from: string, deps: Record<string, string>, optional: boolean) => {
    for (const name of Object.keys(deps)) {
      if (skip.has(name)) continue;
      const p = resolve(from, name);
      if (!p) {
        if (optional) continue;
        throw new Error(`the lock has no entry for ${name} (needed from ${from || "the root"})`);
      }
      const e = pkgs[p];
      if (e.link || out.has(p) || !fits(e)) continue;
      out.set(p, `${name}@${e.version}`);
      visit(p, e.dependencies ?? {}, false);
      visit(p, e.optionalDependencies ?? {}, true);
      const peers = Object.fromEntries(Object.entries(e.peerDependencies ?? {}).filter(([n]) => !e.peerDependenciesMeta?.[n]?.optional));
      visit(p, peers, true);
    }
  };
  visit("", root.dependencies ?? {}, false);
  visit("", root.optionalDependencies ?? {}, true);
  return [...new Set(out.values())].sort();
}

/** The file name `npm pack` gives a registry package: @scope/name@1.0.0 -> scope-name-1.0.0.tgz. */
export function packFileName(spec: string): string {
  const at = spec.lastIndexOf("@");
  return `${spec.slice(0, at).replace(/^@/, "").replace("/", "-")}-${spec.slice(at + 1)}.tgz`;
}

function pack(lockPath: string, dir: string, extra: string[]): void {
  const lock = JSON.parse(readFileSync(lockPath, "utf8"));
  const specs = [...new Set([...productionClosure(lock, new Set(["@dagger.io/dagger"])), ...extra])];
  mkdirSync(dir, { recursive: true });
  const missing = specs.filter((s) => !existsSync(join(dir, packFileName(s))));
  if (missing.length) {
    execFileSync("npm", ["pack", "--silent", ...missing], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
  }
  for (const s of specs) {
    if (!existsSync(join(dir, packFileName(s)))) throw new Error(`npm pack ${s} did not give ${packFileName(s)}`);
  }
  process.stderr.write(`npm-registry: ${specs.length} packages in ${dir} (${missing.length} packed now)\n`);
}

if (process.argv[1] && /npm-registry\.ts$/.test(process.argv[1])) {
  const [cmd, ...a] = process.argv.slice(2);
  try {
    if (cmd === "serve" && a.length === 4) serve(a[0], a[1], Number(a[2]), a[3]);
    else if (cmd === "pack" && a.length >= 2) pack(a[0], a[1], a.slice(2));
    else throw new Error("usage: npm-registry.ts serve <dir> <host> <port> <base-url> | pack <lock> <dir> [spec...]");
  } catch (e) {
    process.stderr.write(`npm-registry: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
