import { connection, dag } from "@dagger.io/dagger";
import { buildSummary } from "../build-summary.js";
import type { BuildFlags } from "../cli.js";
import { Packline } from "../index.js";
import type { BuildPlan } from "../plan.js";

/**
 * `packline build`: calls the module's own build function through the Dagger SDK, which connects to the engine of a
 * surrounding `dagger run`/session or provisions one as it usually does. Returns the build summary.
 */
export async function runBuildThroughSdk(flags: BuildFlags, plan: BuildPlan, password: string | undefined): Promise<string> {
  let summary = "";
  await connection(
    async () => {
      // The same exclusions as the module's context directory (src/index.ts), so both commands build the same files.
      const context = dag.host().directory(flags.source ?? ".", { exclude: [".git", "**/node_modules", ".dagger", "sdk"] });
      const registryPassword = password === undefined ? undefined : dag.setSecret("packline-registry-password", password);
      const result = await new Packline().build(
        flags.tag,
        context,
        flags.source === undefined ? undefined : context,
        flags.repo,
        flags.ref,
        flags.image,
        flags.builder,
        flags.runImage,
        flags.env,
        flags.buildpack,
        flags.registryUsername,
        registryPassword,
        flags.cacheImage,
        flags.clearCache,
        flags.creationTime,
        flags.floatingTags,
        flags.latest,
        flags.insecureRegistry,
      );
      summary = buildSummary(plan, result.references, "cli");
    },
    { LogOutput: process.stderr },
  );
  return summary;
}
