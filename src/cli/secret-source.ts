import { readFileSync } from "node:fs";
import { PacklineError, quote } from "../core/errors.js";

/**
 * Where the CLI reads a secret from: the same forms `dagger call` takes (`env:NAME`, `file:PATH`).
 * A literal value is refused: it would sit in shell history and in the process list for anyone to read.
 */
export type SecretSource = { readonly kind: "env"; readonly name: string } | { readonly kind: "file"; readonly path: string };

export function parseSecretSource(flag: string, value: string): SecretSource {
  const env = /^env:([A-Za-z_][A-Za-z0-9_]*)$/.exec(value);
  if (env) return { kind: "env", name: env[1]! };
  const file = /^file:(.+)$/.exec(value);
  if (file) return { kind: "file", path: file[1]! };
  // A reference, but a bad one. Never echo what follows the prefix: a variable name that is no name may be a pasted
  // token (env:$TOKEN). Say what is wrong with it instead.
  const prefix = /^(env|file):/i.exec(value)?.[1];
  if (prefix !== undefined) {
    const kind = prefix.toLowerCase();
    const rest = value.slice(prefix.length + 1);
    if (prefix !== kind) throw new PacklineError(`${flag} ${prefix}:...: write the prefix in lower case, ${kind}:.`);
    if (rest === "") {
      throw new PacklineError(
        kind === "env"
          ? `${flag} env: names no variable: give env:NAME, NAME being the environment variable that holds the secret.`
          : `${flag} file: names no file: give file:PATH, PATH being the file that holds the secret.`,
      );
    }
    throw new PacklineError(
      `${flag} env:... is a reference, but what follows env: is not an environment variable name (${whatIsWrong(rest)}): a name has only letters, digits and _, and does not start with a digit; export the secret under such a name (e.g. MY_TOKEN) and give env:MY_TOKEN.`,
    );
  }
  // Never echo the value: it may be the secret itself.
  throw new PacklineError(
    `${flag} takes a secret by reference, not a literal value: give env:NAME (an environment variable) or file:PATH (a file holding it).`,
  );
}

/** The reference as text, for plans and messages (it names where the secret is, never the secret). */
export function describeSecretSource(source: SecretSource): string {
  return source.kind === "env" ? `env:${source.name}` : `file:${source.path}`;
}

export function readSecret(flag: string, source: SecretSource, env: NodeJS.ProcessEnv = process.env): string {
  if (source.kind === "env") {
    const value = env[source.name];
    if (value === undefined || value === "") {
      throw new PacklineError(`${flag} env:${source.name}: the environment variable ${source.name} is not set (or empty): export it first.`);
    }
    return value;
  }
  let value: string;
  try {
    value = readFileSync(source.path, "utf8").replace(/\r?\n$/, "");
  } catch (error) {
    throw new PacklineError(`${flag} file:${source.path}: cannot read ${quote(source.path)} (${(error as NodeJS.ErrnoException).code ?? "error"}).`);
  }
  if (value === "") throw new PacklineError(`${flag} file:${source.path}: the file is empty: put the password or token in it.`);
  return value;
}

/**
 * What keeps `name` from being a variable name, by the rule it breaks: never its characters, which would be part of
 * a secret pasted by mistake (env:$TOKEN puts the token here).
 */
function whatIsWrong(name: string): string {
  if (/^[0-9]/.test(name)) return "it starts with a digit";
  return "it has characters other than letters, digits and _ (not shown: it may be a pasted secret)";
}
