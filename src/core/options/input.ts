/**
 * The first check of what a user typed, driven by the option table: defaults, required options, empty values,
 * enumerations and whole numbers. The same for the CLI and the Dagger functions, so both refuse the same input with
 * the same words. What a value means (a version, an image, a URL) is checked afterwards, in validate.ts.
 */
import { PacklineError, quote } from "../errors.js";
import { type CommandName, flagOf, OPTIONS, type Option, type OptionSpec } from "./table.js";

// The input types below are derived from the table (table.ts, `as const`): a name that is not an option of the
// command, or a value of the wrong type, does not compile. test/core/options/typed.test.ts proves it.

/** The options `command` takes (for a union of commands: the options any of them takes). */
export type OptionOf<C extends CommandName> = Option extends infer O
  ? O extends Option
    ? C extends O["commands"][number]
      ? O
      : never
    : never
  : never;

/** An option's value after the table's checks: enums as their canonical choice, whole numbers as numbers, secrets and directories as "given". */
export type CheckedValue<O extends Option> = O extends { readonly kind: "string" }
  ? string
  : O extends { readonly kind: "strings" }
    ? readonly string[]
    : O extends { readonly kind: "boolean" | "secret" | "directory" }
      ? boolean
      : O extends { readonly kind: "integer" }
        ? number
        : O extends { readonly kind: "enum"; readonly choices: readonly (infer V)[] }
          ? V
          : never;

/** An option's value as a front end hands it in: an enum in any spelling, a whole number also as its digits. */
export type RawValue<O extends Option> = O extends { readonly kind: "integer" }
  ? number | string
  : O extends { readonly kind: "enum" }
    ? string
    : CheckedValue<O>;

/** What a front end hands in for `command`: option name -> value (a secret or directory only as "given": true). */
export type RawInput<C extends CommandName = CommandName> = { readonly [O in OptionOf<C> as O["name"]]?: RawValue<O> | undefined };

/** Whether checkInput always sets the option for `C`: it has a default, or `C` requires it. */
type Always<O extends Option, C extends CommandName> = O extends { readonly default: unknown }
  ? true
  : O extends { readonly requiredFor: readonly (infer R)[] }
    ? C extends R
      ? true
      : false
    : false;

type Checked1<C extends CommandName> = {
  readonly [O in OptionOf<C> as Always<O, C> extends true ? O["name"] : never]: CheckedValue<O>;
} & {
  readonly [O in OptionOf<C> as Always<O, C> extends true ? never : O["name"]]?: CheckedValue<O>;
} & {
  // The options of other commands are absent, so code shared between commands can read them.
  readonly [O in Exclude<Option, OptionOf<C>> as O["name"]]?: undefined;
};

/**
 * Values after the table's checks, for one command (for a union of commands, one of them): defaults applied, enums
 * in their canonical spelling, numbers as numbers.
 */
export type CheckedInput<C extends CommandName> = C extends CommandName ? Checked1<C> : never;

export function checkInput<C extends CommandName>(command: C, raw: RawInput<C>): CheckedInput<C> {
  const known = new Set(OPTIONS.filter((o) => o.commands.includes(command)).map((o) => o.name));
  for (const name of Object.keys(raw)) {
    if (!known.has(name)) throw new Error(`internal: ${command} has no option ${name}`);
  }
  const values = raw as Readonly<Record<string, string | number | boolean | readonly string[] | undefined>>;
  const out: Record<string, string | number | boolean | readonly string[] | undefined> = {};
  for (const option of OPTIONS) {
    if (!option.commands.includes(command)) continue;
    const value = values[option.name] ?? option.default;
    if (value === undefined) {
      if (option.requiredFor?.includes(command)) throw required(option, command);
      continue;
    }
    out[option.name] = checkValue(option, value, command);
  }
  return out as CheckedInput<C>;
}

const REQUIRED_EXAMPLES: Readonly<Record<string, string>> = {
  tag: "e.g. --tag v1.2.3",
  repo: "e.g. --repo https://github.com/acme/app (a cluster clones its source)",
  image: "e.g. --image registry.example.com/acme/app (the registry inside the Dagger engine does not exist in a cluster)",
};

function required(option: OptionSpec, command: CommandName): PacklineError {
  return new PacklineError(`${command} needs ${flagOf(option.name)}: ${REQUIRED_EXAMPLES[option.name] ?? "give a value"}.`);
}

function checkValue(
  option: OptionSpec,
  value: string | number | boolean | readonly string[],
  command: CommandName,
): string | number | boolean | readonly string[] {
  const flag = flagOf(option.name);
  switch (option.kind) {
    case "string":
      if (typeof value !== "string") throw new Error(`internal: ${flag} is not a string`);
      if (value === "") {
        // A required option cannot be left out: say so, with an example, not "leave the option out".
        const hint = option.requiredFor?.includes(command)
          ? `${command} needs it: give a value, ${REQUIRED_EXAMPLES[option.name] ?? "not an empty one"}`
          : option.default !== undefined
            ? `leave it out for the default (${option.default})`
            : "give a value or leave the option out";
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
