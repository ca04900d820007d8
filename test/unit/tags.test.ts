import fc from "fast-check";
import semver from "semver";
import { describe, expect, it } from "vitest";
import { parseVersion, tagsFor, type TagOptions } from "../../src/tags.js";
import { packlineError } from "../support/errors.js";

/** The OCI distribution spec's tag grammar. */
const OCI_TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** Runs `fn` and returns the PacklineError it throws (fails the test if it throws nothing or something else). */

describe("tagsFor: the tag rule", () => {
  const cases: { input: string; options: TagOptions; tags: string[]; notes: string[] }[] = [
    { input: "1.2.3", options: {}, tags: ["1.2.3"], notes: [] },
    { input: "v1.2.3", options: {}, tags: ["1.2.3"], notes: [] },
    { input: "v1.2.3", options: { floating: true }, tags: ["1.2.3", "1.2", "1"], notes: [] },
    { input: "1.2.3", options: { latest: true }, tags: ["1.2.3", "latest"], notes: [] },
    { input: "v2.0.0", options: { floating: true, latest: true }, tags: ["2.0.0", "2.0", "2", "latest"], notes: [] },
    { input: "10.20.30", options: { floating: false, latest: false }, tags: ["10.20.30"], notes: [] },
    // 0.x: no "0" tag, because a 0.x major promises nothing.
    {
      input: "0.4.1",
      options: { floating: true },
      tags: ["0.4.1", "0.4"],
      notes: ['no "0" tag: a 0.x major version promises no compatibility'],
    },
    {
      input: "v0.0.7",
      options: { floating: true, latest: true },
      tags: ["0.0.7", "0.0", "latest"],
      notes: ['no "0" tag: a 0.x major version promises no compatibility'],
    },
    { input: "0.4.1", options: {}, tags: ["0.4.1"], notes: [] },
    // Prereleases publish their own tag only; requested floating tags and latest are skipped with a note.
    { input: "1.2.3-rc.1", options: {}, tags: ["1.2.3-rc.1"], notes: [] },
    {
      input: "v1.2.3-rc.1",
      options: { floating: true },
      tags: ["1.2.3-rc.1"],
      notes: ["floating tags skipped: 1.2.3-rc.1 is a prerelease"],
    },
    {
      input: "1.2.3-beta",
      options: { latest: true },
      tags: ["1.2.3-beta"],
      notes: ["latest skipped: 1.2.3-beta is a prerelease"],
    },
    {
      input: "2.0.0-alpha.1.x-y",
      options: { floating: true, latest: true },
      tags: ["2.0.0-alpha.1.x-y"],
      notes: ["floating tags skipped: 2.0.0-alpha.1.x-y is a prerelease", "latest skipped: 2.0.0-alpha.1.x-y is a prerelease"],
    },
  ];

  it.each(cases)("$input with $options publishes $tags", ({ input, options, tags, notes }) => {
    const set = tagsFor(input, options);
    expect(set.tags).toEqual(tags);
    expect(set.notes).toEqual(notes);
    expect(set.version.version).toBe(tags[0]);
  });

  it("keeps what the user typed (trimmed) as the input, which is the default git ref", () => {
    expect(parseVersion(" v1.2.3 ")).toEqual({ input: "v1.2.3", version: "1.2.3", prerelease: false });
    expect(parseVersion("1.2.3-rc.1")).toEqual({ input: "1.2.3-rc.1", version: "1.2.3-rc.1", prerelease: true });
  });

  it("defaults to no floating tags and no latest", () => {
    expect(tagsFor("3.4.5").tags).toEqual(["3.4.5"]);
  });
});

