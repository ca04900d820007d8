/** Helpers for PlanText: text made of literal parts and values known only when the build runs. */
import { PacklineError } from "../errors.js";
import type { Late, LatePart, PlanText } from "./types.js";

export function late(value: Late): LatePart {
  return { late: value };
}

/** Joins parts into one PlanText, merging neighbouring literals, so equal texts have one shape. */
export function text(...parts: readonly (string | LatePart | PlanText)[]): PlanText {
  const out: (string | LatePart)[] = [];
  const push = (part: string | LatePart) => {
    if (typeof part === "string") {
      if (part === "") return;
      const last = out[out.length - 1];
      if (typeof last === "string") out[out.length - 1] = last + part;
      else out.push(part);
    } else {
      out.push(part);
    }
  };
  for (const part of parts) {
    if (Array.isArray(part)) for (const p of part as PlanText) push(p);
    else push(part as string | LatePart);
  }
  return out;
}

/** The late values a text needs. */
export function latesOf(value: PlanText): Late[] {
  return value.flatMap((part) => (typeof part === "string" ? [] : [part.late]));
}

/** The text, with each late value replaced by what `render` makes of it. */
export function renderText(value: PlanText, render: (late: Late) => string): string {
  return value.map((part) => (typeof part === "string" ? part : render(part.late))).join("");
}

/** The text with every late value supplied; throws if one is missing (a backend bug, not a user error). */
export function resolveText(value: PlanText, values: Readonly<Partial<Record<Late, string>>>): string {
  return renderText(value, (name) => {
    const v = values[name];
    if (v === undefined) throw new PacklineError(`internal: no value for ${name} when the build runs.`);
    return v;
  });
}

/** A text that holds no late value, as a string. */
export function literal(value: PlanText): string | undefined {
  return value.every((part) => typeof part === "string") ? value.join("") : undefined;
}
