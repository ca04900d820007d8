/**
 * `--env` values with "{{ }}", "{{=...}}", quotes, $(...), newlines or unicode must reach the build's files exactly as
 * given. Argo expands {{...}} in every string of a template (util/template, over the template's JSON), Kubernetes
 * expands $(VAR) in command, args and env values, and a shell runs the prepare script; so the exporter sends such
 * values base64-encoded in env values and the source init container's prepare part decodes them into
 * /platform/env/<NAME>.
 *
 * The template goes through Argo's own substitution (tools/argo-lint resolve: common.SubstituteParams), then the
 * resolved prepare script runs with /bin/sh and with busybox sh, as in the pod; the files must hold the values byte
 * for byte. The control puts the same values raw into a template: Argo rewrites them.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { exportArgo } from "../../../src/backends/argo/export.js";
import { PREPARE_MARK } from "../../../src/backends/argo/scripts.js";
import { ARGO_LINT_BUILD_TIMEOUT_MS, ensureArgoLint, type Json, lintArgo, resolveArgoTemplate } from "../../support/argo-lint.js";
import { buildPod, podContainer, scriptOf, unwrap } from "../../support/argo-pod.js";
import { BASE, RUN_VARS } from "../../support/argo-variants.js";
import { findShell } from "../../support/shells.js";

const NASTY: Record<string, string> = {
  TEMPLATE: "{{workflow.name}} and {{inputs.parameters.tag}}",
  EXPRESSION: "{{=sprig.upper('x')}}",
  UNKNOWN_TAG: "{{nope}}",
  HALF_OPEN: "{{ and }} and {{=",
  QUOTES: `it's "quoted" and \`backticked\``,
  SUBSHELL: "$(touch /tmp/packline-pwned) $" + "{HOME} $HOME $(HOME)",
  K8S_VAR: "$(PACKLINE_RUN_ID) $$(ESCAPED)",
  SPACES: "  leading and trailing  ",
  NEWLINES: "line one\nline two\r\n\ttabbed\n",
  UNICODE: "naïve ☃ 日本 \u00a0\u2028\u202e",
  BACKSLASH: "C:\\path\\n not a newline \\\\",
  JSON: '{"a": [1, "b"], "c": "\\u0041"}',
  EMPTY: "",
  DIGITS: "90001.90002.90003",
};

const work = mkdtempSync(join(tmpdir(), "packline-injection-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Shell {
  readonly name: string;
  readonly sh: string;
  readonly path: string;
}
function shells(): Shell[] {
  const found: Shell[] = [{ name: "/bin/sh", sh: "/bin/sh", path: process.env.PATH ?? "/usr/bin:/bin" }];
  const busybox = findShell("busybox", "injection", "the prepare script's runs with busybox sh, the pod's shell (/bin/sh still runs)");
  if (busybox) {
    const bin = join(work, "busybox-bin");
    mkdirSync(bin);
    for (const applet of ["sh", "base64", "mkdir", "printf", "chmod"]) symlinkSync(busybox, join(bin, applet));
    found.push({ name: "busybox sh", sh: join(bin, "sh"), path: bin });
  }
  return found;
}
const SHELLS = shells();

const exportWith = (env: Record<string, string>) =>
  exportArgo({ ...BASE, tag: "v1.2.3", env: Object.entries(env).map(([k, v]) => `${k}=${v}`) }).yaml;

let pods = 0;
/**
 * Runs the prepare part of the resolved source container's script (what follows the clone) as the pod would, every
 * absolute path it names moved under a scratch folder; returns where /platform/env is. The script may write only into
 * the volumes the container mounts.
 */
function runPrepare(prepare: Json, shell: Shell): string {
  const root = join(work, `pod-${pods++}`);
  const mounts = (prepare.volumeMounts as Json[]).map((m) => m.mountPath as string);
  const part = scriptOf(prepare).slice(scriptOf(prepare).indexOf(PREPARE_MARK));
  expect(part.startsWith(PREPARE_MARK)).toBe(true);
  for (const path of part.match(/'\/[^']*'/g) ?? []) {
    const inside = mounts.some((m) => path.slice(1, -1) === m || path.slice(1).startsWith(`${m}/`));
    expect(inside, `${path} is not in a volume of the source container (${mounts.join(", ")})`).toBe(true);
  }
  for (const m of mounts) mkdirSync(join(root, m), { recursive: true });
  const script = part.split("'/").join(`'${root}/`);
  const env: Record<string, string> = { PATH: shell.path };
  for (const e of prepare.env) env[e.name] = e.value;
  execFileSync(shell.sh, ["-c", script], { env, stdio: "pipe" });
  return join(root, "platform", "env");
}

