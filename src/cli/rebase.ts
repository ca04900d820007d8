/**
 * `packline rebase`: moves a released version onto the newest image of its run image without a rebuild (README,
 * "Rebase"), running the rebase plan with the Dagger backend on the Dagger the user has (build.ts, throughEngine).
 * Bad input is refused before an engine starts.
 */
import type { Command } from "commander";
import { Option } from "commander";
import type { RebaseResult } from "../backends/dagger/rebase.js";
import { PacklineError } from "../core/errors.js";
import { validateRebase } from "../core/options/rebase.js";
import { DEFAULT_BUILDER } from "../core/options/table.js";
import { planRebase, type RebasePlan } from "../core/plan/rebase.js";
import type { SecretMask } from "./mask.js";
import type { CliIO } from "./program.js";
import { parseSecretSource, readSecret } from "./secret-source.js";

/** What `packline rebase` prints: what moved (or that nothing did), every reference pinned to the digest. */
export function rebaseSummary(plan: RebasePlan, result: RebaseResult): string {
  if (!result.rebased) {
    return `${plan.version.version} already stands on its run image's newest image: nothing changed.\n  ${result.published.join("\n  ")}\n`;
  }
  return `rebased ${plan.version.version} (from ${result.from}):\n  ${result.published.join("\n  ")}\n`;
}

export function addRebaseCommand(program: Command, io: CliIO, mask: SecretMask): void {
  const single = (flags: string, help: string) => {
    const option = new Option(flags, help);
    let given = false;
    return option.argParser((value: string) => {
      if (given) throw new PacklineError(`${option.long} was given more than once: give it once (packline does not choose between the values).`);
      given = true;
      return value;
    });
  };
  program
    .command("rebase")
    .description("move a released version onto its run image's newest image, without a rebuild (README, Rebase)")
    .addOption(single("--tag <version>", "The published version to rebase, e.g. v1.2.3 (required)").makeOptionMandatory())
    .addOption(
      single(
        "--image <repository>",
        "The image repository that holds the version, e.g. registry.example.com/acme/app (required)",
      ).makeOptionMandatory(),
    )
    .addOption(
      single(
        "--run-image <image>",
        "The run image to rebase onto: the one the version was built on (a digest of it is fine); default: its name as the image records it",
      ),
    )
    .addOption(single("--builder <image>", `The builder image whose lifecycle runs the rebaser (default ${DEFAULT_BUILDER})`))
    .addOption(single("--registry-username <user>", "User name for the registry of --image."))
    .addOption(single("--registry-password <secret>", "Password or token for the registry of --image, as a secret: env:NAME or file:PATH."))
    .addOption(
      new Option("--insecure-registry <host[:port]>", "A registry reached over plain HTTP or with an untrusted certificate, repeatable.").argParser(
        (value: string, previous: string[] = []) => [...previous, value],
      ),
    )
    .action(async (flags: Record<string, string | string[] | undefined>) => {
      const source = flags.registryPassword === undefined ? undefined : parseSecretSource("--registry-password", flags.registryPassword as string);
      const plan = planRebase(
        validateRebase({
          tag: flags.tag as string,
          image: flags.image as string,
          runImage: flags.runImage as string | undefined,
          builder: flags.builder as string | undefined,
          registryUsername: flags.registryUsername as string | undefined,
          registryPassword: source !== undefined,
          insecureRegistry: (flags.insecureRegistry as string[] | undefined) ?? [],
        }),
      );
      const password = source ? readSecret("--registry-password", source, io.env) : undefined;
      if (password !== undefined) mask.add(password, flags.registryUsername as string | undefined);
      const [{ throughEngine }, { runRebasePlan }, { dag }] = await Promise.all([
        import("./build.js"),
        import("../backends/dagger/rebase.js"),
        import("@dagger.io/dagger"),
      ]);
      const result = await throughEngine(
        () => runRebasePlan(plan, { registryPassword: password === undefined ? undefined : dag.setSecret("packline-registry-password", password) }),
        io.stderrStream,
      );
      io.stdout(rebaseSummary(plan, result));
    });
}
