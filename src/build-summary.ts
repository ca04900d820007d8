import type { BuildPlan } from "./plan.js";

/** What a finished build prints: every published reference with its digest, and how to use the image. */
export function buildSummary(plan: BuildPlan, published: readonly string[]): string {
  const lines = ["published:", ...published.map((ref) => `  ${ref}`)];
  for (const note of plan.notes) lines.push(`note: ${note}`);
  lines.push(
    "",
    "use it (append to the same dagger call):",
    "  container up --ports 8080:8080      run it",
    "  container export --path image.tar   save it as a tarball",
    "  container terminal                  open a shell in it",
  );
  if (plan.publishTo.kind === "registry") lines.push("", `or pull it: docker pull ${published[0]}`);
  else lines.push("", `(${plan.publishTo.host} lives inside this Dagger engine; pass --image to publish elsewhere)`);
  return lines.join("\n");
}
