/**
 * The upstream Argo Workflows JSON schema (vendored in tools/argo-lint/schema/, see its README.md), with unknown
 * fields refused, as an Ajv validator.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { ErrorObject, ValidateFunction } from "ajv";

// Ajv is CommonJS; require() gives its class without default-export guessing.
const Ajv2020 = createRequire(import.meta.url)("ajv/dist/2020") as typeof import("ajv/dist/2020").default;

export const SCHEMA_PATH = fileURLToPath(new URL("../../tools/argo-lint/schema/schema.json", import.meta.url));

type Schema = Record<string, unknown>;

/**
 * The schema with unknown fields refused: every object definition that lists its properties gets
 * `additionalProperties: false`, as `argo lint` (strict) refuses unknown fields; the raw schema lets `imagee:` through.
 */
export function strictSchema(): Schema {
  const schema = JSON.parse(readFileSync(SCHEMA_PATH, "utf8")) as Schema;
  for (const definition of Object.values(schema.definitions as Record<string, Schema>)) {
    if (definition.properties && definition.additionalProperties === undefined) definition.additionalProperties = false;
  }
  return schema;
}

const validators = new Map<string, ValidateFunction>();

/**
 * Validates one Argo document against the definition of its kind (the root's `oneOf` would report every other kind's
 * complaints too); returns readable errors (none when valid). An unknown kind is an error.
 */
export function schemaErrors(document: unknown): string[] {
  const kind = (document as { kind?: unknown } | null)?.kind;
  const name = `io.argoproj.workflow.v1alpha1.${String(kind)}`;
  let validate = validators.get(name);
  if (!validate) {
    const schema = strictSchema();
    if (typeof kind !== "string" || !(name in (schema.definitions as Schema))) return [`/kind ${JSON.stringify(kind)} is not an Argo Workflows kind`];
    const { oneOf: _oneOf, ...rest } = schema;
    // strict: false for the x-kubernetes-* keywords; formats (int32, int64, byte) are not what this is about.
    validate = new Ajv2020({ strict: false, allErrors: true, validateFormats: false }).compile({ ...rest, $ref: `#/definitions/${name}` });
    validators.set(name, validate);
  }
  if (validate(document)) return [];
  return (validate.errors ?? []).map((e: ErrorObject) => {
    const extra = e.params && "additionalProperty" in e.params ? `: ${String(e.params.additionalProperty)}` : "";
    return `${e.instancePath || "/"} ${e.message}${extra}`;
  });
}
