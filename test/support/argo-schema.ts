import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import type { ErrorObject, ValidateFunction } from "ajv";

// Ajv is CommonJS; require() gives its class without default-export guessing.
const Ajv2020 = createRequire(import.meta.url)("ajv/dist/2020") as typeof import("ajv/dist/2020").default;

/** The upstream Argo Workflows JSON schema (v4.1.2), shipped read-only in ../shared. */
export const SCHEMA_PATH = fileURLToPath(new URL("../../../shared/schemas/argo-workflows/schema.json", import.meta.url));

type Schema = Record<string, unknown>;

/**
 * The schema with unknown fields refused: every object definition that lists its properties gets
 * `additionalProperties: false`, as `argo lint --strict` refuses unknown fields (the raw schema lets `imagee:` through).
 */
export function strictSchema(): Schema {
  const schema = JSON.parse(readFileSync(SCHEMA_PATH, "utf8")) as Schema;
  const definitions = schema.definitions as Record<string, Schema>;
  for (const definition of Object.values(definitions)) {
    if (definition.properties && definition.additionalProperties === undefined) definition.additionalProperties = false;
  }
  return schema;
}

let validator: ValidateFunction | undefined;

/** Validates one Argo document; returns readable errors (empty when valid). */
export function schemaErrors(document: unknown): string[] {
  if (!validator) {
    // strict: false for the x-kubernetes-* keywords; formats (int32, int64, byte) are not what this test is about.
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    validator = ajv.compile(strictSchema());
  }
  if (validator(document)) return [];
  return (validator.errors ?? []).map((e: ErrorObject) => `${e.instancePath || "/"} ${e.message}${e.params && "additionalProperty" in e.params ? `: ${String(e.params.additionalProperty)}` : ""}`);
}
