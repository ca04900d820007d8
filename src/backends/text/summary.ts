import type { BuildPlan } from "./plan.js";

/**
 * What a finished build prints: every published reference with its digest, and how to use the image from where the
 * build was started (`dagger call` can chain the result's container; the `packline build` CLI cannot).
 */
export function buildSummary(plan: BuildPlan, published: readonly string[], from: "dagger" | "cli" = "dagger"): string {
  const lines = ["published:", ...published.map((ref) => `  ${ref}`)];
  for (const note of plan.notes) lines.push(`note: ${note}`);
  if (from === "dagger") {
    lines.push(
      "",
      "use it (append to the same dagger call):",
      "  container up --ports 8080:8080      run it",
      "  container export --path image.tar   save it as a tarball",
      "  container terminal                  open a shell in it",
    );
  }
  if (plan.publishTo.kind === "registry") lines.push("", `pull it: docker pull ${published[0]}`);
  else lines.push("", `(${plan.publishTo.host} lives inside the Dagger engine; pass --image to publish where you can pull from)`);
  return lines.join("\n");
}
