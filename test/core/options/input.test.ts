import { describe, expect, it } from "vitest";
import { checkInput, enumValue } from "../../../src/core/options/input.js";
import { flagOf, helpOf, OPTIONS, optionsOf } from "../../../src/core/options/table.js";
import { packlineError } from "../../support/errors.js";

describe("the option table", () => {
  it("names every option once, with help for every command that takes it", () => {
    const names = OPTIONS.map((o) => o.name);
    expect(new Set(names).size).toBe(names.length);
    for (const option of OPTIONS) for (const command of option.commands) expect(helpOf(option, command)).toMatch(/\.$/);
  });
  it("flags are the kebab-case of the names", () => {
    expect(flagOf("registryUsername")).toBe("--registry-username");
    expect(flagOf("podGc")).toBe("--pod-gc");
  });
  it("front ends: Dagger's context directory, the CLI's output options", () => {
    expect(optionsOf("build", "dagger").map((o) => o.name)).toContain("context");
    expect(optionsOf("build", "cli").map((o) => o.name)).not.toContain("context");
    expect(optionsOf("build", "cli").map((o) => o.name)).toContain("sbomDir");
    expect(optionsOf("argo", "cli").map((o) => o.name)).toContain("output");
    expect(optionsOf("argo", "dagger").map((o) => o.name)).not.toContain("output");
  });
  it("defaults are applied; unknown names are a caller's bug", () => {
    expect(checkInput("argo", { repo: "https://h/a/b", image: "a/b" })).toMatchObject({
      kind: "workflow-template",
      executor: "creator",
      retries: 2,
      workspaceSize: "2Gi",
      podGc: "OnPodSuccess",
      env: [],
    });
    // @ts-expect-error: not an option; the types refuse it, and so does checkInput for a caller the compiler does not see.
    expect(() => checkInput("plan", { nope: "x" })).toThrow("internal: plan has no option nope");
  });
  it("enum values", () => {
    const podGc = OPTIONS.find((o) => o.name === "podGc")!;
    expect(enumValue(podGc, "NONE")).toBe("none");
    expect(packlineError(() => enumValue(podGc, "sometimes")).message).toBe(
      '--pod-gc "sometimes" does not exist: choose one of OnPodSuccess, OnPodCompletion, OnWorkflowSuccess, OnWorkflowCompletion, none.',
    );
  });
});

// Issue 18, item 16: `plan --tag ''` said "leave the option out", but plan requires --tag.
describe("an empty value of a required option", () => {
  it.each([
    ["plan", { tag: "" }, "--tag is empty: plan needs it: give a value, e.g. --tag v1.2.3."],
    ["build", { tag: "" }, "--tag is empty: build needs it: give a value, e.g. --tag v1.2.3."],
    [
      "argo",
      { repo: "", image: "a/b" },
      "--repo is empty: argo needs it: give a value, e.g. --repo https://github.com/acme/app (a cluster clones its source).",
    ],
    ["argo", { repo: "https://h/a/b", image: "" }, "--image is empty: argo needs it: give a value, e.g. --image registry.example.com/acme/app"],
  ] as const)("%s %j: says it is required and gives an example, never 'leave it out'", (command, raw, message) => {
    const text = packlineError(() => checkInput(command, raw)).message;
    expect(text.startsWith(message)).toBe(true);
    expect(text).not.toContain("leave");
  });

  it("an empty optional option still says it can be left out", () => {
    expect(packlineError(() => checkInput("argo", { repo: "https://h/a/b", image: "a/b", tag: "" })).message).toBe(
      "--tag is empty: give a value or leave the option out.",
    );
  });
});
