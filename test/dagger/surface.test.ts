/**
 * What `dagger call` will see of the module, read offline by the SDK's own introspector (test/support/introspect.ts)
 * over src/, as the engine does before a call: the functions and their return types, BuildResult, the enums, and
 * every argument compared with the option table (src/core/options/table.ts), which the CLI is generated from. The
 * shared settings are the Packline constructor's (the table marks them `dagger: "constructor"`), each function takes
 * only its own. The signatures stay written out in src/index.ts, once each, because the SDK reads them statically;
 * this is what keeps them equal to the table: a drifting name, order, optionality, default, type or help text fails here.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { CONTEXT_EXCLUDES } from "../../src/cli/build.js";
import {
  type CommandName,
  constructorHelpOf,
  constructorOptions,
  EXECUTORS,
  functionOptions,
  helpOf,
  KINDS,
  OPTIONS,
  type OptionSpec,
  optionsOf,
  POD_GC,
} from "../../src/core/options/table.js";
import { type IntrospectedArgument, type IntrospectedModule, introspectModule, isRequired, typeName } from "../support/introspect.js";

let mod: IntrospectedModule;

beforeAll(async () => {
  // One scan for the whole file: it type-checks src/ with the SDK's 10k-line client, several seconds.
  mod = await introspectModule();
}, 120_000);

const packline = () => mod.objects.Packline!;

describe("the module as dagger call sees it", () => {
  it("introspects without error: Packline is the main object, BuildResult the result", () => {
    expect(mod.name).toBe("Packline");
    expect(Object.keys(mod.objects).sort()).toEqual(["BuildResult", "Packline"]);
    expect(packline().description).toMatch(/Cloud Native Buildpacks/);
    expect(Object.keys(packline().methods).sort()).toEqual(["argo", "build", "result"]);
  });

  it("build returns a String (what dagger call prints), result a BuildResult, argo a File", () => {
    const { build, result, argo } = packline().methods;
    expect(build!.returnType).toEqual({ kind: "STRING_KIND" });
    expect(result!.returnType).toEqual({ kind: "OBJECT_KIND", name: "BuildResult" });
    expect(argo!.returnType).toEqual({ kind: "OBJECT_KIND", name: "File" });
    // Publishing must reach the registry every time: a cached call would answer an old digest and push nothing.
    expect([build!.cache, result!.cache]).toEqual(["never", "never"]);
    for (const fn of [build!, result!, argo!]) expect(fn.description.length, fn.name).toBeGreaterThan(40);
  });

  it("BuildResult exposes container, sbom, digest, references, revision and summary, each documented", () => {
    const props = mod.objects.BuildResult!.properties;
    expect(Object.fromEntries(Object.entries(props).map(([name, p]) => [name, typeName(p.type)]))).toEqual({
      digest: "string",
      references: "string[]",
      revision: "string",
      container: "Container",
      sbom: "Directory",
      summary: "string",
    });
    for (const p of Object.values(props)) expect([p.name, p.isExposed, p.description.length > 20]).toEqual([p.name, true, true]);
  });

  it("the enums ArgoKind, Executor and PodGc exist with the table's values", () => {
    const values = (name: string) => Object.values(mod.enums[name]!.values).map((v) => v.value);
    expect(Object.keys(mod.enums).sort()).toEqual(["ArgoKind", "Executor", "PodGc"]);
    expect(values("ArgoKind")).toEqual([...KINDS]);
    expect(values("Executor")).toEqual([...EXECUTORS]);
    expect(values("PodGc")).toEqual([...POD_GC]);
    expect(Object.keys(mod.enums.ArgoKind!.values)).toEqual(["WorkflowTemplate", "Workflow"]);
    for (const name of ["ArgoKind", "Executor", "PodGc"]) expect(mod.enums[name]!.description, name).not.toBe("");
  });

  it("the shared settings are the constructor's, in the table's order; each function takes only its own", () => {
    const { build, result, argo } = packline().methods;
    const ctor = packline().constructor!.arguments;
    expect(Object.keys(ctor)).toEqual(constructorOptions().map((o) => o.name));
    expect(Object.keys(build!.arguments)).toEqual(["tag"]);
    expect(result!.arguments).toEqual(build!.arguments);
    expect(Object.keys(argo!.arguments)).toEqual(functionOptions("argo").map((o) => o.name));
    // No function re-declares what the constructor holds.
    for (const fn of [build!, result!, argo!]) {
      expect(
        Object.keys(fn.arguments).filter((name) => name in ctor),
        fn.name,
      ).toEqual([]);
    }
    // The constructor's arguments are kept as the object's state, not shown as fields (dagger call lists functions only).
    const props = packline().properties;
    expect(Object.keys(props)).toEqual(Object.keys(ctor));
    expect(Object.values(props).filter((p) => p.isExposed)).toEqual([]);
  });

  it("the context directory is the caller's repository root, leaving out what packline build leaves out", () => {
    const context = packline().constructor!.arguments.context!;
    expect(context).toMatchObject({ defaultPath: "/", type: { kind: "OBJECT_KIND", name: "Directory" } });
    expect(context.ignore).toEqual([...CONTEXT_EXCLUDES]);
    expect(isRequired(context)).toBe(false);
  });

  it("--source leaves out the same as packline build --source, so both upload the same files", () => {
    // without it, dagger call build --source . in a checkout uploaded .git (and node_modules): another image
    const source = packline().constructor!.arguments.source!;
    expect(source.ignore).toEqual([...CONTEXT_EXCLUDES]);
    expect(source.defaultPath).toBeUndefined();
    expect(isRequired(source)).toBe(false);
  });

  it("the registry password is a Secret (env:NAME, file:PATH on the command line), never a string", () => {
    expect(packline().constructor!.arguments.registryPassword!.type).toEqual({ kind: "OBJECT_KIND", name: "Secret" });
  });
});

/** The Dagger type an option of `kind` must have. */
function expectedType(option: OptionSpec): string {
  switch (option.kind) {
    case "string":
      return "string";
    case "strings":
      return "string[]";
    case "boolean":
      return "boolean";
    case "integer":
      return "number";
    case "secret":
      return "Secret";
    case "directory":
      return "Directory";
    case "enum":
      return option.enumName!;
  }
}

