/**
 * `--env` values: one limit in every command (MAX_ENV_BYTES), and at that limit the cluster's build pod starts.
 *
 * Linux refuses to start a process with one environment string over 128 KiB (MAX_ARG_STRLEN: "argument list too
 * long"). In the build pod the values travel base64-encoded in the `source` init container's env, and the controller
 * adds the whole template as one more env string (ARGO_TEMPLATE, workflow/controller/workflowpod.go) to every init
 * container. The test resolves the build template with Argo's own substitution, gives the source container the env
 * the controller would, and starts a real process with it (execve): it starts at the limit; the control, a value of
 * the size packline accepted before (98 KB), does not.
 */
import { execFileSync } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { exportArgo } from "../../../src/backends/argo/export.js";
import { MAX_ENV_BYTES } from "../../../src/core/options/checks-env.js";
import { validateArgo, validateBuild } from "../../../src/core/options/validate.js";
import { ARGO_LINT_BUILD_TIMEOUT_MS, ensureArgoLint, type Json, resolveArgoTemplate } from "../../support/argo-lint.js";
import { BASE, RUN_VARS, templatesOf } from "../../support/argo-variants.js";
import { packlineError } from "../../support/errors.js";

/** Argo's MaxEnvVarLen (workflow/common/common.go): above it the controller offloads ARGO_TEMPLATE to a ConfigMap. */
const ARGO_MAX_ENV_VAR_LEN = 131072;

beforeAll(async () => {
  await ensureArgoLint();
}, ARGO_LINT_BUILD_TIMEOUT_MS);

/** Go's json.Marshal escapes <, > and & (6 bytes each), as the controller's MustMarshallJSON does. */
const goJson = (value: unknown) => JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

/** Starts /bin/sh with the env the controller gives the source container; returns the error code, if any. */
async function startPrepare(yaml: string): Promise<{ code?: string; template: number }> {
  const build = await resolveArgoTemplate(yaml, "build", RUN_VARS);
  const prepare = build.initContainers.find((c: Json) => c.name === "source");
  const template = goJson({ ...build, inputs: {} });
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
  for (const e of prepare.env) env[e.name] = e.value;
  Object.assign(env, { ARGO_CONTAINER_NAME: "source", ARGO_TEMPLATE: template, ARGO_NODE_ID: "packline-app-x7k2p-1234567890" });
  try {
    execFileSync("/bin/sh", ["-c", "exit 0"], { env, stdio: "pipe" });
    return { template: template.length };
  } catch (error) {
    return { code: (error as NodeJS.ErrnoException).code, template: template.length };
  }
}

const env = (bytes: number) => [`BIG=${"x".repeat(bytes - 1)}y`];

describe("--env values: one limit in every command, and the cluster's build pod starts at it", () => {
  it(`build, plan and argo take ${MAX_ENV_BYTES} bytes of values and refuse one more, with the same message`, () => {
    expect(validateBuild("build", { tag: "v1.2.3", env: env(MAX_ENV_BYTES) }).env[0]!.value).toHaveLength(MAX_ENV_BYTES);
    const split = [`A=${"a".repeat(MAX_ENV_BYTES / 2)}`, `B=${"b".repeat(MAX_ENV_BYTES / 2)}`];
    expect(validateArgo({ ...BASE, env: split }).build.env).toHaveLength(2);
    const messages = [
      packlineError(() => validateBuild("build", { tag: "v1.2.3", env: env(MAX_ENV_BYTES + 1) })).message,
      packlineError(() => validateBuild("plan", { tag: "v1.2.3", env: env(MAX_ENV_BYTES + 1) })).message,
      packlineError(() => validateArgo({ ...BASE, env: env(MAX_ENV_BYTES + 1) })).message,
      // Bytes, not characters: 32769 characters, 32768 of them two bytes long.
      packlineError(() => validateArgo({ ...BASE, env: [`U=${"é".repeat(MAX_ENV_BYTES / 2)}x`] })).message,
    ];
    expect(new Set(messages).size).toBe(1);
    expect(messages[0]).toMatch(/^--env values hold 65537 bytes together, over the 65536 \(64 KiB\) packline takes with every command/);
  });

  it("at the limit, in one value or several, the source container starts (no ConfigMap offload needed)", async () => {
    for (const values of [env(MAX_ENV_BYTES), Array.from({ length: 8 }, (_, i) => `V${i}=${"v".repeat(MAX_ENV_BYTES / 8)}`)]) {
      const started = await startPrepare(exportArgo({ ...BASE, tag: "v1.2.3", env: values }).yaml);
      expect(started.code).toBeUndefined();
      expect(started.template).toBeLessThan(ARGO_MAX_ENV_VAR_LEN - "ARGO_TEMPLATE=".length);
      console.log(`env-size: at the limit, ARGO_TEMPLATE holds ${started.template} bytes (Linux's limit: 131072 with its name)`);
    }
  });

  it("control: a 98 KB value, which packline took before, cannot start the source container", async () => {
    const document = parse(exportArgo({ ...BASE, tag: "v1.2.3", env: env(MAX_ENV_BYTES) }).yaml);
    const prepare = templatesOf(document).build.initContainers.find((c: Json) => c.name === "source");
    prepare.env.find((e: Json) => e.name === "PACKLINE_FILE_0").value = Buffer.from("x".repeat(98 * 1000)).toString("base64");
    expect((await startPrepare(stringify(document))).code).toBe("E2BIG");
  });
});
