import type { BuildPlan, ContainerStep, EnvVar, Mount } from "./plan.js";

const RUNTIME_TEXT = {
  now: "<unix time when the build starts>",
  "commit-time": "<unix time of the cloned commit>",
  "run-id": "<unique per run>",
} as const;

/** A human-readable account of what a plan runs: what `packline plan` prints. Secrets appear only as names. */
export function planText(plan: BuildPlan, secretSources: Readonly<Record<string, string>> = {}): string {
  const lines: string[] = [];
  lines.push(`version ${plan.version}`);
  lines.push(...labelled("publishes", plan.references));
  lines.push(
    `target     ${plan.publishTo.kind === "engine-registry" ? `${plan.publishTo.host}, the registry inside the Dagger engine (nothing leaves the machine)` : plan.publishTo.registry}`,
  );
  lines.push(
    `source     ${plan.source.kind === "git" ? `git ${plan.source.url} at ${plan.source.ref}` : "local directory (--source, or the context directory)"}`,
  );
  const auth = plan.registryAuth;
  if (auth?.kind === "password") {
    const from = secretSources["registry-password"] ?? "a secret";
    lines.push(`login      ${auth.username} at ${auth.registry}, password from ${from} (never shown)`);
  } else if (auth) {
    lines.push(`login      at ${auth.registry} with the docker config in secret ${auth.secretName}`);
  }
  lines.push(`created    ${creationText(plan)}`);
  for (const note of plan.notes) lines.push(`note       ${note}`);
  if (plan.commitTime) lines.push("", ...stepText(plan.commitTime));
  lines.push("", ...stepText(plan.build));
  return lines.join("\n") + "\n";
}

function creationText(plan: BuildPlan): string {
  switch (plan.creationTime.kind) {
    case "default":
      return "1980-01-01T00:00:01Z (the lifecycle's fixed date: same source, same image digest)";
    case "now":
      return "when the build runs (SOURCE_DATE_EPOCH)";
    case "commit":
      return "the cloned commit's time (SOURCE_DATE_EPOCH)";
    case "unix":
      return `${new Date(plan.creationTime.seconds * 1000).toISOString()} (SOURCE_DATE_EPOCH=${plan.creationTime.seconds})`;
  }
}

function stepText(step: ContainerStep): string[] {
  const lines = [`step ${step.name}`, `  image    ${step.image}`, `  user     ${step.user}`, `  workdir  ${step.workdir}`];
  lines.push(...labelled("  command", [step.command.concat(step.args).join(" \\\n             ")]));
  lines.push(...labelled("  env", step.env.map(envText)));
  lines.push(...labelled("  files", step.files.map((f) => `${f.path} = ${JSON.stringify(f.contents)}`)));
  lines.push(...labelled("  mounts", step.mounts.map(mountText)));
  return lines;
}

function envText(variable: EnvVar): string {
  return "value" in variable ? `${variable.name}=${variable.value}` : `${variable.name}=${RUNTIME_TEXT[variable.runtime]}`;
}

function mountText(mount: Mount): string {
  const owned = "ownedByBuildUser" in mount && mount.ownedByBuildUser ? ", owned by the builder's CNB user" : "";
  switch (mount.kind) {
    case "source":
      return `${mount.path}  the source${owned}`;
    case "scratch":
      return `${mount.path}  empty directory${owned}`;
    case "cache":
      return `${mount.path}  cache ${JSON.stringify(mount.key)}${owned}`;
    case "secret":
      return `${mount.path}  secret ${JSON.stringify(mount.secret.name)} (value never shown)`;
    case "docker-socket":
      return `${mount.path}  the node's Docker socket`;
  }
}

function labelled(label: string, values: readonly string[]): string[] {
  if (values.length === 0) return [];
  const pad = label.padEnd(11);
  return values.map((v, i) => (i === 0 ? pad : " ".repeat(pad.length)) + v);
}
