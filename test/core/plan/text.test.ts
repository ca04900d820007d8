import { describe, expect, it } from "vitest";
import { late, latesOf, literal, renderText, resolveText, text } from "../../../src/core/plan/text.js";

describe("PlanText", () => {
  it("joins parts, merging neighbouring literals, so equal texts have one shape", () => {
    expect(text("a", "b", late("version"), "", ["c", late("major")], "d")).toEqual(["ab", { late: "version" }, "c", { late: "major" }, "d"]);
    expect(text("x:", ["1", "."], "2")).toEqual(["x:1.2"]);
  });
  it("lists, renders and resolves late values", () => {
    const t = text("img:", late("major"), ".", late("minor"));
    expect(latesOf(t)).toEqual(["major", "minor"]);
    expect(renderText(t, (l) => `{{${l}}}`)).toBe("img:{{major}}.{{minor}}");
    expect(resolveText(t, { major: "1", minor: "2" })).toBe("img:1.2");
    expect(() => resolveText(t, { major: "1" })).toThrow("internal: no value for minor when the build runs.");
    expect(literal(t)).toBeUndefined();
    expect(literal(["a", "b"])).toBe("ab");
  });
  it("a late value's text is never confused with a literal of the same characters", () => {
    expect(resolveText(["{{version}}", late("version")], { version: "1.0.0" })).toBe("{{version}}1.0.0");
  });
});
