/**
 * Runs the TypeScript SDK's own module introspector offline, as the engine does before `dagger call`, so tests can
 * check what the CLI will expose (functions, arguments, optionality, defaults, help text) without an engine.
 *
 * The engine runs dist/src/module/entrypoint/introspection_entrypoint.js, which calls
 * `scan([...every .ts/.mts file under the source dir, <sdk>/src/api/client.gen.ts], moduleName, false)`:
 * no import of the user code (loadModule = false), only the TypeScript checker. Core types (`Secret`, `Directory`...)
 * are recognised by NAME among classes declared in a source file whose name ends with `client.gen.ts`; the npm
 * package ships only `client.gen.d.ts` (and declaration files are skipped), so a copy named `client.gen.ts` in a
 * temporary directory stands in for the generated `sdk/`.
 *
 * Usage:
 *   const mod = await introspectModule()                       // src/, module "packline"
 *   const build = mod.objects.Packline.methods.build
 *   expect(typeName(build.arguments.source.type)).toBe("Directory")
 *   expect(build.arguments.source.defaultPath).toBe("/")
 *   expect(isRequired(build.arguments.repo)).toBe(true)
 */
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const localRequire = createRequire(import.meta.url);
const sdkIndex = localRequire.resolve("@dagger.io/dagger"); // <sdk>/dist/src/index.js
const sdkSrc = path.dirname(sdkIndex);

/** Mirrors the SDK's TypeDef (dist/src/module/introspector/typedef.d.ts) as plain JSON. */
export interface TypeDef {
  kind: string; // "STRING_KIND", "INTEGER_KIND", "FLOAT_KIND", "BOOLEAN_KIND", "VOID_KIND", "LIST_KIND", "OBJECT_KIND", ...
  name?: string; // objects, enums, interfaces, scalars
  typeDef?: TypeDef; // lists
}

export interface IntrospectedArgument {
  name: string;
  description: string;
  deprecated?: string;
  type?: TypeDef;
  isVariadic: boolean;
  isNullable: boolean;
  /** As the SDK computes it: `?`, `| null`, variadic, or an unresolvable default. A resolved default leaves it false. */
  isOptional: boolean;
  defaultValue?: unknown;
  defaultPath?: string;
  defaultAddress?: string;
  ignore?: string[];
}

export interface IntrospectedFunction {
  name: string;
  description: string;
  deprecated?: string;
  alias?: string;
  /** `@func({ cache })`, e.g. "never". Not in the SDK's JSON form; added here because publishing functions need it. */
  cache?: string;
  arguments: Record<string, IntrospectedArgument>;
  returnType?: TypeDef;
}

export interface IntrospectedProperty {
  name: string;
  description: string;
  deprecated?: string;
  alias?: string;
  type?: TypeDef;
  /** Decorated with `@func()`, i.e. readable from the CLI. */
  isExposed: boolean;
}

export interface IntrospectedObject {
  name: string;
  description: string;
  deprecated?: string;
  constructor?: { arguments: Record<string, IntrospectedArgument> };
  methods: Record<string, IntrospectedFunction>;
  properties: Record<string, IntrospectedProperty>;
}

export interface IntrospectedModule {
  /** PascalCase module name, i.e. the main object's expected class name. */
  name: string;
  /** Top-of-file JSDoc of the file holding the main object (the module description). */
  description?: string;
  objects: Record<string, IntrospectedObject>;
  enums: Record<string, { name: string; description: string; values: Record<string, { name: string; value: string; description: string }> }>;
  interfaces: Record<string, unknown>;
}

type Scan = (files: string[], moduleName?: string, loadModule?: boolean) => Promise<unknown>;

/**
 * Introspects the module in `srcDir` (relative to the current directory) the way the engine does, and returns the
 * result as plain data (the SDK's own JSON form, which `DRY_RUN=1` of the introspection entrypoint prints, plus
 * `cache`). Throws exactly what `scan` throws (the SDK's `IntrospectionError` for unsupported types and the like).
 *
 * The files must be able to resolve `@dagger.io/dagger` through a `node_modules` above them (true for this repo);
 * without it every core type degrades to `any` and scan fails with a misleading error, so that is checked first.
 */
