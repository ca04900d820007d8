/**
 * The Dagger backend of a rebase plan (src/core/plan/rebase.ts): runs its check, then, unless the version already
 * stands on the run image, the rebaser and the release, each container exactly as the plan states it. It decides
 * nothing the plan does not say; the only values it makes are the plan's late values (the run id, the rebaser's
 * report).
 */
import { randomUUID } from "node:crypto";
import { type Container, dag, ReturnType, type Secret } from "@dagger.io/dagger";
import { dockerConfigJson } from "../../core/docker-config.js";
import { PacklineError, quote } from "../../core/errors.js";
import { redact, stripAnsi } from "../../core/failure.js";
import { PATHS } from "../../core/plan/constants.js";
import type { RebasePlan, RebaseStep } from "../../core/plan/rebase.js";
import { resolveText } from "../../core/plan/text.js";
import type { Late } from "../../core/plan/types.js";

export interface RebaseResult {
  readonly digest: string;
  /** The version's digest before the rebase (the result's, when nothing was rebased). */
  readonly from: string;
  /** False when the version already stood on the run image: nothing was written. */
  readonly rebased: boolean;
  /** `image:tag@digest` for the version tag and every floating tag that moved. */
  readonly published: readonly string[];
}

/** The tool user of the crane image (distroless's "nonroot"). */
const TOOL_USER = "65532:65532";

export async function runRebasePlan(plan: RebasePlan, inputs: { readonly registryPassword?: Secret } = {}): Promise<RebaseResult> {
  const lates: Partial<Record<Late, string>> = { "run-id": randomUUID() };
  const { secret, redactions } = await registrySecret(plan, inputs.registryPassword);
  const buildUser = await buildUserOf(plan);
  const run = async (step: RebaseStep): Promise<Container> => {
    const user = step.user.kind === "build-user" ? buildUser : step.user.kind === "tool-user" ? TOOL_USER : "0:0";
    let c = dag.container().from(resolveText(step.image, lates));
    for (const mount of step.mounts) {
      const volume = plan.volumes.find((v) => v.name === mount.volume);
      if (volume?.kind === "scratch") c = c.withDirectory(mount.path, dag.directory(), volume.ownedByBuildUser ? { owner: user } : undefined);
      else if (volume?.kind === "secret" && secret) c = c.withMountedSecret(`${mount.path}/${volume.file}`, secret, { owner: user, mode: 0o400 });
      else throw new PacklineError(`internal: the rebase step ${step.name} mounts ${quote(mount.volume)}, which this backend cannot give.`);
    }
    for (const variable of step.env) c = c.withEnvVariable(variable.name, resolveText(variable.value, lates));
    const argv = [...step.command, ...step.args].map((t) => resolveText(t, lates));
    const ran = c.withUser(user).withWorkdir(step.workdir).withExec(argv, { expect: ReturnType.Any });
    const code = await ran.exitCode();
    if (code !== 0) throw stepFailure(step, code, redact(stripAnsi(`${await ran.stdout()}\n${await ran.stderr()}`), redactions));
    return ran;
  };
  const read = async (ran: Container, step: RebaseStep, name: string) =>
    (await ran.file(step.outputs.find((o) => o.name === name)!.path).contents()).trim();

  const check = await run(plan.steps.check);
  const from = await read(check, plan.steps.check, "digest");
  const reference = (tag: string, digest: string) => `${plan.image.name}:${tag}@${digest}`;
  if ((await read(check, plan.steps.check, "outcome")) === "current") {
    return { digest: from, from, rebased: false, published: [reference(plan.version.version, from)] };
  }
  const rebased = await run(plan.steps.rebase);
  lates["build-report"] = await rebased.file(PATHS.report).contents();
  const release = await run(plan.steps.release);
  const digest = await read(release, plan.steps.release, "digest");
  const moved = (await read(release, plan.steps.release, "moved")).split("\n").filter((t) => t !== "");
  return { digest, from, rebased: digest !== from, published: [plan.version.version, ...moved].map((tag) => reference(tag, digest)) };
}

/** packline's own lines of a failed step (its "packline: ..." lines), else its exit code and last lines. */
function stepFailure(step: RebaseStep, code: number, output: string): PacklineError {
  const own = output
    .split("\n")
    .filter((line) => line.startsWith("packline: "))
    .map((line) => line.slice("packline: ".length));
  return new PacklineError(
    own.length > 0
      ? own.join("\n")
      : `the rebase's ${step.name} step failed (exit code ${code}):\n${output.trim().split("\n").slice(-10).join("\n")}`,
  );
}

async function buildUserOf(plan: RebasePlan): Promise<string> {
  if (plan.buildUser.kind === "given") return `${plan.buildUser.uid}:${plan.buildUser.gid}`;
  const builder = dag.container().from(plan.builder);
  const [uid, gid] = await Promise.all([builder.envVariable("CNB_USER_ID"), builder.envVariable("CNB_GROUP_ID")]);
  if (!uid || !gid || !/^[0-9]+$/.test(uid) || !/^[0-9]+$/.test(gid)) {
    throw new PacklineError(
      `--builder ${quote(plan.builder)} does not set CNB_USER_ID and CNB_GROUP_ID: it is not a Cloud Native Buildpacks builder.`,
    );
  }
  return `${uid}:${gid}`;
}

/** The docker config.json secret the steps read, made inside the engine from the password; what to redact. */
async function registrySecret(plan: RebasePlan, password: Secret | undefined): Promise<{ secret?: Secret; redactions: string[] }> {
  const auth = plan.registryAuth;
  if (!auth) return { redactions: [] };
  if (auth.kind !== "password") {
    throw new PacklineError(
      `--registry-secret ${quote(auth.secretName)} names a cluster secret: on Dagger give --registry-username and --registry-password.`,
    );
  }
  if (!password) throw new PacklineError("--registry-username was given without --registry-password.");
  const value = await password.plaintext();
  if (value === "") throw new PacklineError("--registry-password is empty: give the password or token the registry expects.");
  const config = dockerConfigJson(auth.registry, auth.username, value);
  const basic = Buffer.from(`${auth.username}:${value}`, "utf8").toString("base64");
  return { secret: dag.setSecret(`packline-rebase-registry-auth-${auth.registry}-${auth.username}`, config), redactions: [value, config, basic] };
}
