import { parseAllDocuments } from "yaml";
import { exportArgo, type ArgoBuildInput } from "../../src/argo/export.js";
import type { ArgoInput } from "../../src/argo/options.js";

/** A named set of `packline argo` options: the matrix every Argo test runs over. */
export interface ArgoVariant {
  readonly name: string;
  readonly build: ArgoBuildInput;
  readonly argo: ArgoInput;
}

const BASE: ArgoBuildInput = { repo: "https://github.com/acme/app", image: "registry.example.com/acme/app" };

const BUILD_VARIANTS: Record<string, ArgoBuildInput> = {
  "minimal": BASE,
  "tagged": { ...BASE, tag: "v1.2.3" },
  "credentials, floating tags, latest, env": {
    ...BASE,
    tag: "v1.2.3",
    registrySecret: "regcred",
    floatingTags: true,
    latest: true,
    env: ["BP_NODE_VERSION=20", "GREETING=hello world"],
  },
  "cache image, run image, buildpacks, clear cache": {
    ...BASE,
    cacheImage: "registry.example.com/acme/app-cache:build",
    runImage: "registry.example.com/acme/run:jammy",
    buildpacks: ["paketo-buildpacks/nodejs@7.5.0"],
    clearCache: true,
  },
  "commit creation time, ref, insecure registry": {
    ...BASE,
    creationTime: "commit",
    ref: "main",
    insecureRegistries: ["registry.example.com"],
    floatingTags: true,
  },
  "now creation time": { ...BASE, creationTime: "now", tag: "0.3.1", floatingTags: true },
  "unix creation time": { ...BASE, creationTime: "1700000000" },
};

const ARGO_VARIANTS: Record<string, ArgoInput> = {
  "template, creator": {},
  "workflow, creator, cluster options": {
    kind: "workflow",
    namespace: "builds",
    serviceAccount: "builder",
    gitSecret: "git-token",
    cachePvc: "buildpacks-cache",
    cpuRequest: "500m",
    memoryRequest: "1Gi",
    cpuLimit: "2",
    memoryLimit: "4Gi",
    retries: 3,
    deadline: 3600,
    podGc: "OnWorkflowSuccess",
  },
  "template, pack": { executor: "pack" },
  "workflow, pack": { kind: "workflow", executor: "pack", retries: 0, podGc: "none" },
};

export function argoVariants(): ArgoVariant[] {
  return Object.entries(BUILD_VARIANTS).flatMap(([buildName, build]) =>
    Object.entries(ARGO_VARIANTS).map(([argoName, argo]) => ({ name: `${buildName} / ${argoName}`, build, argo })),
  );
}

/** Renders a variant and parses its YAML back (one document). */
export function renderVariant(variant: ArgoVariant): { yaml: string; document: Record<string, any> } {
  const { yaml } = exportArgo(variant.build, variant.argo);
  const documents = parseAllDocuments(yaml);
  if (documents.length !== 1) throw new Error(`expected one YAML document, got ${documents.length}`);
  return { yaml, document: documents[0]!.toJS() as Record<string, any> };
}