export async function introspectModule(srcDir = "src", moduleName = "packline"): Promise<IntrospectedModule> {
  const dir = path.resolve(srcDir);
  try {
    createRequire(path.join(dir, "noop.js")).resolve("@dagger.io/dagger");
  } catch {
    throw new Error(`introspectModule: ${dir} cannot resolve @dagger.io/dagger (no node_modules above it)`);
  }
  const { scan } = (await import(path.join(sdkSrc, "module/introspector/index.js"))) as { scan: Scan };
  const tmp = mkdtempSync(path.join(tmpdir(), "packline-introspect-"));
  try {
    const clientGen = path.join(tmp, "client.gen.ts");
    copyFileSync(path.join(sdkSrc, "api/client.gen.d.ts"), clientGen);
    // What dagger.json's include leaves out of the module, the engine never reads: neither does this.
    const root = path.dirname(dir);
    const excluded = existsSync(path.join(root, "dagger.json")) ? moduleExcludes(path.join(root, "dagger.json")) : () => false;
    const files = listSourceFiles(dir).filter((f) => !excluded(path.relative(root, f).split(path.sep).join("/")));
    const mod = (await scan([...files, clientGen], moduleName, false)) as LiveModule;
    const json = JSON.parse(JSON.stringify(mod)) as IntrospectedModule;
    // The SDK's toJSON drops `cache`; copy it from the live objects.
    for (const [objName, obj] of Object.entries(mod.objects)) {
      for (const [fnName, fn] of Object.entries(obj.methods ?? {})) {
        if (fn.cache !== undefined) json.objects[objName].methods[fnName].cache = fn.cache;
      }
    }
    return json;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

interface LiveModule {
  objects: Record<string, { methods?: Record<string, { cache?: string }> }>;
}

/** Whether `dagger call` requires the argument: no `?`/null, no default value, no defaultPath/defaultAddress. */
export function isRequired(arg: IntrospectedArgument): boolean {
  return !arg.isOptional && arg.defaultValue === undefined && !arg.defaultPath && !arg.defaultAddress;
}

/** A TypeDef as TypeScript-like text: "string", "number", "float", "boolean", "void", "Secret", "string[]". */
export function typeName(t: TypeDef | undefined): string {
  if (!t) return "<unresolved>";
  switch (t.kind) {
    case "STRING_KIND":
      return "string";
    case "INTEGER_KIND":
      return "number";
    case "FLOAT_KIND":
      return "float";
    case "BOOLEAN_KIND":
      return "boolean";
    case "VOID_KIND":
      return "void";
    case "LIST_KIND":
      return `${typeName(t.typeDef)}[]`;
    default:
      return t.name ?? t.kind;
  }
}

/**
 * Whether dagger.json's `include` leaves a path (relative to dagger.json's directory, with "/") out of the module:
 * its `!<path>` patterns, each a file or a directory. Any other pattern throws, so that a new one is taught here
 * rather than read wrong.
 */
export function moduleExcludes(daggerJson = fileURLToPath(new URL("../../dagger.json", import.meta.url))): (file: string) => boolean {
  const include = (JSON.parse(readFileSync(daggerJson, "utf8")) as { include?: string[] }).include ?? [];
  const left = include.map((pattern) => {
    if (!/^![A-Za-z0-9._/-]+$/.test(pattern) || pattern.includes("*"))
      throw new Error(`introspect: dagger.json include pattern ${pattern} is not one it reads (!<file or directory>)`);
    return pattern.slice(1).replace(/\/$/, "");
  });
  return (file) => left.some((p) => file === p || file.startsWith(`${p}/`));
}

/**
 * Same listing as the SDK's introspection entrypoint (getTsSourceCodeFiles): every .ts/.mts file, recursively, in
 * the same order (the order decides which class wins when several match), nothing excluded.
 */
function listSourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const file of readdirSync(dir)) {
    const filepath = path.join(dir, file);
    // The SDK's reduce puts each entry's files before the ones listed earlier: the same order, without its copies.
    if (statSync(filepath).isDirectory()) out.unshift(...listSourceFiles(filepath));
    else if ([".ts", ".mts"].includes(path.extname(filepath))) out.unshift(filepath);
  }
  return out;
}
