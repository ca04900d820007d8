/**
 * Calls the Dagger object's functions (src/index.ts) as the engine does: positionally, in the declared order, with
 * named arguments mapped onto that order. test/dagger/surface.test.ts checks these orders against what the SDK's
 * introspector reads from src/index.ts, so a reordered signature fails there instead of passing wrong values here.
 */
import { dag } from "@dagger.io/dagger";
import { type BuildResult, Packline } from "../../../src/index.js";

export const BUILD_ARGUMENTS = [
  "tag",
  "context",
  "source",
  "repo",
  "ref",
  "image",
  "builder",
  "runImage",
  "env",
  "buildpack",
  "revision",
  "registryUsername",
  "registryPassword",
  "cacheImage",
  "clearCache",
  "creationTime",
  "floatingTags",
  "latest",
  "insecureRegistry",
  "allowOverwrite",
] as const;

export const ARGO_ARGUMENTS = [
  "repo",
  "image",
  "tag",
  "ref",
  "builder",
  "runImage",
  "env",
  "buildpack",
  "registrySecret",
  "cacheImage",
  "clearCache",
  "creationTime",
  "floatingTags",
  "latest",
  "insecureRegistry",
  "allowOverwrite",
  "buildUser",
  "kind",
  "executor",
  "name",
  "namespace",
  "serviceAccount",
  "gitSecret",
  "cachePvc",
  "workspaceSize",
  "cpuRequest",
  "memoryRequest",
  "cpuLimit",
  "memoryLimit",
  "retries",
  "deadline",
  "podGc",
  "sbomArtifact",
] as const;

type BuildParams = Parameters<Packline["build"]>;
type ArgoParams = Parameters<Packline["argo"]>;
export type BuildArgs = Partial<Record<(typeof BUILD_ARGUMENTS)[number], unknown>>;
export type ArgoArgs = Partial<Record<(typeof ARGO_ARGUMENTS)[number], unknown>>;

/**
 * The arguments in the declared order. What the engine does for an argument the user left out: `undefined` for an
 * optional one, which JavaScript turns into the parameter's default; the context directory when none is given.
 */
function positional(order: readonly string[], named: Record<string, unknown>): unknown[] {
  for (const name of Object.keys(named)) if (!order.includes(name)) throw new Error(`no argument ${name}`);
  return order.map((name) => named[name]);
}

export function buildArgs(named: BuildArgs & { tag: string }): BuildParams {
  return positional(BUILD_ARGUMENTS, { context: dag.host().directory("/home/dev/app"), ...named }) as BuildParams;
}

export function callBuild(named: BuildArgs & { tag: string }): Promise<string> {
  return new Packline().build(...buildArgs(named));
}

export function callResult(named: BuildArgs & { tag: string }): Promise<BuildResult> {
  return new Packline().result(...buildArgs(named));
}

export function callArgo(named: ArgoArgs & { repo: string; image: string }) {
  return new Packline().argo(...(positional(ARGO_ARGUMENTS, named) as ArgoParams));
}
