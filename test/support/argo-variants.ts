/**
 * The `packline argo` inputs every Argo test runs over: each option group alone on a base, then every option at once
 * for each kind and executor. argo-variants.test.ts checks that every option of the table is exercised.
 */
import { parseAllDocuments } from "yaml";
import { type ArgoExport, exportArgo } from "../../src/backends/argo/export.js";
import type { RawInput } from "../../src/core/options/input.js";
import type { Json, Vars } from "./argo-lint.js";

export interface ArgoVariant {
  readonly name: string;
  readonly raw: RawInput<"argo">;
}

export const BASE: RawInput<"argo"> = { repo: "https://github.com/acme/app", image: "registry.example.com/acme/app" };

/** One option group each; together they give every option of `argo` a value other than its default. */
export const FEATURES: Readonly<Record<string, RawInput<"argo">>> = {
  tag: { tag: "v1.2.3" },
  "zero version tag": { tag: "0.4.2" },
  "prerelease tag": { tag: "1.2.3-rc.1" },
  "ref and floating tags and latest": { ref: "release/1.x", floatingTags: true, latest: true },
  "registry secret": { registrySecret: "regcred" },
  "git secret": { gitSecret: "git-token" },
  "cache pvc": { cachePvc: "buildpacks-cache" },
  "cache image, clear cache": { cacheImage: "registry.example.com/acme/app-cache:build", clearCache: true },
  "builder, run image, buildpacks": {
    builder: "registry.example.com/builders/jammy:0.1",
    runImage: "registry.example.com/acme/run:jammy",
    buildpack: ["paketo-buildpacks/nodejs@7.5.0", "acme/extra@1.0.0"],
  },
  env: { env: ["BP_NODE_VERSION=20", "GREETING=hello world", "EMPTY="] },
  "creation time now": { creationTime: "now" },
  "creation time commit": { creationTime: "commit" },
  "creation time unix": { creationTime: "1700000000" },
  "build user": { buildUser: "1001:1000" },
  resources: { cpuRequest: "500m", memoryRequest: "1Gi", cpuLimit: "2", memoryLimit: "4Gi", workspaceSize: "10Gi" },
  "sbom artifact": { sbomArtifact: true },
  "insecure registry, allow overwrite": { insecureRegistry: ["registry.example.com"], allowOverwrite: true },
  metadata: { name: "web-build", namespace: "builds", serviceAccount: "builder" },
  "no retries, no pod gc, deadline": { retries: 0, podGc: "none", deadline: 3600 },
  "retries and pod gc": { retries: 5, podGc: "OnWorkflowCompletion" },
};

/** Options that cannot go together with `pack` (or with another feature), left out of the "everything" variants. */
const NOT_WITH_EVERYTHING = new Set([
  "zero version tag",
  "prerelease tag",
  "creation time commit",
  "creation time unix",
  "no retries, no pod gc, deadline",
  "cache pvc", // the cache goes to one place: "everything" keeps it in --cache-image
]);

function merge(...inputs: RawInput<"argo">[]): RawInput<"argo"> {
  return Object.assign({}, ...inputs);
}

export function argoVariants(): ArgoVariant[] {
  const variants: ArgoVariant[] = [{ name: "minimal", raw: BASE }];
  for (const [name, feature] of Object.entries(FEATURES)) variants.push({ name, raw: merge(BASE, feature) });
  const everything = merge(
    BASE,
    ...Object.entries(FEATURES)
      .filter(([name]) => !NOT_WITH_EVERYTHING.has(name))
      .map(([, f]) => f),
  );
  // The pack executor refuses what it has no use for (it runs as root against the node's daemon).
  const { buildUser: _user, cachePvc: _pvc, sbomArtifact: _sbom, ...everythingForPack } = everything;
  for (const kind of ["workflow-template", "workflow"]) {
    for (const executor of ["creator", "pack"]) {
      variants.push({ name: `minimal, ${kind}, ${executor}`, raw: merge(BASE, { kind, executor }) });
      variants.push({
        name: `everything, ${kind}, ${executor}`,
        raw: merge(executor === "pack" ? everythingForPack : everything, { kind, executor }),
      });
    }
  }
  return variants;
}

/** The default executor (creator): daemonless, unprivileged, restricted. */
export function isDefaultExecutor(variant: ArgoVariant): boolean {
  return variant.raw.executor === undefined || variant.raw.executor === "creator";
}

export interface Rendered extends ArgoExport {
  readonly document: Json;
}

/** Renders a variant and parses its YAML back (exactly one document). */
export function renderVariant(variant: ArgoVariant): Rendered {
  const result = exportArgo(variant.raw);
  const documents = parseAllDocuments(result.yaml);
  if (documents.length !== 1) throw new Error(`${variant.name}: expected one YAML document, got ${documents.length}`);
  if (documents[0]!.errors.length > 0) throw new Error(`${variant.name}: ${documents[0]!.errors.join("; ")}`);
  return { ...result, document: documents[0]!.toJS() };
}

/** Every template of a rendered workflow, by name. */
export function templatesOf(document: Json): Record<string, Json> {
  return Object.fromEntries((document.spec.templates as Json[]).map((t) => [t.name, t]));
}

/** Every container of a document (templates' main containers and init containers), with where it is. */
export function containersOf(document: Json): { template: string; container: Json }[] {
  return (document.spec.templates as Json[]).flatMap((t) => [
    ...(t.container ? [{ template: t.name, container: t.container }] : []),
    ...((t.initContainers ?? []) as Json[]).map((container) => ({ template: t.name, container })),
  ]);
}

/**
 * Values for every input and Argo variable a template of the export can read, as the controller would have them
 * when the pod is made: the version 1.2.3, its commit, the builder's user 1001:1000.
 */
export const RUN_VARS: Vars = {
  "workflow.uid": "6f1c2e64-0000-4000-8000-000000000000",
  "workflow.name": "packline-app-x7k2p",
  "workflow.creationTimestamp.s": "1700000000",
  "inputs.parameters.tag": "v1.2.3",
  "inputs.parameters.ref": "",
  "inputs.parameters.version": "1.2.3",
  "inputs.parameters.major": "1",
  "inputs.parameters.minor": "2",
  "inputs.parameters.tags": "1.2.3 1.2 1 latest",
  "inputs.parameters.commit": "0123456789abcdef0123456789abcdef01234567",
  "inputs.parameters.commit-time": "1690000000",
  "inputs.parameters.build-report": '[image]\n  tags = ["registry.example.com/acme/app:packline-staging"]\n  digest = "sha256:0000"\n',
  "inputs.parameters.uid": "1001",
  "inputs.parameters.gid": "1000",
};
