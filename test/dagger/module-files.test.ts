/**
 * What of src/ the Dagger engine loads as the module. Its TypeScript runtime reads the types of, and imports, every
 * .ts file under src/ on each load (sdk/typescript of the engine's source: the introspection entrypoint and
 * __dagger.entrypoint.ts list src/ recursively), so dagger.json's `include` leaves out what only the `packline` CLI
 * uses (`!<path>` patterns): the module's first load reads fewer files, and commander is never imported in the
 * engine (issue 17). The engine loads only the module's files through that list; a directory argument with a
 * default path (the constructor's `context`) is read from the repository as it is, whatever the list says.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { moduleExcludes } from "../support/introspect.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const all = readdirSync(join(root, "src"), { recursive: true, encoding: "utf8" })
  .filter((f) => f.endsWith(".ts"))
  .map((f) => `src/${f}`)
  .sort();

/** The files src/index.ts imports, directly or not (type-only imports too: the runtime type-checks them). */
function importClosure(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const info = ts.preProcessFile(readFileSync(join(root, file), "utf8"), true, true);
    for (const ref of info.importedFiles) {
      if (!ref.fileName.startsWith(".")) continue;
      visit(relative(root, resolve(root, dirname(file), ref.fileName.replace(/\.js$/, ".ts"))));
    }
  };
  visit(entry);
  return seen;
}

describe("the files the engine loads as the module", () => {
  const excluded = all.filter(moduleExcludes());
  const closure = importClosure("src/index.ts");

  it("leave out nothing the module imports (it would fail to load)", () => {
    expect(excluded.filter((f) => closure.has(f))).toEqual([]);
  });

  it("leave out the CLI and packline plan's text, which the module never imports (dagger.json, include)", () => {
    const cliOnly = all.filter((f) => f.startsWith("src/cli/") || f === "src/backends/text/plan-text.ts");
    expect(cliOnly.length).toBeGreaterThan(5);
    expect(cliOnly.filter((f) => closure.has(f))).toEqual([]);
    expect(excluded).toEqual(cliOnly);
  });
});
