/**
 * What a finished build prints: every published reference pinned to its digest, and how to use the image from where
 * the build was started (`dagger call` chains the result's container; the CLI pulls it).
 */
import type { BuildPlan } from "../../core/plan/planner.js";

export interface SummaryInput {
  readonly published: readonly string[];
  readonly revision: string;
  readonly alreadyPublished: boolean;
  /** This build's `dagger call`: the settings given before the function (`--image ...`) and the tag, to show the chained commands. */
  readonly daggerCall?: { readonly before: string; readonly tag: string };
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
    const { before, tag } = input.daggerCall ?? { before: "", tag: "<version>" };
    const call = `dagger call ${before === "" ? "" : `${before} `}result --tag ${tag}`;
    lines.push(
      "",
      "use it:",
      `  ${call} container up --ports 8080:8080      run it`,
      `  ${call} container export --path image.tar  save it as a tarball`,
      `  ${call} sbom export --path sbom            its SBOM files`,
    );
  }
  if (plan.image.target.kind === "engine-registry") {
    lines.push("", `(${plan.image.registry} lives inside the Dagger engine; pass --image to publish where you can pull from)`);
  } else {
    lines.push("", `pull it: docker pull ${input.published[0]}`);
  }
  return lines.join("\n");
}
