// Portable: no runtime APIs.
/**
 * Which blocks and variables a template uses: collected by the walk that validates a step's
 * inputs (`parseStep`), remembered for that inputs object, and recalled when the step runs, so
 * that resolving the inputs needs no second walk to find what to read. Private: never
 * re-exported.
 *
 * @module
 */

import {
  BLOCK_PREFIXES,
  forEachString,
  isPlainObject,
  matchingPrefix,
  scanPlaceholders,
  VARIABLE_PREFIXES,
} from "./_substitute.ts";

/** A block placeholder's name, split: `prefect.blocks.<slug>.<name>[.<key path>]`. */
export interface BlockName {
  prefix: string;
  slug: string;
  name: string;
  keyPath: string | undefined;
}

/** The blocks (by name and by `$ref` id) and variables a template uses. */
export interface ValueUsage {
  /** Blocks by {@linkcode blockKey}. */
  names: Map<string, BlockName>;
  /** Block document ids of `{"$ref": {"block_document_id": ...}}` objects. */
  ids: Set<string>;
  /** Variable names, prefix removed. */
  variables: Set<string>;
}

/** Splits `prefect.blocks.<slug>.<name>[.<key path>]`; undefined when malformed. */
export function parseBlockName(placeholderName: string): BlockName | undefined {
  const prefix = matchingPrefix(placeholderName, BLOCK_PREFIXES) ?? "";
  const rest = placeholderName.slice(prefix.length);
  const firstDot = rest.indexOf(".");
  if (firstDot <= 0) return undefined;
  const secondDot = rest.indexOf(".", firstDot + 1);
  const name = secondDot < 0
    ? rest.slice(firstDot + 1)
    : rest.slice(firstDot + 1, secondDot);
  if (name === "") return undefined;
  return {
    prefix,
    slug: rest.slice(0, firstDot),
    name,
    keyPath: secondDot < 0 ? undefined : rest.slice(secondDot + 1),
  };
}

/** The key of a block in {@linkcode ValueUsage.names} and in fetched maps. */
export function blockKey(slug: string, name: string): string {
  return `${slug}\u0000${name}`;
}

/** A variable placeholder's name without its prefix. */
export function variableName(placeholderName: string): string {
  const prefix = matchingPrefix(placeholderName, VARIABLE_PREFIXES) ?? "";
  return placeholderName.slice(prefix.length);
}

/** The truthy `$ref.block_document_id` of an object, as Prefect reads it. */
export function refId(value: Record<string, unknown>): string | undefined {
  if (!Object.hasOwn(value, "$ref")) return undefined;
  const ref = value["$ref"];
  if (!isPlainObject(ref) || !Object.hasOwn(ref, "block_document_id")) {
    return undefined;
  }
  const id = ref["block_document_id"];
  return id ? String(id) : undefined;
}

/** An empty usage. */
export function createValueUsage(): ValueUsage {
  return { names: new Map(), ids: new Set(), variables: new Set() };
}

/** Notes the block and variable placeholders of one string. */
export function noteString(usage: ValueUsage, text: string): void {
  // Most strings hold no block or variable placeholder; skip the scan for them.
  if (!text.includes("{{")) return;
  if (!text.includes(".blocks.") && !text.includes(".variables.")) return;
  for (const { placeholder } of scanPlaceholders(text)) {
    if (placeholder.type === "block_document") {
      const parsed = parseBlockName(placeholder.name);
      if (parsed !== undefined) {
        usage.names.set(blockKey(parsed.slug, parsed.name), parsed);
      }
    } else if (placeholder.type === "variable") {
      usage.variables.add(variableName(placeholder.name));
    }
  }
}

/**
 * Notes a mapping: a `$ref` object's id. Returns true when the object is replaced whole by its
 * block's data, so nothing inside it is a placeholder.
 */
export function noteObject(
  usage: ValueUsage,
  value: Record<string, unknown>,
): boolean {
  const id = refId(value);
  if (id === undefined) return false;
  usage.ids.add(id);
  return true;
}

/**
 * Walks `template` and collects its usage. With `refs: false`, `$ref` objects are ordinary
 * mappings (walked into, ids not noted), as for a resolution of variables alone.
 */
export function collectValueUsage(
  template: unknown,
  options: { refs: boolean } = { refs: true },
): ValueUsage {
  const usage = createValueUsage();
  forEachString(
    template,
    (text) => noteString(usage, text),
    options.refs ? (value) => noteObject(usage, value) : undefined,
  );
  return usage;
}
