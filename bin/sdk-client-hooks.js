// Module hooks of the packline CLI (registered by bin/packline.js): "@dagger.io/dagger" resolves to the SDK's own
// entry without its module runtime (`entrypoint`, what `dagger call` runs inside the engine), whose introspector
// imports the TypeScript compiler: 2-4 s of every `packline build`'s start, for a client that never uses it.
const CLIENT = "?packline-client";

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  return specifier === "@dagger.io/dagger" ? { ...resolved, url: `${resolved.url}${CLIENT}` } : resolved;
}

export async function load(url, context, nextLoad) {
  if (!url.endsWith(CLIENT)) return nextLoad(url, context);
  const entry = await nextLoad(url.slice(0, -CLIENT.length), context);
  const source = String(entry.source).replace(/^export \{ entrypoint \} from "\.\/module\/entrypoint\/entrypoint\.js";$/m, "");
  return { format: "module", source, shortCircuit: true };
}