describe("parseVersion: refusals", () => {
  it.each(["1.0", "latest", "v1", "1", "1.2.3.4", "01.2.3", "V1.2.3", "=1.2.3", "1.2.x", "^1.2.3", "v 1.2.3"])(
    "refuses %j: not a semantic version, and says so with the fix",
    (input) => {
      const error = packlineError(() => parseVersion(input));
      expect(error.message).toBe(
        `--tag ${JSON.stringify(input)} is not a semantic version: give MAJOR.MINOR.PATCH, e.g. v1.2.3 or 1.2.3` +
          " (prereleases like 1.2.3-rc.1 are fine).",
      );
    },
  );

  it.each(["", "   "])("refuses the empty tag %j", (input) => {
    expect(packlineError(() => parseVersion(input)).message).toBe(
      "--tag is empty: give a semantic version such as v1.2.3 or 1.2.3.",
    );
  });

  it("accepts a version tag of exactly 128 characters", () => {
    const input = `1.2.3-${"a".repeat(122)}`;
    expect(input).toHaveLength(128);
    expect(tagsFor(input).tags).toEqual([input]);
  });

  it("refuses a prerelease that makes the tag longer than 128 characters", () => {
    const input = `1.2.3-${"a".repeat(123)}`;
    const error = packlineError(() => parseVersion(input));
    expect(error.message).toContain(JSON.stringify(input));
    expect(error.message).toContain("128 characters");
    expect(error.message).toContain("shorten the prerelease");
  });

  // Regression (src/tags.ts): parseVersion checks build metadata on semver.valid()'s output, which has already dropped
  // "+build.5", so the check never fires and 1.2.3+build.5 silently publishes 1.2.3. Fix: semver.parse(trimmed).
  it.each([
    ["1.2.3+build.5", "+build.5"],
    ["v1.2.3+abc", "+abc"],
    ["1.2.3-rc.1+exp.sha.5114f85", "+exp.sha.5114f85"],
  ])("refuses build metadata in %j (an OCI tag cannot hold +)", (input, build) => {
    const error = packlineError(() => tagsFor(input, { floating: true, latest: true }));
    expect(error.message).toContain(JSON.stringify(input));
    expect(error.message).toContain(`has build metadata (${build})`);
    expect(error.message).toContain("drop it");
  });
});

describe("tag rule: properties", () => {
  const component = fc.nat({ max: 1_000_000 });
  // Prerelease identifiers that strict semver accepts: alphanumerics starting with a letter, or numbers.
  const identifier = fc.oneof(fc.stringMatching(/^[A-Za-z][0-9A-Za-z-]{0,9}$/), fc.nat({ max: 9999 }).map(String));
  const prerelease = fc.array(identifier, { minLength: 1, maxLength: 4 }).map((ids) => ids.join("."));
  const options = fc.record({ floating: fc.boolean(), latest: fc.boolean() });

  it("the version tag of MAJOR.MINOR.PATCH (with or without v) is exactly MAJOR.MINOR.PATCH", () => {
    fc.assert(
      fc.property(component, component, component, fc.boolean(), options, (maj, min, pat, v, opts) => {
        const set = tagsFor(`${v ? "v" : ""}${maj}.${min}.${pat}`, opts);
        expect(set.tags[0]).toBe(`${maj}.${min}.${pat}`);
        expect(set.version.prerelease).toBe(false);
        const expected = [`${maj}.${min}.${pat}`];
        if (opts.floating) expected.push(`${maj}.${min}`, ...(maj > 0 ? [`${maj}`] : []));
        if (opts.latest) expected.push("latest");
        expect(set.tags).toEqual(expected);
      }),
    );
  });

  it("every produced tag matches the OCI tag grammar, and prereleases never get floating tags or latest", () => {
    fc.assert(
      fc.property(component, component, component, fc.option(prerelease, { nil: undefined }), options, (maj, min, pat, pre, opts) => {
        const version = `${maj}.${min}.${pat}${pre === undefined ? "" : `-${pre}`}`;
        const set = tagsFor(version, opts);
        for (const tag of set.tags) expect(tag).toMatch(OCI_TAG);
        expect(new Set(set.tags).size).toBe(set.tags.length);
        if (pre !== undefined) expect(set.tags).toEqual([version]);
      }),
    );
  });

  it("any string semver.valid rejects makes parseVersion throw a PacklineError naming the input", () => {
    const nearMiss = fc.stringMatching(/^v?[0-9]{1,3}(\.[0-9x]{1,3}){0,3}[-+.a-zA-Z]{0,3}$/);
    const semverish = fc.string({ unit: fc.constantFrom(..."v0123456789.-+ xV="), maxLength: 12 });
    const anything = fc.oneof(fc.string(), semverish, nearMiss);
    fc.assert(
      fc.property(
        anything.filter((s) => s.trim() !== "" && semver.valid(s) === null && semver.valid(s.trim()) === null),
        (input) => {
          const error = packlineError(() => parseVersion(input));
          expect(error.message).toContain(`--tag ${JSON.stringify(input)}`);
          expect(error.message).toContain("MAJOR.MINOR.PATCH");
        },
      ),
    );
  });
});
