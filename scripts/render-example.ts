/** Renders one example of ci/argo/examples.ts: what `packline argo` writes for its options, or the caller workflow. */
import { stringify } from "yaml";
import type { Example } from "../ci/argo/examples.js";
import { exportArgo } from "../src/backends/argo/export.js";

/** The template caller-workflow.yaml calls (workflow-template.yaml's). */
export const CALLED_TEMPLATE = "python-app";

export function renderExample(example: Example): string {
  if (example.options) return exportArgo(example.options, { file: example.file }).yaml;
  if (example.file === "caller-workflow.yaml") return callerWorkflow();
  throw new Error(`ci/argo/${example.file}: an example needs options, or a renderer of its own`);
}

/** A user's own release workflow: packline's template as one step, the digest passed to the next. */
function callerWorkflow(): string {
  const workflow = {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Workflow",
    metadata: { generateName: "release-python-app-" },
    spec: {
      entrypoint: "release",
      arguments: { parameters: [{ name: "tag", value: "v1.2.3" }] },
      templates: [
        {
          name: "release",
          steps: [
            [
              {
                name: "build",
                // Runs packline's whole build (resolve, check, build, release) with the template's own volumes and
                // security settings: nothing needs to be declared here.
                templateRef: { name: CALLED_TEMPLATE, template: "main" },
                arguments: {
                  parameters: [
                    { name: "tag", value: "{{workflow.parameters.tag}}" },
                    { name: "ref", value: "" },
                  ],
                },
              },
            ],
            [
              {
                name: "deploy",
                template: "deploy",
                arguments: {
                  parameters: [
                    { name: "digest", value: "{{steps.build.outputs.parameters.digest}}" },
                    { name: "tags", value: "{{steps.build.outputs.parameters.tags}}" },
                  ],
                },
              },
            ],
          ],
        },
        {
          // Stands for your own deployment step: it gets the image's digest, never a tag that could move.
          name: "deploy",
          inputs: { parameters: [{ name: "digest" }, { name: "tags" }] },
          securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: "RuntimeDefault" } },
          container: {
            image: "alpine:3.20",
            command: ["sh", "-c", 'echo "deploying registry.example.com/acme/python-app@$DIGEST (tags: $TAGS)"'],
            env: [
              { name: "DIGEST", value: "{{inputs.parameters.digest}}" },
              { name: "TAGS", value: "{{inputs.parameters.tags}}" },
            ],
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
          },
        },
      ],
    },
  };
  const header = [
    "# An example of your own workflow calling packline's WorkflowTemplate (workflow-template.yaml) as a step.",
    `# kubectl apply -f workflow-template.yaml, then: argo submit caller-workflow.yaml -p tag=v1.2.3 --wait`,
    "# Written by scripts/render-example.ts (npm run generate): the rest of ci/argo/ is what packline argo writes.",
    "",
  ].join("\n");
  return header + stringify(workflow, { lineWidth: 0 });
}
