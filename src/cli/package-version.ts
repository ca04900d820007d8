/**
 * The version of an installed package, read from the first package.json named `name` found walking up from a
 * directory inside it (its source file's or its resolved entry's). Used for packline's own version (src/ or
 * dist/src/) and for the Dagger SDK's (dist/src/ under its package). Nothing runs at import time.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * The `version` of the nearest package.json at or above `startDir` whose `name` is `name`; undefined when none is
 * found up to the filesystem's root. A package.json of another name (a nested `{"type": "module"}` one, or an
 * enclosing project's) is passed over, not taken.
 */
export function findPackageVersion(startDir: string, name: string): string | undefined {
  for (let dir = startDir; ; dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (pkg.name === name && pkg.version) return pkg.version;
    }
    if (dirname(dir) === dir) return undefined;
  }
}
