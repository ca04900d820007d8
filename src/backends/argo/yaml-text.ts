/**
 * The YAML text of a workflow, for a person to read: the scripts as block scalars, and the small objects a container
 * repeats (its security settings, each env value, each volume mount, each parameter) on one line each, in flow style,
 * as Kubernetes' own examples write them. Only the layout differs: parsed back, the text is the same object.
 */
import { Document, isMap, isPair, isScalar, isSeq, visit } from "yaml";

/** Keys whose whole value is written on one line. */
const ONE_LINE = new Set(["securityContext", "resources", "backoff", "podGC", "valueFrom", "labels"]);

/** Keys whose list items are written one line each. */
const ONE_LINE_ITEMS = new Set(["env", "volumeMounts", "volumes", "parameters"]);

export function workflowYaml(workflow: object): string {
  const doc = new Document(workflow, { aliasDuplicateObjects: false });
  visit(doc, {
    Pair(_key, pair) {
      if (!isPair(pair) || !isScalar(pair.key)) return;
      const key = String(pair.key.value);
      if (ONE_LINE.has(key) && isMap(pair.value)) pair.value.flow = true;
      if (ONE_LINE_ITEMS.has(key) && isSeq(pair.value)) {
        for (const item of pair.value.items) if (isMap(item)) item.flow = true;
      }
    },
  });
  return doc.toString({ lineWidth: 0 });
}
