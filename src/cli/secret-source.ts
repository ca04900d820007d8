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
