/** `dagger call argo ... export --path build.yaml` gives the same file as `packline argo` for the same options. */
import { describe, expect, it } from "vitest";
import { main } from "../src/cli.js";
import { Packline } from "../src/index.js";
import { withFakeEngine } from "./support/fake-engine.js";

async function cli(...args: string[]): Promise<string> {
  let out = "";
  const code = await main(["node", "packline", "argo", ...args], { stdout: (t) => (out += t), stderr: () => {}, env: {} });
  expect(code).toBe(0);
  return out;
}

describe("Packline.argo", () => {
  it("returns a File whose contents equal the CLI's output", async () => {
    const expected = await cli(
      "--repo", "https://github.com/acme/app", "--image", "registry.example.com/acme/app", "--tag", "v1.2.3",
      "--registry-secret", "regcred", "--kind", "workflow", "--floating-tags", "--env", "BP_NODE_VERSION=20", "--retries", "3",
    );
    await withFakeEngine(async (engine) => {
      const file = new Packline().argo(
        "https://github.com/acme/app", "registry.example.com/acme/app", "v1.2.3", undefined, "regcred", "workflow", "creator",
        undefined, undefined, undefined, undefined, undefined, undefined, ["BP_NODE_VERSION=20"], [], undefined, undefined, false,
        "default", true, false, [], "2Gi", undefined, undefined, undefined, undefined, 3, undefined, "OnPodSuccess",
      );
      await file.id();
      const written = engine.find("withNewFile");
      expect(written.map((s) => s.args.path)).toEqual(["build.yaml"]);
      expect(written[0]!.args.contents).toBe(expected);
      expect(engine.find("file").map((s) => s.args.path)).toEqual(["build.yaml"]);
    });
  });

  it("refuses bad input before anything is sent", async () => {
    await withFakeEngine(async (engine) => {
      expect(() => new Packline().argo("https://github.com/acme/app", "registry.example.com/acme/app", undefined, undefined, undefined, "cron")).toThrow(
        /--kind "cron" does not exist: choose one of workflow-template, workflow/,
      );
      expect(engine.queries).toEqual([]);
    });
  });
});
