/**
 * The first check of what a user typed, driven by the option table: defaults, required options, empty values,
 * enumerations and whole numbers. The same for the CLI and the Dagger functions, so both refuse the same input with
 * the same words. What a value means (a version, an image, a URL) is checked afterwards, in validate.ts.
 */
import { PacklineError, quote } from "../errors.js";
import { type CommandName, flagOf, OPTIONS, type OptionSpec } from "./table.js";

/** What a front end hands in: option name -> value (a secret or directory only as "given": true). */
export type RawInput = Readonly<Record<string, string | number | boolean | readonly string[] | undefined>>;

/** Values after the table's checks: defaults applied, enums in their canonical spelling, numbers as numbers. */
export type CheckedInput = Readonly<Record<string, string | number | boolean | readonly string[] | undefined>>;

export function checkInput(command: CommandName, raw: RawInput): CheckedInput {
  const known = new Set(OPTIONS.filter((o) => o.commands.includes(command)).map((o) => o.name));
  for (const name of Object.keys(raw)) {
    if (!known.has(name)) throw new Error(`internal: ${command} has no option ${name}`);
  }
  const out: Record<string, string | number | boolean | readonly string[] | undefined> = {};
  for (const option of OPTIONS) {
    if (!option.commands.includes(command)) continue;
    const value = raw[option.name] ?? option.default;
    if (value === undefined) {
      if (option.requiredFor?.includes(command)) throw required(option, command);
      continue;
    }
    out[option.name] = checkValue(option, value);
  }
  return out;
}

function required(option: OptionSpec, command: CommandName): PacklineError {
  const examples: Record<string, string> = {
    tag: "e.g. --tag v1.2.3",
    repo: "e.g. --repo https://github.com/acme/app (a cluster clones its source)",
    image: "e.g. --image registry.example.com/acme/app (the registry inside the Dagger engine does not exist in a cluster)",
  };
  return new PacklineError(`${command} needs ${flagOf(option.name)}: ${examples[option.name] ?? "give a value"}.`);
}

function checkValue(option: OptionSpec, value: string | number | boolean | readonly string[]): string | number | boolean | readonly string[] {
  const flag = flagOf(option.name);
  switch (option.kind) {
    case "string":
      if (typeof value !== "string") throw new Error(`internal: ${flag} is not a string`);
      if (value === "") {
        const hint = option.default !== undefined ? `leave it out for the default (${option.default})` : "give a value or leave the option out";
        throw new PacklineError(`${flag} is empty: ${hint}.`);
      }
      return value;
    case "strings":
      if (!Array.isArray(value)) throw new Error(`internal: ${flag} is not a list`);
      for (const item of value as readonly string[]) {
        if (item === "") throw new PacklineError(`${flag} was given an empty value: give a value each time, or leave the option out.`);
      }
      return value;
    case "boolean":
    case "secret":
    case "directory":
      if (typeof value !== "boolean") throw new Error(`internal: ${flag} is not a flag`);
      return value;
    case "integer": {
      const n = typeof value === "number" ? value : typeof value === "string" && /^[0-9]+$/.test(value) ? Number(value) : NaN;
      if (!Number.isSafeInteger(n)) throw new PacklineError(`${flag} ${quote(String(value))} is not a whole number: e.g. ${flag} 2.`);
      return n;
    }
    case "enum":
      return enumValue(option, value);
  }
}

/**
 * Enumerations accept any case and `-` or `_` between words, because Dagger shows its enum values in
 * SCREAMING_SNAKE_CASE (`WORKFLOW_TEMPLATE`) while the CLI and the docs write `workflow-template`.
 */
export function enumValue(option: OptionSpec, value: unknown): string {
  const choices = option.choices ?? [];
  const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, "");
  const match = typeof value === "string" ? choices.find((c) => norm(c) === norm(value)) : undefined;
  if (match === undefined) {
    throw new PacklineError(`${flagOf(option.name)} ${quote(String(value))} does not exist: choose one of ${choices.join(", ")}.`);
  }
  return match;
}
