/**
 * Kubernetes' own expansion of `$(VAR)` and `$$` in containers' env values, command and args (tools/kubernetes/expand:
 * k8s.io/kubernetes/third_party/forked/golang/expansion of the release the lab runs, in the kubelet's order).
 *
 * Built with `go build` in tools/kubernetes on first use (the Go build cache makes later builds take about a second;
 * a cold one downloads k8s.io/kubernetes' module from the Go module proxy and takes about a minute).
 */
import { execFile } from "node:child_process";
import { mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Json } from "./argo-lint.js";

const MODULE = fileURLToPath(new URL("../../tools/kubernetes/", import.meta.url));
export const K8S_EXPAND_BUILD_TIMEOUT_MS = 10 * 60 * 1000;

function run(file: string, args: string[], options: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv; timeout: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { ...options, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(" ")}: ${error.message}\n${stderr}`));
      else resolve(String(stdout));
    });
    child.stdin?.end(options.input ?? "");
  });
}

let binary: Promise<string> | undefined;

export function ensureK8sExpand(): Promise<string> {
  binary ??= (async () => {
    const dir = join(process.env.PACKLINE_TOOLS_CACHE ?? join(homedir(), ".cache", "packline"), "bin");
    mkdirSync(dir, { recursive: true });
    const bin = join(dir, "k8s-expand");
    const go = process.env.PATH?.split(":").some((p) => p.endsWith("/go/bin")) ? "go" : "/usr/local/go/bin/go";
    await run(go, ["build", "-trimpath", "-o", bin, "./expand"], {
      cwd: MODULE,
      env: { ...process.env, GOFLAGS: "-mod=readonly -buildvcs=false", CGO_ENABLED: "0" },
      timeout: K8S_EXPAND_BUILD_TIMEOUT_MS,
    });
    return bin;
  })();
  binary.catch(() => {
    binary = undefined;
  });
  return binary;
}

/** The containers (name, env, command, args) as the kubelet starts them. */
export async function kubeletExpand(containers: readonly Json[]): Promise<Json[]> {
  const input = containers.map((c) => ({ name: c.name, env: c.env, command: c.command, args: c.args }));
  return JSON.parse(await run(await ensureK8sExpand(), [], { input: JSON.stringify(input), timeout: 60_000 }));
}
