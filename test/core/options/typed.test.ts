/**
 * The option table is the one typed source of the options (issue 17): the input types are derived from it, so a
 * misspelt or foreign option name does not compile. The type assertions below are checked by `tsc --noEmit` (the first
 * half of `npm test`); the compiler tests run TypeScript itself on a snippet, so they fail if a typo ever compiles.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { CheckedInput, RawInput } from "../../../src/core/options/input.js";
import type { OptionName } from "../../../src/core/options/table.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../..");

describe("input types derived from the table", () => {
  it("give each option its type, required when the table makes it so", () => {
    expectTypeOf<CheckedInput<"build">["runImage"]>().toEqualTypeOf<string | undefined>();
    expectTypeOf<CheckedInput<"build">["tag"]>().toEqualTypeOf<string>();
    expectTypeOf<CheckedInput<"argo">["tag"]>().toEqualTypeOf<string | undefined>();
    expectTypeOf<CheckedInput<"build">["builder"]>().toEqualTypeOf<string>();
    expectTypeOf<CheckedInput<"argo">["retries"]>().toEqualTypeOf<number>();
    expectTypeOf<CheckedInput<"argo">["deadline"]>().toEqualTypeOf<number | undefined>();
    expectTypeOf<CheckedInput<"argo">["kind"]>().toEqualTypeOf<"workflow-template" | "workflow">();
    expectTypeOf<CheckedInput<"argo">["env"]>().toEqualTypeOf<readonly string[]>();
    expectTypeOf<CheckedInput<"build">["registryPassword"]>().toEqualTypeOf<boolean | undefined>();
    // Another command's option is absent.
    expectTypeOf<CheckedInput<"build">["executor"]>().toEqualTypeOf<undefined>();
    expectTypeOf<RawInput<"argo">["retries"]>().toEqualTypeOf<number | string | undefined>();
    expectTypeOf<"runImage">().toExtend<OptionName>();
    expectTypeOf<"runImag">().not.toExtend<OptionName>();
  });

  it("refuse a misspelt or foreign name where it is written", () => {
    const read = (input: CheckedInput<"build">) =>
      // @ts-expect-error: runImag is not an option
      input.runImag;
    // @ts-expect-error: registrySecret is argo's, not build's
    const raw: RawInput<"build"> = { tag: "v1.2.3", registrySecret: "regcred" };
    expect(read).toBeTypeOf("function");
    expect(raw.tag).toBe("v1.2.3");
  });
});

/** Type-checks each snippet as a file next to this one (so it imports the real source); its error messages by name. */
function compile(snippets: Readonly<Record<string, string>>): Record<string, string[]> {
  const files = new Map(Object.entries(snippets).map(([name, body]) => [join(ROOT, `test/core/options/__typed_${name}__.ts`), body]));
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    // as tsconfig.json: TypeScript 6 reads Node10 resolution (the Dagger module's) only with this
    ignoreDeprecations: "6.0",
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (name) => files.get(name) ?? readFile(name);
  host.fileExists = (name) => files.has(name) || ts.sys.fileExists(name);
  host.getSourceFile = (name, version, onError, create) => {
    const body = files.get(name);
    return body === undefined ? getSourceFile(name, version, onError, create) : ts.createSourceFile(name, body, version);
  };
  const program = ts.createProgram([...files.keys()], options, host);
  const errors: Record<string, string[]> = {};
  for (const [file] of files) {
    const name = Object.keys(snippets).find((n) => file.endsWith(`__typed_${n}__.ts`))!;
    errors[name] = ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
  }
  return errors;
}

describe("the compiler on validate.ts-style reads", () => {
  const header = 'import type { CheckedInput } from "../../../src/core/options/input.js";\n';
  const errors = compile({
    good: `${header}export const f = (i: CheckedInput<"build">): string | undefined => i.runImage;\n`,
    typo: `${header}export const f = (i: CheckedInput<"build">): string | undefined => i.runImag;\n`,
    wrongType: `${header}export const f = (i: CheckedInput<"argo">): string => i.retries;\n`,
  });

  it("accepts every option read by its name", () => {
    expect(errors.good).toEqual([]);
  });

  it("refuses a typo (runImag), which a string-key read would have taken for undefined", () => {
    expect(errors.typo!.join("\n")).toMatch(/Property 'runImag' does not exist/);
  });

  it("refuses a value of the wrong type", () => {
    expect(errors.wrongType!.join("\n")).toMatch(/'number' is not assignable to type 'string'/);
  });
});

describe("validate.ts", () => {
  it("reads no option by a string key or a computed name", () => {
    const source = readFileSync(join(ROOT, "src/core/options/validate.ts"), "utf8");
    expect(source).not.toMatch(/\binput\[/);
    expect(source).not.toMatch(/\b(str|bool|list)\(input/);
    expect(source).not.toMatch(/`\$\{resource\}(Request|Limit)`/);
  });
});
