/**
 * The example manifests in this folder: each one is what `packline argo` writes for the options below (the same
 * options as flags: `repo` is `--repo`, `registrySecret` is `--registry-secret`, ...), except caller-workflow.yaml, a
 * workflow of a user's own that runs the template as one of its steps. Regenerate them with `npm run generate`;
 * test/backends/argo/examples.test.ts fails when a file drifts, and lints every one with Argo's own code.
 */
import type { RawInput } from "../../src/core/options/input.js";

export interface Example {
  readonly file: string;
  /** What it is, for README.md's table. */
  readonly what: string;
  /** The options of `packline argo`; absent for the hand-written caller. */
  readonly options?: RawInput;
}

const APP: RawInput = {
  repo: "https://github.com/sylvainkalache/deploy-buildpack-containerized-python-app-to-argo",
  image: "registry.example.com/acme/python-app",
  name: "python-app",
  registrySecret: "regcred",
};

export const EXAMPLES: readonly Example[] = [
  {
    file: "workflow-template.yaml",
    what: "the default: a `WorkflowTemplate`, the version given at submit time (`argo submit --from workflowtemplate/python-app -p tag=v1.2.3`), floating tags, the buildpacks cache on a claim",
    options: { ...APP, floatingTags: true, cachePvc: "buildpacks-cache" },
  },
  {
    file: "workflow.yaml",
    what: "a `Workflow` for `argo submit workflow.yaml`, with `v1.0.0` as the version's default",
    options: { ...APP, kind: "workflow", tag: "v1.0.0" },
  },
  {
    file: "build-user-workflow-template.yaml",
    what: "the builder's CNB user given (`--build-user 1001:1000`, paketobuildpacks/builder-jammy-base's), so no pod reads it from the builder first; with resources and an SBOM artifact",
    options: {
      ...APP,
      name: "python-app-fixed-user",
      buildUser: "1001:1000",
      cpuRequest: "500m",
      memoryRequest: "1Gi",
      memoryLimit: "4Gi",
      sbomArtifact: true,
    },
  },
  {
    file: "caller-workflow.yaml",
    what: "your own workflow calling `python-app` (workflow-template.yaml) as a step with `templateRef`, then using the published digest",
  },
  {
    file: "pack-workflow.yaml",
    what: "the seed article's form (`pack build --publish` with the node's Docker socket in a privileged pod), for clusters that already run it; `packline argo` warns",
    options: { ...APP, kind: "workflow", executor: "pack", tag: "v1.0.0" },
  },
];
