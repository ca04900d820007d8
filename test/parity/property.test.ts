/**
 * Held out from the cases of parity.test.ts: random option values (digits like 90001 in every name, braces,
 * quotes, `$(...)`, backticks, newlines, unicode in env values) go through plan -> both renderings, which must be
 * equal, and Argo's placeholders must stand exactly where the plan has late values.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { argoSide, daggerSide, expectPlaceholdersOnlyAtLateValues, type ParityOptions, STEPS } from "./render.js";

const digits = fc.oneof(fc.constantFrom("90001", "90002", "90003", "0", "1", "12"), fc.nat({ max: 99999 }).map(String));
const num = fc.oneof(fc.constantFrom("0", "1", "90001"), fc.nat({ max: 99999 }).map(String));

const version = fc
  .tuple(fc.boolean(), num, num, num, fc.option(fc.constantFrom("rc.1", "alpha", "90001", "beta.2"), { nil: undefined }))
  .map(([v, major, minor, patch, pre]) => `${v ? "v" : ""}${major}.${minor}.${patch}${pre ? `-${pre}` : ""}`);

const host = fc
  .tuple(fc.constantFrom("registry", "reg", "team"), digits, fc.option(fc.constantFrom(":5000", ":90"), { nil: "" }))
  .map(([a, d, port]) => `${a}${d}.example.com${port}`);
const path = fc
  .array(
    fc.tuple(fc.constantFrom("acme", "team", "app", "v"), digits).map(([a, d]) => `${a}${d}`),
    { minLength: 1, maxLength: 3 },
  )
  .map((p) => p.join("/"));
const tag = fc.oneof(
  digits,
  fc.tuple(digits, digits).map(([a, b]) => `${a}.${b}`),
  digits.map((d) => `v${d}`),
);

/** Values that break naive renderers: Argo's braces, shell quoting and substitution, newlines, non-ASCII. */
const nasty = fc.constantFrom(
  "{{x}}",
  "{{inputs.parameters.tag}}",
  "'",
  '"',
  "$(id)",
  "`uname`",
  "\\",
  "\n",
  "\t",
  "ü",
  "日本",
  "🙂",
  "%",
  "=",
  " ",
  "}}",
  "{",
);
const envValue = fc.array(fc.oneof(nasty, fc.string({ maxLength: 6, unit: "grapheme" }), digits), { maxLength: 6 }).map((parts) => parts.join(""));
const envName = fc.tuple(fc.constantFrom("BP_", "PORT_", "X", "_A"), digits).map(([a, d]) => `${a}${d}`);

const options: fc.Arbitrary<ParityOptions> = fc
  .record({
    tag: version,
    repoName: fc
      .tuple(fc.constantFrom("app", "web-app", "svc"), digits, fc.boolean())
      .map(([n, d, slash]) => `https://github.com/acme/${n}${d}${slash ? "/" : ""}`),
    registry: host,
    repository: path,
    builder: fc.option(
      fc.tuple(host, path, tag).map(([h, p, t]) => `${h}/${p}:${t}`),
      { nil: undefined },
    ),
    runImage: fc.option(
      fc.tuple(host, path, tag).map(([h, p, t]) => `${h}/${p}:${t}`),
      { nil: undefined },
    ),
    cacheImage: fc.option(
      fc.tuple(host, path, tag).map(([h, p, t]) => `${h}/${p}-cache:${t}`),
      { nil: undefined },
    ),
    env: fc.uniqueArray(fc.tuple(envName, envValue), { maxLength: 4, selector: ([n]) => n }),
    buildpack: fc.array(
      fc.tuple(fc.constantFrom("paketo-buildpacks/node", "acme/bp"), digits, num, num).map(([id, d, a, b]) => `${id}${d}@${a}.${b}.0`),
      { maxLength: 2 },
    ),
    ref: fc.option(
      fc.tuple(fc.constantFrom("main", "release-", "v"), digits).map(([a, d]) => `${a}${d}`),
      { nil: undefined },
    ),
    creationTime: fc.oneof(fc.constantFrom("default", "now", "commit"), fc.nat({ max: 99_999_999_999 }).map(String)),
    floatingTags: fc.boolean(),
    latest: fc.boolean(),
    clearCache: fc.boolean(),
    allowOverwrite: fc.boolean(),
    insecure: fc.boolean(),
    credentials: fc.boolean(),
  })
  .map((o) => {
    const image = `${o.registry}/${o.repository}`;
    const build: ParityOptions["build"] = {
      tag: o.tag,
      repo: o.repoName,
      image,
      ...(o.builder ? { builder: o.builder } : {}),
      ...(o.runImage ? { runImage: o.runImage } : {}),
      ...(o.cacheImage ? { cacheImage: o.cacheImage } : {}),
      ...(o.ref ? { ref: o.ref } : {}),
      env: o.env.map(([n, v]) => `${n}=${v}`),
      buildpack: o.buildpack,
      creationTime: o.creationTime,
      floatingTags: o.floatingTags,
      latest: o.latest,
      clearCache: o.clearCache,
      allowOverwrite: o.allowOverwrite,
      insecureRegistry: o.insecure ? [o.registry] : [],
    };
    return { build, credentials: o.credentials };
  });

describe("property: random option values render equally in both backends", () => {
  it("plan -> Dagger containers == plan -> Argo containers, placeholders only at late values", async () => {
    await fc.assert(
      fc.asyncProperty(options, async (o) => {
        const dagger = await daggerSide(o);
        const argo = argoSide(o, dagger);
        for (const step of STEPS) expect(argo.steps[step], step).toEqual(dagger.steps[step]);
        expect(argo.cloned).toEqual({ url: dagger.cloned.url, ref: dagger.cloned.ref });
        expectPlaceholdersOnlyAtLateValues(argo);
        // The env values reach the build byte for byte, however odd.
        const files = dagger.steps.build.files;
        for (const entry of o.build.env as string[]) {
          const eq = entry.indexOf("=");
          expect(files[`/platform/env/${entry.slice(0, eq)}`]).toBe(entry.slice(eq + 1));
        }
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
