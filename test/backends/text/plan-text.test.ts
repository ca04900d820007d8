import { describe, expect, it } from "vitest";
import { planText } from "../../../src/backends/text/plan-text.js";
import { buildSummary } from "../../../src/backends/text/summary.js";
import type { RawInput } from "../../../src/core/options/input.js";
import { validateArgo, validateBuild } from "../../../src/core/options/validate.js";
import { planBuild } from "../../../src/core/plan/planner.js";
import { renderText } from "../../../src/core/plan/text.js";

const plan = (raw: RawInput = {}) => planBuild(validateBuild("plan", { tag: "v1.2.3", ...raw }));

describe("planText: what packline plan prints", () => {
  it("every argument of every step's command (scripts summarised), env, files, mounts, and the facts", () => {
    const p = plan({ image: "r.example.com/acme/app", registryUsername: "me", registryPassword: true, floatingTags: true, env: ["GREETING=hi"] });
    const out = planText(p, { "registry-password": "env:REGISTRY_TOKEN" });
    for (const arg of [...p.steps.build.command, ...p.steps.build.args]) expect(out).toContain(renderText(arg, () => "?"));
    expect(out).toContain("publishes  r.example.com/acme/app:1.2.3\n           r.example.com/acme/app:1.2\n           r.example.com/acme/app:1\n");
    expect(out).toContain("login      me at r.example.com, password from env:REGISTRY_TOKEN (never shown)");
    expect(out).toContain("revision   <digest of the source directory>");
    expect(out).toContain('files    /platform/env/GREETING = "hi"');
    expect(out).toMatch(/step check: .*\n.*crane\/debug:v0\.20\.6/);
    expect(out).toContain("<script of ");
    expect(out).not.toMatch(/set -eu/);
  });

  it("a cluster plan shows the tags of each shape, over late values", () => {
    const p = planBuild(validateArgo({ repo: "https://h/a/b", image: "r.example.com/a", floatingTags: true }).build);
    const out = planText(p);
    expect(out).toContain("version    given at submit time");
    expect(out).toContain("publishes (release)");
    expect(out).toContain("r.example.com/a:<major>.<minor>");
  });

  it("says which steps run at once, as the plan allows", () => {
    const p = plan();
    // the build runs the builder the check pins (pin.ts): one after the other
    expect(planText(p)).toContain("\norder      check, build, release\n");
    expect(planText({ ...p, overlap: { checkBesideBuild: true } })).toMatch(
      /\norder {6}check and build at once \(the build is discarded if the check stops the run.*\), then release\n/,
    );
  });

  it("the registry inside the engine says nothing leaves the machine", () => {
    expect(planText(plan())).toContain("registry:5000, the registry inside the Dagger engine (nothing leaves the machine)");
  });
});

describe("buildSummary", () => {
  it("dagger: the pinned references and the chained commands", () => {
    const p = plan({ image: "r.example.com/a" });
    const out = buildSummary(
      p,
      {
        published: ["r.example.com/a:1.2.3@sha256:abc"],
        revision: "r1",
        alreadyPublished: false,
        daggerCall: { before: "--image r.example.com/a", tag: "v1.2.3" },
      },
      "dagger",
    );
    expect(out).toContain("published:\n  r.example.com/a:1.2.3@sha256:abc\nrevision r1");
    // The shared settings go before the function, as the constructor takes them.
    expect(out).toContain("dagger call --image r.example.com/a result --tag v1.2.3 container up --ports 8080:8080");
    expect(out).toContain("pull it: docker pull r.example.com/a:1.2.3@sha256:abc");
  });
  it("cli, already published: says nothing was built", () => {
    const out = buildSummary(plan(), { published: ["registry:5000/app:1.2.3@sha256:abc"], revision: "r1", alreadyPublished: true }, "cli");
    expect(out).toMatch(/^already published from revision r1 \(nothing was built\):/);
    expect(out).not.toContain("dagger call");
    expect(out).toContain("lives inside the Dagger engine");
  });
});
