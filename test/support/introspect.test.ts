/**
 * Proves test/support/introspect.ts (beside it): the SDK's introspector, run offline on a small module written to a temp dir,
 * reports names, optionality, defaults and docs, and throws on types Dagger cannot expose.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { IntrospectionError } from "@dagger.io/dagger";
import { afterEach, describe, expect, it } from "vitest";
import { introspectModule, isRequired, typeName } from "./introspect.js";

const GOOD = `/**
 * Builds things.
 */
import { argument, Directory, func, object, Secret } from "@dagger.io/dagger"

/** Demo module main object. */
@object()
export class Demo {
  /**
   * Build an image from the source.
   */
  @func({ cache: "never" })
  async build(
    /** Image reference to push */
    image: string,
    /** Registry password */
    password?: Secret,
    /** Source tree */
    @argument({ defaultPath: "/", ignore: ["node_modules"] }) source?: Directory,
    /** Extra tags */
    tags: string[] = ["latest"],
  ): Promise<string> {
    return image
  }

  /** Count things. */
  @func()
  count(n: number = 3): number {
    return n
  }

  notExposed(): void {}
}
`;

// scan type-checks the module plus the SDK's 10k-line client: several seconds per call.
const SCAN_TIMEOUT = 60_000;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A module root in a temp dir; node_modules links to this repo's so `@dagger.io/dagger` resolves as in src/. */
function writeModule(files: Record<string, string>, opts: { linkNodeModules?: boolean } = {}): string {
  const root = mkdtempSync(path.join(tmpdir(), "packline-introspect-test-"));
  dirs.push(root);
  if (opts.linkNodeModules !== false) symlinkSync(path.resolve("node_modules"), path.join(root, "node_modules"), "dir");
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, "src", name)), { recursive: true });
    writeFileSync(path.join(root, "src", name), text);
  }
  return path.join(root, "src");
}

describe("introspectModule", () => {
  it(
    "reports functions, argument types, optionality, defaults and docs as dagger call sees them",
    async () => {
      const mod = await introspectModule(writeModule({ "index.ts": GOOD }), "demo");

      expect(mod.name).toBe("Demo");
      expect(mod.description).toBe("Builds things.");
      expect(Object.keys(mod.objects)).toEqual(["Demo"]);
      const demo = mod.objects.Demo;
      expect(demo.description).toBe("Demo module main object.");
      expect(Object.keys(demo.methods)).toEqual(["build", "count"]);

      const build = demo.methods.build;
      expect(build.description).toBe("Build an image from the source.");
      expect(build.cache).toBe("never");
      expect(typeName(build.returnType)).toBe("string");
      expect(Object.keys(build.arguments)).toEqual(["image", "password", "source", "tags"]);

      const { image, password, source, tags } = build.arguments;
      expect([typeName(image.type), isRequired(image), image.description]).toEqual(["string", true, "Image reference to push"]);
      expect([typeName(password.type), isRequired(password), password.description]).toEqual(["Secret", false, "Registry password"]);
      expect(source).toMatchObject({ defaultPath: "/", ignore: ["node_modules"], description: "Source tree" });
      expect([typeName(source.type), isRequired(source)]).toEqual(["Directory", false]);
      // A resolved default does not set isOptional; the engine gets it as defaultValue, which makes the flag optional.
      expect(tags).toMatchObject({ isOptional: false, defaultValue: ["latest"], description: "Extra tags" });
      expect([typeName(tags.type), isRequired(tags)]).toEqual(["string[]", false]);

      expect(demo.methods.count.arguments.n).toMatchObject({ defaultValue: 3 });
      expect(typeName(demo.methods.count.returnType)).toBe("number");
      expect(demo.methods.count.cache).toBeUndefined();
    },
    SCAN_TIMEOUT,
  );

  it(
    "throws the SDK's IntrospectionError for a type Dagger cannot expose",
    async () => {
      const bad = GOOD.replace("image: string,", "image: Date,");
      const err = await introspectModule(writeModule({ "index.ts": bad }), "demo").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IntrospectionError);
      expect((err as Error).message).toBe("could not resolve type reference for Date.");
    },
    SCAN_TIMEOUT,
  );

  it("refuses a source dir that cannot resolve @dagger.io/dagger instead of failing obscurely", async () => {
    const src = writeModule({ "index.ts": GOOD }, { linkNodeModules: false });
    await expect(introspectModule(src, "demo")).rejects.toThrow(/cannot resolve @dagger.io\/dagger/);
  });
});
