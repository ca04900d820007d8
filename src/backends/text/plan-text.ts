/** The text backend: a plan as a person reads it (what `packline plan` prints). Secrets appear only as names. */
import type { BuildPlan, ContainerStep, Late, PlanText, Volume } from "../../core/plan/planner.js";
import { renderText } from "../../core/plan/text.js";

const LATE_TEXT: Record<Late, string> = {
  tag: "<the tag given at submit time>",
  version: "<version>",
  major: "<major>",
  minor: "<minor>",
  tags: "<the version's tags>",
  now: "<unix time when the build starts>",
  commit: "<the cloned commit>",
  "commit-time": "<unix time of the cloned commit>",
  "source-digest": "<digest of the source directory>",
  "run-id": "<unique per run>",
  "build-report": "<the build's report.toml>",
  "builder-digest": "<the builder's digest, pinned by the check>",
  "run-image": "<the run image by digest, pinned by the check>",
  "lifecycle-version": "<the builder's lifecycle version>",
};

export function show(value: PlanText): string {
  return renderText(value, (late) => LATE_TEXT[late]);
}

/** `localSource`: what the CLI says of the local directory (its absolute path); the plan itself does not know it. */
export function planText(plan: BuildPlan, secretSources: Readonly<Record<string, string>> = {}, localSource?: string): string {
  const lines: string[] = [];
  const version =
    plan.version.kind === "known"
      ? `${plan.version.version}`
      : `given at submit time${plan.version.default ? ` (default ${plan.version.default})` : ""}`;
  lines.push(`version    ${version}`);
  for (const variant of plan.variants) {
    const label = plan.variants.length > 1 ? `publishes (${variant.shapes.join(", ")})` : "publishes";
    lines.push(
      ...labelled(
        label,
        variant.tags.map((tag) => `${plan.image.name}:${show(tag)}`),
      ),
    );
    for (const note of variant.notes) lines.push(`note       ${note}`);
  }
  const target = plan.image.target;
  lines.push(
    `target     ${
      target.kind === "engine-registry"
        ? `${plan.image.registry}, the registry inside the Dagger engine (nothing leaves the machine)`
        : target.kind === "host-registry"
          ? `${plan.image.registry} on this machine, reached from the engine as ${plan.image.address.split("/")[0]}`
          : plan.image.registry
    }${plan.image.insecure ? " (plain HTTP or an untrusted certificate)" : ""}`,
  );
  lines.push(
    `source     ${
      plan.source.kind === "git"
        ? `git ${plan.source.url} at ${show(plan.source.ref)} (the checkout without .git, submodules included)`
        : (localSource ?? "local directory (--source, or the context directory)")
    }`,
  );
  const auth = plan.registryAuth;
  if (auth?.kind === "password")
    lines.push(`login      ${auth.username} at ${auth.registry}, password from ${secretSources["registry-password"] ?? "a secret"} (never shown)`);
  else if (auth) lines.push(`login      at ${auth.registry} with the docker config in secret ${auth.secretName}`);
  lines.push(`created    ${creationText(plan)}`);
  lines.push(`revision   ${show(plan.revision)}`);
  lines.push(
    ...labelled(
      "labels",
      plan.labels.map((l) => `${l.key}=${show(l.value)}`),
    ),
  );
  lines.push(
    `user       ${plan.buildUser.kind === "given" ? `${plan.buildUser.uid}:${plan.buildUser.gid}` : "the builder's CNB user (its CNB_USER_ID:CNB_GROUP_ID)"}`,
  );
  lines.push(
    `order      ${
      plan.overlap.checkBesideBuild
        ? "check and build at once (the build is discarded if the check stops the run; on Dagger only the build's container is made beside the check, and the creator starts after it), then release"
        : "check, build, release"
    }`,
  );
  for (const step of [plan.steps.check, plan.steps.build, plan.steps.release]) {
    if (step) lines.push("", ...stepText(step, plan));
  }
  return `${lines.join("\n")}\n`;
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

const STEP_PURPOSE: Record<ContainerStep["name"], string> = {
  check: "pins the builder and run image to digests; looks up the version's tag: absent, published from this revision (nothing to do), or refused",
  build: "builds and pushes the image to the staging tag",
  release: "labels the staged image and points every tag at it",
};

function stepText(step: ContainerStep, plan: BuildPlan): string[] {
  const user = step.user.kind === "build-user" ? "the build user" : step.user.kind === "tool-user" ? "65532 (nonroot)" : "root (privileged)";
  const lines = [
    `step ${step.name}: ${STEP_PURPOSE[step.name]}`,
    `  image    ${show(step.image)}${step.pullAlways ? " (pulled every time; the release checks the tag still names the pinned digest)" : ""}`,
    `  user     ${user}`,
    `  workdir  ${step.workdir}`,
  ];
  const argv = [...step.command, ...step.args].map((a) => {
    const text = show(a);
    return text.includes("\n") ? `<script of ${text.trim().split("\n").length} lines: packline plan --json shows it>` : text;
  });
  lines.push(...labelled("  command", [argv.join(" \\\n             ")]));
  lines.push(
    ...labelled(
      "  env",
      step.env.filter((e) => !e.name.startsWith("PACKLINE_LABEL_")).map((e) => `${e.name}=${oneLine(show(e.value))}`),
    ),
  );
  lines.push(
    ...labelled(
      "  files",
      step.files.map((f) => `${f.path} = ${JSON.stringify(f.contents)}`),
    ),
  );
  lines.push(
    ...labelled(
      "  mounts",
      step.mounts.map((m) => `${m.path}  ${volumeText(plan.volumes.find((v) => v.name === m.volume))}${m.readOnly ? " (read-only)" : ""}`),
    ),
  );
  return lines;
}

function oneLine(value: string): string {
  return value.includes("\n") ? JSON.stringify(value) : value;
}

function volumeText(volume: Volume | undefined): string {
  if (!volume) return "?";
  const owned = "ownedByBuildUser" in volume && volume.ownedByBuildUser ? ", owned by the build user" : "";
  switch (volume.kind) {
    case "source":
      return `the source${owned}`;
    case "scratch":
      return `empty directory${owned}`;
    case "cache":
      return `cache ${JSON.stringify(volume.key)}${owned}`;
    case "secret":
      return `secret ${JSON.stringify(volume.secret.name)} as ${volume.file} (value never shown)`;
    case "docker-socket":
      return "the node's Docker socket";
  }
}

function labelled(label: string, values: readonly string[]): string[] {
  if (values.length === 0) return [];
  const pad = label.padEnd(11);
  return values.map((v, i) => (i === 0 ? pad : " ".repeat(pad.length)) + v);
}
