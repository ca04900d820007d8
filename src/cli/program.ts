/**
 * The `packline` command line, generated from the option table (src/core/options/table.ts). Exported as functions
 * only: the Dagger engine imports every file under src/, so nothing here may read process.argv or print at import
 * time. bin/packline.js calls main().
 */

import { existsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, CommanderError, Option } from "commander";
import { exportArgo } from "../backends/argo/export.js";
import { planText } from "../backends/text/plan-text.js";
import { buildSummary } from "../backends/text/summary.js";
import { PacklineError, quote } from "../core/errors.js";
import type { RawInput } from "../core/options/input.js";
import { type CommandName, flagOf, helpOf, type OptionSpec, optionsOf } from "../core/options/table.js";
import { validateBuild } from "../core/options/validate.js";
import { planBuild } from "../core/plan/planner.js";
import { parseVersion } from "../core/version.js";
import { hideOptionValues, MaskingStream, SecretMask } from "./mask.js";
import { writeOutput } from "./output.js";
import { findPackageVersion } from "./package-version.js";
import { addRebaseCommand } from "./rebase.js";
import { checkSbomDir, sbomExclude } from "./sbom-dir.js";
import { describeSecretSource, parseSecretSource, readSecret } from "./secret-source.js";
import { describeLocalSource, localSource } from "./source-dir.js";
import { explainUnknownOptions } from "./wrong-command.js";

export interface CliIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Where the Dagger SDK's progress goes (`packline build` only). */
  readonly stderrStream: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
}

const defaultIO: CliIO = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stderrStream: process.stderr,
  env: process.env,
};

type Flags = Record<string, unknown>;

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Adds every option of the table that `command` takes on the CLI. */
function addOptions(cmd: Command, command: CommandName): Command {
  for (const spec of optionsOf(command, "cli")) cmd.addOption(optionFor(spec, command));
  return cmd;
}

function optionFor(spec: OptionSpec, command: CommandName): Option {
  const value = spec.kind === "boolean" ? "" : ` <${spec.placeholder ?? "value"}>`;
  const required = spec.requiredFor?.includes(command) ?? false;
  const option = new Option(
    `${spec.short ? `${spec.short}, ` : ""}${flagOf(spec.name)}${value}`,
    helpOf(spec, command) + (required ? " (required)" : ""),
  );
  if (required) option.makeOptionMandatory();
  if (spec.kind === "strings") option.argParser(collect);
  else if (spec.kind !== "boolean") option.argParser(once(option));
  if (spec.kind !== "strings" && spec.default !== undefined && spec.kind !== "boolean") option.default(spec.default);
  return option;
}

/**
 * A single-value option given twice is refused: Commander would keep the last value (`--tag 1.2.3 --tag 2.0.0`
 * published 2.0.0). The values are not shown: either may be a secret.
 */
function once(option: Option): (value: string) => string {
  let given = false;
  return (value) => {
    if (given) {
      const flag = option.short ? `${option.short}/${option.long}` : (option.long ?? option.flags);
      throw new PacklineError(`${flag} was given more than once: give it once (packline does not choose between the values).`);
    }
    given = true;
    return value;
  };
}

/** The flags as the core's input: secrets and directories only as "given" (the plan holds them by reference). */
function rawInput(command: CommandName, flags: Flags): RawInput {
  const raw: Record<string, string | number | boolean | readonly string[] | undefined> = {};
  for (const spec of optionsOf(command, "cli")) {
    if (spec.only === "cli") continue;
    const value = flags[spec.name];
    if (spec.kind === "secret" || spec.kind === "directory") raw[spec.name] = value !== undefined;
    else if (spec.kind === "boolean") raw[spec.name] = value === true;
    else raw[spec.name] = value as string | readonly string[] | undefined;
  }
  return raw;
}

/** --source must name a directory that exists: checked before anything is planned or started. */
function checkSourceDir(flags: Flags): string | undefined {
  const dir = flags.source as string | undefined;
  if (dir === undefined) return undefined;
  if (!existsSync(dir)) throw new PacklineError(`--source ${quote(dir)} does not exist: give the directory to build (e.g. --source .).`);
  if (!statSync(dir).isDirectory()) throw new PacklineError(`--source ${quote(dir)} is not a directory: give the directory to build.`);
  return dir;
}

