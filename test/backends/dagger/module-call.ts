/**
 * Calls the Dagger object (src/index.ts) as the engine does: the constructor with the shared settings, then the
 * function with its own arguments, each positionally in the declared order, named arguments mapped onto that order.
 * The orders are the option table's (constructorOptions, functionOptions); test/dagger/surface.test.ts checks that
 * src/index.ts declares them in that order, so a reordered signature fails there instead of passing wrong values here.
 */
import { dag } from "@dagger.io/dagger";
import { constructorOptions, functionOptions } from "../../../src/core/options/table.js";
import { type BuildResult, Packline } from "../../../src/index.js";

export const CONSTRUCTOR_ARGUMENTS = constructorOptions().map((o) => o.name);
export const BUILD_ARGUMENTS = functionOptions("build").map((o) => o.name);
export const ARGO_ARGUMENTS = functionOptions("argo").map((o) => o.name);

type ConstructorParams = ConstructorParameters<typeof Packline>;
type ArgoParams = Parameters<Packline["argo"]>;
/** Any option by name: the constructor's and the function's, as a user gives them on one `dagger call` line. */
export type BuildArgs = Partial<Record<string, unknown>>;
export type ArgoArgs = Partial<Record<string, unknown>>;

/**
 * The arguments in the declared order. What the engine does for an argument the user left out: `undefined` for an
 * optional one, which JavaScript turns into the parameter's default; the context directory when none is given.
 */
function positional(order: readonly string[], named: Record<string, unknown>): unknown[] {
  return order.map((name) => named[name]);
}

function split(functionOrder: readonly string[], named: Record<string, unknown>): { object: Packline; own: unknown[] } {
  for (const name of Object.keys(named)) {
    if (!CONSTRUCTOR_ARGUMENTS.includes(name) && !functionOrder.includes(name)) throw new Error(`no argument ${name}`);
  }
  const ctor = positional(CONSTRUCTOR_ARGUMENTS, { context: dag.host().directory("/home/dev/app"), ...named }) as ConstructorParams;
  return { object: new Packline(...ctor), own: positional(functionOrder, named) };
}

export function callBuild(named: BuildArgs & { tag: string }): Promise<string> {
  const { object, own } = split(BUILD_ARGUMENTS, named);
  return object.build(...(own as [string]));
}

export function callResult(named: BuildArgs & { tag: string }): Promise<BuildResult> {
  const { object, own } = split(BUILD_ARGUMENTS, named);
  return object.result(...(own as [string]));
}

export function callArgo(named: ArgoArgs & { repo: string; image: string }) {
  const { object, own } = split(ARGO_ARGUMENTS, named);
  return object.argo(...(own as ArgoParams));
}