/**
 * Every way a function's arguments differ from the table's options for `command` (as Dagger takes them), one
 * line each; none when they agree.
 */
function differences(
  fn: string,
  args: Record<string, IntrospectedArgument>,
  command: CommandName | "constructor",
  options: readonly OptionSpec[],
): string[] {
  const out: string[] = [];
  const wanted = options.filter((o) =>
    command === "constructor" ? o.dagger === "constructor" : o.commands.includes(command) && o.only !== "cli" && o.dagger !== "constructor",
  );
  // The constructor requires nothing: what one function needs (argo: --repo, --image) is checked when it runs.
  const help = (o: OptionSpec) => (command === "constructor" ? constructorHelpOf(o) : helpOf(o, command));
  const requiredOf = (o: OptionSpec) => (command === "constructor" ? false : (o.requiredFor?.includes(command) ?? false));
  for (const name of Object.keys(args)) if (!wanted.some((o) => o.name === name)) out.push(`${fn}: ${name} is not in the table`);
  for (const option of wanted) {
    const arg = args[option.name];
    const at = `${fn}(${option.name})`;
    if (!arg) {
      out.push(`${at}: missing`);
      continue;
    }
    if (arg.description !== help(option)) out.push(`${at}: help ${JSON.stringify(arg.description)} != table ${JSON.stringify(help(option))}`);
    if (typeName(arg.type) !== expectedType(option)) out.push(`${at}: type ${typeName(arg.type)} != ${expectedType(option)}`);
    const required = requiredOf(option);
    if (isRequired(arg) !== required)
      out.push(`${at}: ${isRequired(arg) ? "required" : "optional"}, the table says ${required ? "required" : "optional"}`);
    if (JSON.stringify(arg.defaultValue) !== JSON.stringify(option.default)) {
      out.push(`${at}: default ${JSON.stringify(arg.defaultValue)} != table ${JSON.stringify(option.default)}`);
    }
    if (option.kind === "directory" && option.name === "context") {
      if (arg.defaultPath !== "/") out.push(`${at}: the context has no defaultPath "/"`);
    } else if (!required && option.default === undefined && !arg.isOptional) {
      out.push(`${at}: optional without a default, but not marked optional (?)`);
    }
    if (option.kind === "enum") {
      // The SDK registers an enum default by the member whose value it is (register.js): it must be one.
      const values = Object.values(mod.enums[option.enumName!]?.values ?? {}).map((v) => v.value);
      if (JSON.stringify(values) !== JSON.stringify(option.choices)) out.push(`${at}: enum values ${values} != choices ${option.choices}`);
      if (option.default !== undefined && !values.includes(String(option.default))) out.push(`${at}: default is no value of ${option.enumName}`);
    }
  }
  return out;
}

