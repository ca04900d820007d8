/**
 * An option given to a command that does not take it, but another one does (`packline argo --registry-username`):
 * commander says only "unknown option". Say which commands take it and what this command takes instead.
 */
import type { Command } from "commander";
import { type CommandName, flagOf, OPTIONS, type OptionSpec } from "../core/options/table.js";

/** What `command` takes instead of `option`, where that is not "leave it out". */
const INSTEAD: Readonly<Record<string, Partial<Record<CommandName | "tags", string>>>> = {
  registryUsername: {
    argo: "in a cluster the registry credentials come from a Kubernetes Secret: give --registry-secret NAME (a kubernetes.io/dockerconfigjson Secret in the workflow's namespace)",
  },
  registryPassword: {
    argo: "in a cluster the registry credentials come from a Kubernetes Secret: give --registry-secret NAME (a kubernetes.io/dockerconfigjson Secret in the workflow's namespace)",
  },
  registrySecret: {
    build: "a build on the Dagger engine logs in itself: give --registry-username USER --registry-password env:NAME",
    plan: "a build on the Dagger engine logs in itself: give --registry-username USER --registry-password env:NAME",
  },
  source: { argo: "a cluster clones its source: give --repo URL (and --ref to clone another ref than the tag)" },
  context: {
    build: "--context is the Dagger function's argument: on the command line give --source DIR",
    plan: "--context is the Dagger function's argument: on the command line give --source DIR",
    argo: "a cluster clones its source: give --repo URL",
  },
  revision: { argo: "a cluster build's revision is the commit it clones: leave it out" },
  sbomDir: {
    argo: "in a cluster, --sbom-artifact keeps the SBOM files as the build step's output artifact",
    plan: "plan only prints; packline build --sbom-dir DIR writes the SBOM files",
  },
  sbomArtifact: {
    build: "on this machine, --sbom-dir DIR writes the SBOM files",
    plan: "plan only prints; packline build --sbom-dir DIR writes the SBOM files",
  },
  json: {
    build: "packline plan --json prints the plan as JSON",
    argo: "packline plan --json prints the plan as JSON; argo prints YAML",
  },
  output: { plan: "plan prints on stdout: redirect it (> plan.txt)" },
};

function commandsText(commands: readonly string[]): string {
  const names = commands.map((c) => `packline ${c}`);
  return names.length === 1 ? names[0]! : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}

/**
 * The message for `arg` (`--flag` or `--flag=value`: the value is never shown, it may be a secret) given to `command`
 * (a subcommand, or "" for none), or undefined when no command takes it (commander's own message and suggestion then).
 */
export function wrongCommandMessage(command: string, arg: string): string | undefined {
  const flag = arg.includes("=") ? arg.slice(0, arg.indexOf("=")) : arg;
  const option: OptionSpec | undefined = OPTIONS.find((o) => flagOf(o.name) === flag || (o.short !== undefined && o.short === flag));
  if (option === undefined) return undefined;
  if (option.only === "dagger") {
    return `error: ${flag} is an argument of the Dagger functions (dagger call), not of the packline command: ${INSTEAD[option.name]?.[command as CommandName] ?? "leave it out"}.`;
  }
  const takers = option.commands;
  if (command === "") {
    return `error: ${flag} is an option of ${commandsText(takers)}: give the command first, e.g. packline ${takers[0]} ${flag} ...`;
  }
  const instead =
    INSTEAD[option.name]?.[command as CommandName] ??
    (command === "tags"
      ? "packline tags only prints the tags a version publishes: leave it out"
      : takers.length === 1 && takers[0] === "argo"
        ? `it shapes the cluster's workflow, and packline ${command} runs on a Dagger engine: leave it out`
        : `packline ${command} has no use for it: leave it out`);
  return `error: packline ${command} takes no ${flag}, an option of ${commandsText(takers)}: ${instead}.`;
}

/** Makes `cmd` (and its subcommands) explain an option of another command instead of a bare "unknown option". */
export function explainUnknownOptions(cmd: Command): void {
  const own = cmd as unknown as { unknownOption(flag: string): void };
  const original = own.unknownOption.bind(cmd);
  own.unknownOption = (arg: string) => {
    const message = wrongCommandMessage(cmd.parent ? cmd.name() : "", arg);
    if (message === undefined) original(arg.includes("=") ? arg.slice(0, arg.indexOf("=")) : arg);
    else cmd.error(message, { code: "commander.unknownOption" });
  };
  for (const sub of cmd.commands) explainUnknownOptions(sub);
}
