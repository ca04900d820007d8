/**
 * The few lines of shell that carry late values between the containers of the one build pod.
 *
 * In one pod no Argo parameter can pass a value from one container to the next: the resolve container writes the
 * version, its parts and shape, the commit and its time as files on a volume every container mounts, the check writes
 * its outcome there, the build its report.toml on its layers volume. A container whose env holds one of those values
 * starts with a prelude that reads the files into its env and then runs the step's own command unchanged:
 * `[shell, -c, PRELUDE, name, ...command, ...args]` ending in `exec "$@"`. The literal parts of a value are single-quoted
 * shell words, so the prelude's shell rewrites no user value; the prelude is a container argument, which the exporter
 * escapes for Kubernetes' `$(VAR)` expansion like every other string.
 *
 * Pure: the same input gives the same text.
 */
import { PacklineError } from "../../core/errors.js";
import type { EnvVar, Late, PlanText, Variant } from "../../core/plan/types.js";

/** The late values read from a file the resolve container wrote (RESOLVE_OUT/<name>), and their shell variables. */
export const RESOLVED: Partial<Record<Late, string>> = {
  version: "version",
  major: "major",
  minor: "minor",
  commit: "commit",
  "commit-time": "commit_time",
  // what the check pinned (pin.ts), in the same folder
  "builder-digest": "builder_digest",
  "run-image": "run_image",
  "lifecycle-version": "lifecycle_version",
};

/** Late values Argo itself knows (substituted into the prelude's text: digits, a uid). */
export type Globals = Partial<Record<Late, string>>;

export interface PreludeSpec {
  /** The shell that runs the prelude (the step's own: its image has it). */
  readonly shell: string;
  /** The step's env values that hold late values (the others stay plain env values). */
  readonly env: readonly EnvVar[];
  /** Where the resolve and check containers write their files. */
  readonly dir: string;
  /** The tags of each shape of version (plan.variants), for a `tags` value. */
  readonly variants: readonly Variant[];
  /** Where the build's report.toml is, for a `build-report` value. */
  readonly report?: string;
  readonly globals: Globals;
  /** When the check found the version published: the step does nothing (exit 0). */
  readonly skipWhenPublished?: boolean;
  /** Files to write before the skip (the pod's outputs the main container gives): name -> late value. */
  readonly write?: Readonly<Record<string, Late>>;
  /** Re-run the command in place after one of these exit codes, at most `limit` times (10 s, then twice as long). */
  readonly retry?: { readonly codes: readonly number[]; readonly limit: number };
}

/** A string as one single-quoted shell word: nothing in it is expanded. */
export function shellWord(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The shell variable a late value is in, or Argo's own text for one Argo knows. */
function wordOf(text: PlanText, globals: Globals): string {
  if (text.length === 0) return "''";
  return text
    .map((part) => {
      if (typeof part === "string") return shellWord(part);
      const global = globals[part.late];
      if (global !== undefined) return shellWord(global);
      return `"$${variableOf(part.late)}"`;
    })
    .join("");
}

function variableOf(late: Late): string {
  if (late === "tags") return "tags";
  if (late === "build-report") return "build_report";
  const name = RESOLVED[late];
  if (!name) throw new PacklineError(`internal: ${late} has no place in a cluster build pod.`);
  return name;
}

/** The late values a text needs from files (those Argo does not know itself). */
function latesIn(texts: readonly PlanText[], globals: Globals): Set<Late> {
  const lates = new Set<Late>();
  for (const text of texts) for (const part of text) if (typeof part !== "string" && globals[part.late] === undefined) lates.add(part.late);
  return lates;
}

/** The prelude's text, ending in the command's run (`exec "$@"`, or the in-place retry loop). */
export function latePrelude(spec: PreludeSpec): string {
  const writes = Object.entries(spec.write ?? {});
  const lates = latesIn([...spec.env.map((e) => e.value), ...writes.map(([, late]) => [{ late }])], spec.globals);
  const tagTexts = spec.variants.flatMap((v) => v.tags);
  const needed = new Set(lates);
  if (lates.has("tags")) for (const late of latesIn(tagTexts, spec.globals)) needed.add(late);
  const d = shellWord(spec.dir);
  const lines = ["set -eu", `d=${d}`];
  for (const late of Object.keys(RESOLVED) as Late[]) {
    if (needed.has(late)) lines.push(`${variableOf(late)}=$(cat "$d/${late}")`);
  }
  if (needed.has("tags")) {
    lines.push(`case "$(cat "$d/shape")" in`);
    spec.variants.forEach((variant, i) => {
      const pattern = i === spec.variants.length - 1 ? "*" : variant.shapes.join(" | ");
      lines.push(`  ${pattern}) tags=${variant.tags.map((t) => wordOf(t, spec.globals)).join("' '")} ;;`);
    });
    lines.push("esac");
  }
  for (const [file, late] of writes) lines.push(`printf '%s' ${wordOf([{ late }], spec.globals)} > "$d/${file}"`);
  if (spec.skipWhenPublished) {
    lines.push(`if [ "$(cat "$d/outcome")" = published ]; then echo "packline: published already: nothing to do here"; exit 0; fi`);
  }
  if (needed.has("build-report")) {
    if (!spec.report) throw new PacklineError("internal: a build report without its path.");
    // byte for byte: $(...) alone would drop the file's last line breaks
    lines.push(`build_report=$(cat ${shellWord(spec.report)}; echo .)`, `build_report=\${build_report%.}`);
  }
  for (const env of spec.env) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(env.name)) throw new PacklineError(`internal: env name ${env.name}.`);
    lines.push(`export ${env.name}=${wordOf(env.value, spec.globals)}`);
  }
  if (spec.retry && spec.retry.limit > 0 && spec.retry.codes.length > 0) {
    lines.push(
      "n=0",
      "while :; do",
      '  rc=0; "$@" || rc=$?',
      `  case "$rc" in 0) exit 0 ;; ${spec.retry.codes.join(" | ")}) ;; *) exit "$rc" ;; esac`,
      `  if [ "$n" -ge ${spec.retry.limit} ]; then exit "$rc"; fi`,
      "  n=$((n + 1)); s=$((10 << (n - 1)))",
      `  echo "packline: exit code $rc, which a retry may fix: attempt $((n + 1)) in $s s" >&2`,
      '  sleep "$s"',
      "done",
    );
  } else {
    lines.push('exec "$@"');
  }
  return `${lines.join("\n")}\n`;
}

/** The shell a step's command runs (its first word, when it is a POSIX sh), for the prelude. */
export function shellOf(command: readonly PlanText[]): string | undefined {
  const first = command[0];
  const word = first && first.length === 1 && typeof first[0] === "string" ? first[0] : undefined;
  return word !== undefined && /(^|\/)sh$/.test(word) ? word : undefined;
}

/** The late values in a step's env that need files (those that make a prelude necessary). */
export function fileLatesOf(env: readonly EnvVar[], globals: Globals): EnvVar[] {
  return env.filter((e) => latesIn([e.value], globals).size > 0);
}
