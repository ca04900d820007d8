/**
 * What a finished build prints: every published reference pinned to its digest, and how to use the image from where
 * the build was started (`dagger call` chains the result's container; the CLI pulls it).
 */
import type { BuildPlan } from "../../core/plan/planner.js";

export interface SummaryInput {
  readonly published: readonly string[];
  readonly revision: string;
  readonly alreadyPublished: boolean;
  /** The `dagger call` arguments of this build (e.g. `--tag v1.0.0 --image ...`), to show the chained commands. */
  readonly daggerArgs?: string;
  readonly sbomDir?: string;
}

export function buildSummary(plan: BuildPlan, input: SummaryInput, from: "dagger" | "cli"): string {
  const lines = [
    input.alreadyPublished ? `already published from revision ${input.revision} (nothing was built):` : "published:",
    ...input.published.map((ref) => `  ${ref}`),
  ];
  if (!input.alreadyPublished) lines.push(`revision ${input.revision}`);
  for (const note of plan.variants[0]?.notes ?? []) lines.push(`note: ${note}`);
  if (input.sbomDir) lines.push(`SBOM files written to ${input.sbomDir}`);
  if (from === "dagger") {
    const args = input.daggerArgs ?? "--tag <version>";
    lines.push(
      "",
      "use it:",
      `  dagger call result ${args} container up --ports 8080:8080      run it`,
      `  dagger call result ${args} container export --path image.tar  save it as a tarball`,
      `  dagger call result ${args} sbom export --path sbom            its SBOM files`,
    );
  }
  if (plan.image.target.kind === "engine-registry") {
    lines.push("", `(${plan.image.registry} lives inside the Dagger engine; pass --image to publish where you can pull from)`);
  } else {
    lines.push("", `pull it: docker pull ${input.published[0]}`);
  }
  return lines.join("\n");
}