describe("--env values reach the build's files unchanged through Argo", () => {
  let yaml = "";
  let build: Json;
  beforeAll(async () => {
    await ensureArgoLint();
    yaml = exportWith(NASTY);
    build = await resolveArgoTemplate(yaml, "build", RUN_VARS);
  }, ARGO_LINT_BUILD_TIMEOUT_MS);

  it("the YAML carries none of the values in the clear, and passes Argo's lint", async () => {
    for (const [name, value] of Object.entries(NASTY)) {
      if (value.trim().length > 6 && name !== "DIGITS") expect(yaml, name).not.toContain(value.trim());
    }
    const r = await lintArgo(yaml);
    expect(r.ok, r.output).toBe(true);
  });

  it.each(SHELLS.map((s) => [s.name, s] as const))(
    "after Argo's substitution, the prepare script (%s) writes every value byte for byte",
    (_name, shell) => {
      const prepare = podContainer(build, "source");
      const dir = runPrepare(prepare, shell);
      for (const [name, value] of Object.entries(NASTY)) expect(readFileSync(join(dir, name), "utf8"), name).toBe(value);
      expect(existsSync("/tmp/packline-pwned")).toBe(false);
      // The same substitution gave the creator its own arguments.
      expect(unwrap(podContainer(build, "build")).argv.at(-1)).toBe("registry.example.com/acme/app:packline-staging");
    },
  );

  it("control: the same values placed raw in a template are rewritten by Argo", async () => {
    const naive = parse(yaml);
    const raw = ["TEMPLATE", "EXPRESSION", "QUOTES"];
    podContainer(buildPod(naive), "build").env.push(...raw.map((name) => ({ name: `RAW_${name}`, value: NASTY[name] })));
    const resolved = await resolveArgoTemplate(stringify(naive), "build", RUN_VARS);
    const env = Object.fromEntries(podContainer(resolved, "build").env.map((e: Json) => [e.name, e.value]));
    expect(env.RAW_TEMPLATE).toBe("packline-app-x7k2p and v1.2.3");
    expect(env.RAW_EXPRESSION).toBe("X");
    expect(env.RAW_QUOTES).toBe(NASTY.QUOTES); // only Argo's braces are the danger; quotes pass
  });

  it("property: random values (braces, quotes, $, backslashes, unicode, newlines) reach the files unchanged", async () => {
    const piece = fc.oneof(
      fc.constantFrom(
        "{{",
        "}}",
        "{{=",
        "{{inputs.parameters.tag}}",
        "{{workflow.uid}}",
        "$(",
        ")",
        "$",
        "'",
        '"',
        "`",
        "\\",
        "\n",
        "\r",
        "\t",
        " ",
        "%",
        "--",
      ),
      fc.string({ unit: "grapheme", maxLength: 4 }),
      fc.string({ maxLength: 6 }),
    );
    const value = fc.array(piece, { maxLength: 8 }).map((parts) => parts.join("").split("\u0000").join(""));
    await fc.assert(
      fc.asyncProperty(fc.array(value, { minLength: 1, maxLength: 6 }), async (values) => {
        const env = Object.fromEntries(values.map((v, i) => [`V${i}`, v]));
        const resolved = await resolveArgoTemplate(exportWith(env), "build", RUN_VARS);
        const dir = runPrepare(
          resolved.initContainers.find((c: Json) => c.name === "source"),
          SHELLS[SHELLS.length - 1]!,
        );
        for (const [name, v] of Object.entries(env)) expect(readFileSync(join(dir, name), "utf8"), JSON.stringify(v)).toBe(v);
      }),
      { numRuns: 15 },
    );
  });
});

describe("submit-time values: the tag and ref are env values, never script text", () => {
  it("a tag or ref with shell or template syntax reaches git and the check as one env value", async () => {
    const yaml = exportWith({});
    const nasty = "$(touch /tmp/packline-pwned-ref) {{workflow.uid}}";
    const pod = await resolveArgoTemplate(yaml, "build", { ...RUN_VARS, "inputs.parameters.tag": nasty, "inputs.parameters.ref": nasty });
    const resolve = podContainer(pod, "source");
    const env = Object.fromEntries(resolve.env.map((e: Json) => [e.name, e.value]));
    // Argo expands a parameter value's own {{...}} (it substitutes globals over the inputs too): harmless here, as
    // the value is an env value, and the version check refuses braces and blanks.
    // Each "$" is doubled for Kubernetes' expansion, which halves them again (expansion.test.ts).
    expect(env.PACKLINE_TAG).toBe(nasty.replace("{{workflow.uid}}", RUN_VARS["workflow.uid"]!).replaceAll("$", "$$$$"));
    expect(env.PACKLINE_REF).toBe(env.PACKLINE_TAG);
    // The script is the same text for every tag: no value is part of it.
    const plain = await resolveArgoTemplate(yaml, "build", RUN_VARS);
    expect(resolve.command).toEqual(podContainer(plain, "source").command);
  });
});