export function createProgram(io: CliIO = defaultIO, mask: SecretMask = new SecretMask()): Command {
  const program = new Command("packline")
    .description("Clone, build with Cloud Native Buildpacks, and publish under semver tags: on a laptop, in CI, in Argo Workflows.")
    .version(packageVersion(), "-V, --version", "print packline's version")
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError("(add --help for usage)");

  addOptions(program.command("plan").description("print what a build would run (no engine needed)"), "plan").action((flags: Flags) => {
    checkSourceDir(flags);
    const password = flags.registryPassword === undefined ? undefined : parseSecretSource("--registry-password", flags.registryPassword as string);
    const plan = planBuild(validateBuild("plan", rawInput("plan", flags)));
    const local = plan.source.kind === "local" ? localSource(flags.source as string | undefined, process.cwd(), io.env) : undefined;
    const secretSources: Record<string, string> = password ? { "registry-password": describeSecretSource(password) } : {};
    io.stdout(
      flags.json
        ? `${JSON.stringify({ ...plan, secretSources, ...(local ? { sourceDirectory: local.dir } : {}) }, null, 2)}\n`
        : planText(plan, secretSources, local && describeLocalSource(local)),
    );
  });

  program
    .command("tags")
    .description("print the tags a version publishes, one a line")
    .argument("<version>", "a semantic version such as v1.2.3")
    .option("--floating-tags", "also MAJOR.MINOR and MAJOR", false)
    .option("--latest", "also latest", false)
    .action((version: string, flags: { floatingTags: boolean; latest: boolean }) => {
      parseVersion(version, "version"); // say "version", not --tag: no flag was given
      const plan = planBuild(validateBuild("plan", { tag: version, floatingTags: flags.floatingTags, latest: flags.latest }));
      const variant = plan.variants[0]!;
      io.stdout(`${variant.tags.map((t) => t.join("")).join("\n")}\n`);
      for (const note of variant.notes) io.stderr(`note: ${note}\n`);
    });

  addOptions(program.command("argo").description("print the same build as an Argo WorkflowTemplate (or Workflow) for a cluster"), "argo").action(
    (flags: Flags) => {
      const result = exportArgo(rawInput("argo", flags), { file: flags.output as string | undefined });
      for (const warning of result.warnings) io.stderr(`packline: warning: ${warning}\n`);
      if (flags.output !== undefined) writeOutput(flags.output as string, result.yaml, io.stdout);
      else io.stdout(result.yaml);
    },
  );

  addOptions(program.command("build").description("build and publish through a Dagger engine (what `dagger call build` runs)"), "build").action(
    async (flags: Flags) => {
      const sourceDir = checkSourceDir(flags);
      const source = flags.registryPassword === undefined ? undefined : parseSecretSource("--registry-password", flags.registryPassword as string);
      const plan = planBuild(validateBuild("build", rawInput("build", flags))); // refuses bad input before an engine starts
      if (plan.source.kind === "local") localSource(sourceDir, process.cwd(), io.env); // not / or the home directory unless named
      const password = source ? readSecret("--registry-password", source, io.env) : undefined;
      if (password !== undefined) mask.add(password, flags.registryUsername as string | undefined);
      const sbom = checkSbomDir(flags.sbomDir as string | undefined); // before anything runs: the SBOM comes after the release
      const sbomDir = sbom?.path;
      let exclude: string | undefined;
      try {
        exclude = sbom && plan.source.kind === "local" ? sbomExclude(sbom.path, sourceDir ?? ".") : undefined;
      } catch (error) {
        sbom?.cleanUp();
        throw error;
      }
      const { buildThroughEngine } = await import("./build.js");
      const result = await buildThroughEngine(
        plan,
        { sourceDir, password, sbomDir, exclude: exclude === undefined ? [] : [exclude] },
        io.stderrStream,
      ).finally(() => sbom?.cleanUp());
      io.stdout(`${buildSummary(plan, { ...result, sbomDir: result.sbom && sbomDir ? sbomDir : undefined }, "cli")}\n`);
    },
  );

  addRebaseCommand(program, io, mask);
  explainUnknownOptions(program);
  return program;
}

/** Runs the CLI and returns the exit code: 0 on success, 1 on bad input or a failed build, 2 on usage errors. */
export async function main(argv: readonly string[], unmasked: CliIO = defaultIO): Promise<number> {
  // Everything printed goes through the mask: a secret read during the run never reaches the terminal.
  const mask = new SecretMask();
  const io = maskedIO(unmasked, mask);
  try {
    await createProgram(io, mask).parseAsync([...argv]);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`packline: ${message}\n`);
    return 1;
  } finally {
    (io.stderrStream as MaskingStream).flush();
  }
}

function maskedIO(io: CliIO, mask: SecretMask): CliIO {
  const stream = new MaskingStream(io.stderrStream, mask);
  return {
    ...io,
    stdout: (text) => io.stdout(mask.apply(text)),
    stderr: (text) => {
      stream.flush(); // what the engine printed before comes first
      io.stderr(hideOptionValues(mask.apply(text)));
    },
    stderrStream: stream,
  };
}

/** packline's own version, from the package.json next to the source (src/ or dist/src/). */
function packageVersion(): string {
  return findPackageVersion(dirname(fileURLToPath(import.meta.url)), "packline") ?? "unknown";
}