describe("the Dagger signatures equal the option table", () => {
  const functions: [fn: "constructor" | "build" | "result" | "argo", command: CommandName | "constructor"][] = [
    ["constructor", "constructor"],
    ["build", "build"],
    ["result", "build"],
    ["argo", "argo"],
  ];

  it.each(functions)("%s: every argument has the table's name, type, optionality, default and help; none missing or extra", (fn, command) => {
    const args = fn === "constructor" ? packline().constructor!.arguments : packline().methods[fn]!.arguments;
    expect(differences(fn, args, command, OPTIONS)).toEqual([]);
  });

  it("together, the constructor and each function take exactly the table's options of that command", () => {
    const ctor = Object.keys(packline().constructor!.arguments);
    for (const [fn, command] of [
      ["build", "build"],
      ["result", "build"],
      ["argo", "argo"],
    ] as const) {
      const own = Object.keys(packline().methods[fn]!.arguments);
      const wanted = optionsOf(command, "dagger").map((o) => o.name);
      // The constructor may hold settings a function does not take (argo refuses them when given: module.test.ts).
      expect([...own, ...ctor.filter((n) => wanted.includes(n))].sort(), fn).toEqual([...wanted].sort());
    }
  });

  it("fails on a drifting default, help, optionality or an extra argument (the comparison can fail)", () => {
    const args = structuredClone(packline().methods.argo!.arguments);
    args.retries!.description = "Retries.";
    args.tag!.isOptional = false;
    args.kind!.defaultValue = "cron";
    args.extra = { ...args.name!, name: "extra" };
    delete args.namespace;
    expect(differences("argo", args, "argo", OPTIONS)).toEqual([
      "argo: extra is not in the table",
      "argo(tag): required, the table says optional",
      "argo(tag): optional without a default, but not marked optional (?)",
      'argo(kind): default "cron" != table "workflow-template"',
      "argo(namespace): missing",
      'argo(retries): help "Retries." != table "Retries of a step that failed in a way a retry can fix (network, registry errors); 0 to 10."',
    ]);
    // ... and the other way round: a table that drifted from the signatures.
    const table = OPTIONS.map((o) => (o.name === "latest" ? { ...o, default: true } : o.name === "ref" ? { ...o, help: "Which ref." } : o));
    const ctor = structuredClone(packline().constructor!.arguments);
    ctor.builder!.defaultValue = "paketobuildpacks/builder-jammy-full";
    expect(differences("constructor", ctor, "constructor", table)).toEqual([
      'constructor(ref): help "The git tag, branch or commit to clone with --repo; default: the tag as given." != table "Which ref."',
      'constructor(builder): default "paketobuildpacks/builder-jammy-full" != table "paketobuildpacks/builder-jammy-base"',
      "constructor(latest): default false != table true",
    ]);
    // ... and a function that re-declares a shared setting.
    const build = { ...packline().methods.build!.arguments, image: packline().constructor!.arguments.image! };
    expect(differences("build", build, "build", OPTIONS)).toEqual(["build: image is not in the table"]);
  });
});
