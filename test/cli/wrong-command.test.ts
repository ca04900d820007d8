/**
 * Issue 18, item 15: an option of another command (argo --registry-username) got a bare "unknown option". Every
 * option of the table given to a command that does not take it names the commands that do, and what to use instead;
 * a value given with = is never shown (it may be a secret); exit 2 like any usage error.
 */
import { describe, expect, it } from "vitest";
import { wrongCommandMessage } from "../../src/cli/wrong-command.js";
import { type CommandName, flagOf, OPTIONS } from "../../src/core/options/table.js";
import { cli } from "./io.js";

const ARGO = ["argo", "--repo", "https://github.com/acme/app", "--image", "registry.example.com/acme/app"];
const PLAN = ["plan", "--tag", "1.2.3"];

describe("an option of another command", () => {
  it.each([
    [
      [...ARGO, "--registry-username", "me"],
      "packline argo takes no --registry-username, an option of packline build and packline plan: in a cluster the registry credentials come from a Kubernetes Secret: give --registry-secret NAME",
    ],
    [
      [...ARGO, "--registry-password", "env:TOKEN"],
      "packline argo takes no --registry-password, an option of packline build and packline plan: in a cluster the registry credentials come from a Kubernetes Secret: give --registry-secret NAME",
    ],
    [
      [...ARGO, "--source", "."],
      "packline argo takes no --source, an option of packline build and packline plan: a cluster clones its source: give --repo URL",
    ],
    [
      [...ARGO, "--sbom-dir", "out"],
      "packline argo takes no --sbom-dir, an option of packline build: in a cluster, --sbom-artifact keeps the SBOM files",
    ],
    [
      [...PLAN, "--registry-secret", "regcred"],
      "packline plan takes no --registry-secret, an option of packline argo: a build on the Dagger engine logs in itself: give --registry-username USER --registry-password env:NAME.",
    ],
    [
      [...PLAN, "--namespace", "ci"],
      "packline plan takes no --namespace, an option of packline argo: it shapes the cluster's workflow, and packline plan runs on a Dagger engine: leave it out.",
    ],
    [
      ["build", "--tag", "1.2.3", "--sbom-artifact"],
      "packline build takes no --sbom-artifact, an option of packline argo: on this machine, --sbom-dir DIR writes the SBOM files.",
    ],
    [[...PLAN, "-o", "plan.txt"], "packline plan takes no -o, an option of packline argo: plan prints on stdout: redirect it (> plan.txt)."],
    [
      ["--tag", "1.2.3"],
      "--tag is an option of packline build, packline plan and packline argo: give the command first, e.g. packline build --tag ...",
    ],
    [
      ["tags", "1.2.3", "--image", "x"],
      "packline tags takes no --image, an option of packline build, packline plan and packline argo: packline tags only prints",
    ],
  ])("%j", async (args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: ${message}`);
    expect(r.stderr).not.toContain("unknown option");
    expect(r.stdout).toBe("");
  });

  it("never shows a value given with =, and an option no command has keeps commander's message and suggestion", async () => {
    const secret = await cli([...ARGO, "--registry-username=me:tok-3Fv-not-real"]);
    expect(secret.stderr).toContain("packline argo takes no --registry-username");
    expect(secret.stderr).not.toContain("tok-3Fv");
    const typo = await cli([...ARGO, "--regsitry-secret", "x"]);
    expect(typo.stderr).toContain("error: unknown option '--regsitry-secret'");
    expect(typo.stderr).toContain("Did you mean --registry-secret?");
    const unknown = await cli([...ARGO, "--bogus=tok-3Fv-not-real"]);
    expect(unknown.stderr).toContain("error: unknown option '--bogus'");
    expect(unknown.stderr).not.toContain("tok-3Fv");
  });

  it("every option of the table, given to each CLI command that lacks it, gets a message naming the commands that take it", () => {
    for (const command of ["build", "plan", "argo"] as CommandName[]) {
      for (const option of OPTIONS) {
        if (option.commands.includes(command) && option.only !== "dagger") continue;
        const message = wrongCommandMessage(command, flagOf(option.name));
        expect(message, `${command} ${option.name}`).toMatch(
          option.only === "dagger"
            ? /argument of the Dagger functions/
            : new RegExp(`^error: packline ${command} takes no ${flagOf(option.name)}, an option of packline ${option.commands[0]}`),
        );
      }
    }
  });
});
