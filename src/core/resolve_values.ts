// Portable: no runtime APIs.
/**
 * Block and variable placeholders resolved over a {@linkcode ValueSource}:
 * {@linkcode resolveBlockReferences}, {@linkcode resolveVariables}, and
 * {@linkcode resolveInputs}, the single pass `runStep` uses for every kind at once.
 *
 * Each call first collects the block and variable names its template uses, reads them
 * (through a per-run {@linkcode ValueCache}), then substitutes in one synchronous walk.
 *
 * @module
 */

import { TemplateError } from "../errors.ts";
import type { BlockDocument, WarningLogger } from "../types.ts";
import type { ValueSource } from "../values/value_source.ts";
import {
  BLOCK_PREFIXES,
  FALL_THROUGH,
  forEachString,
  isPlainObject,
  matchingPrefix,
  NotSet,
  type Placeholder,
  substitute,
  type SubstituteRules,
  toText,
} from "./_substitute.ts";
import {
  blockKey,
  collectValueUsage,
  parseBlockName,
  refId,
  type ValueUsage,
  variableName,
} from "./_value_usage.ts";
import { recallInputShape } from "./_input_shape.ts";
import { getFromDict, missingPlaceholderWarning } from "./templating.ts";

/** Block and variable look-ups shared by every resolution of one run: each is read once. */
export interface ValueCache {
  /** The block with this type slug and name, or `undefined`. */
  blockByName(
    blockTypeSlug: string,
    name: string,
  ): Promise<BlockDocument | undefined>;
  /** The block with this id, or `undefined`. */
  blockById(id: string): Promise<BlockDocument | undefined>;
  /** `{ found: true, value }` for an existing variable (`null` is a value), else `{ found: false }`. */
  variable(name: string): Promise<{ found: boolean; value?: unknown }>;
}

/** Options of {@linkcode createValueCache}. */
export interface ValueCacheOptions {
  /** Receives every string in the data of each block read, so that printers can mask it. */
  onSecret?: (value: string) => void;
}

const EMPTY_SOURCE: ValueSource = Object.freeze({
  variable: () => Promise.resolve(undefined),
  blockByName: () => Promise.resolve(undefined),
  blockById: () => Promise.resolve(undefined),
});

function reportSecrets(data: unknown, onSecret: (value: string) => void) {
  forEachString(data, (text) => {
    if (text !== "") onSecret(text);
  });
  // Keys of block data are not secret; only values are reported.
}

/**
 * Caches look-ups of `values` for one run, so that each block and variable is read once
 * however often it is used. Secrets found in block data are reported to `onSecret`.
 *
 * @param values The source to read; an empty source when omitted.
 * @param options Where to report secrets.
 * @returns The cache.
 *
 * @example One read per block
 * ```ts
 * import assert from "node:assert/strict";
 * import { createValueCache } from "./resolve_values.ts";
 * import { createMemoryValueSource } from "../values/memory.ts";
 *
 * const secrets: string[] = [];
 * const cache = createValueCache(
 *   createMemoryValueSource({ blocks: [{ id: "1", blockTypeSlug: "secret", name: "t", data: { value: "s3" } }] }),
 *   { onSecret: (s) => secrets.push(s) },
 * );
 * await cache.blockByName("secret", "t");
 * await cache.blockByName("secret", "t");
 * assert.deepEqual(secrets, ["s3"]);
 * ```
 */
export function createValueCache(
  values: ValueSource = EMPTY_SOURCE,
  options: ValueCacheOptions = {},
): ValueCache {
  const blocks = new Map<string, Promise<BlockDocument | undefined>>();
  const variables = new Map<
    string,
    Promise<{ found: boolean; value?: unknown }>
  >();
  const reported = new Set<string>();
  function track(
    key: string,
    read: () => Promise<BlockDocument | undefined>,
  ): Promise<BlockDocument | undefined> {
    let pending = blocks.get(key);
    if (pending === undefined) {
      pending = read().then((block) => {
        if (block !== undefined && options.onSecret !== undefined) {
          if (!reported.has(block.id)) {
            reported.add(block.id);
            reportSecrets(block.data, options.onSecret);
          }
        }
        return block;
      });
      blocks.set(key, pending);
    }
    return pending;
  }
  return {
    blockByName(blockTypeSlug, name) {
      return track(
        `name:${blockTypeSlug}\u0000${name}`,
        () => values.blockByName(blockTypeSlug, name),
      );
    },
    blockById(id) {
      return track(`id:${id}`, () => values.blockById(id));
    },
    variable(name) {
      let pending = variables.get(name);
      if (pending === undefined) {
        pending = values.variable(name).then((value) =>
          value === undefined ? { found: false } : { found: true, value }
        );
        variables.set(name, pending);
      }
      return pending;
    },
  };
}

/** Options of {@linkcode resolveBlockReferences} and {@linkcode resolveVariables}. */
export interface ResolveValuesOptions {
  /** Where blocks and variables come from. @default an empty source */
  values?: ValueSource;
  /** A per-run cache to share between calls; created from `values` when omitted. */
  cache?: ValueCache;
  /** Receives every string of block data resolved (ignored when `cache` is given). */
  onSecret?: (value: string) => void;
}

/** What phase one read: blocks by name and id, and variables. */
interface Fetched {
  byName: Map<string, BlockDocument | undefined>;
  byId: Map<string, BlockDocument | undefined>;
  variables: Map<string, { found: boolean; value?: unknown }>;
  /**
   * True when every name the template uses was collected from the template itself. False when
   * the names came from a remembered hint: a name missing from the maps then means the
   * template changed since, and the resolution starts over with a fresh walk.
   */
  complete: boolean;
}

// Thrown through `substitute` when a hint missed a name; never escapes this module.
const NOT_FETCHED: unique symbol = Symbol("not fetched");

// What reading nothing gives; never written to (lookups only).
const NOTHING_USED: Fetched = {
  byName: new Map(),
  byId: new Map(),
  variables: new Map(),
  complete: true,
};
const NOTHING_REMEMBERED: Fetched = { ...NOTHING_USED, complete: false };

/** Reads what `usage` names (the kinds `want` asks for) through the cache, all at once. */
async function fetchUsage(
  usage: ValueUsage,
  cache: ValueCache,
  want: { blocks: boolean; variables: boolean },
  complete: boolean,
): Promise<Fetched> {
  if (
    usage.names.size === 0 && usage.ids.size === 0 &&
    usage.variables.size === 0
  ) {
    // Most steps use no block or variable: nothing to read, nothing to allocate.
    return complete ? NOTHING_USED : NOTHING_REMEMBERED;
  }
  const fetched: Fetched = {
    byName: new Map(),
    byId: new Map(),
    variables: new Map(),
    complete,
  };
  const pending: Promise<void>[] = [];
  if (want.blocks) {
    for (const [key, parsed] of usage.names) {
      pending.push(
        cache.blockByName(parsed.slug, parsed.name).then((block) => {
          fetched.byName.set(key, block);
        }),
      );
    }
    for (const id of usage.ids) {
      pending.push(
        cache.blockById(id).then((block) => {
          fetched.byId.set(id, block);
        }),
      );
    }
  }
  if (want.variables) {
    for (const name of usage.variables) {
      pending.push(
        cache.variable(name).then((found) => {
          fetched.variables.set(name, found);
        }),
      );
    }
  }
  if (pending.length > 0) await Promise.all(pending);
  return fetched;
}

/** Collects what `template` uses with one walk, then reads it. */
function fetchUsed(
  template: unknown,
  cache: ValueCache,
  want: { blocks: boolean; variables: boolean },
): Promise<Fetched> {
  const usage = collectValueUsage(template, { refs: want.blocks });
  return fetchUsage(usage, cache, want, true);
}

/** A fetched entry, or NOT_FETCHED thrown when a hint missed it. */
function lookup<T>(
  map: Map<string, T>,
  key: string,
  fetched: Fetched,
): T | undefined {
  const value = map.get(key);
  if (value === undefined && !fetched.complete && !map.has(key)) {
    throw NOT_FETCHED;
  }
  return value;
}

/** A block placeholder's value: unwrapped for single-`value` blocks, then the key path. */
function blockValue(placeholder: Placeholder, fetched: Fetched): unknown {
  const parsed = parseBlockName(placeholder.name);
  if (parsed === undefined) {
    const prefix = matchingPrefix(placeholder.name, BLOCK_PREFIXES) ??
      "prefect.blocks.";
    throw new TemplateError(
      `Invalid block placeholder format: "${placeholder.fullMatch}"; expected format: ${prefix}<block-type-slug>.<block-document-name>, optionally followed by .<key path>`,
    );
  }
  const block = lookup(
    fetched.byName,
    blockKey(parsed.slug, parsed.name),
    fetched,
  );
  if (block === undefined) {
    throw new TemplateError(
      `Block not found: '${parsed.name}' of type '${parsed.slug}'. It no longer exists or was never created: create it (for example with "stepbox block") or correct "${placeholder.fullMatch}"`,
    );
  }
  let value = block.data;
  // System blocks (a Secret, a JSON block) keep their data under a single "value" key;
  // Prefect unwraps them unless the key path itself starts with the text "value".
  if (
    isPlainObject(value) && Object.keys(value).length === 1 &&
    Object.hasOwn(value, "value") &&
    !(parsed.keyPath !== undefined && parsed.keyPath.startsWith("value"))
  ) {
    value = value["value"];
  }
  if (parsed.keyPath !== undefined) {
    value = getFromDict(value, parsed.keyPath, NotSet);
    if (value === NotSet) {
      throw new TemplateError(
        `Invalid template: "${placeholder.fullMatch}". Could not resolve the keypath in the block document data: block '${parsed.name}' of type '${parsed.slug}' has nothing at "${parsed.keyPath}"; check the key path against the block's fields`,
      );
    }
  }
  return structuredClone(value);
}

function blockInline(placeholder: Placeholder, fetched: Fetched): string {
  const value = blockValue(placeholder, fetched);
  if (typeof value === "object" && value !== null) {
    throw new TemplateError(
      `Block placeholder "${placeholder.fullMatch}" resolved to ${
        Array.isArray(value) ? "a list" : "a mapping"
      }, which cannot be used for inline string substitution; make the placeholder the whole value, or add a key path to a single field`,
    );
  }
  return toText(value);
}

function refValue(
  value: Record<string, unknown>,
  fetched: Fetched,
): unknown {
  const id = refId(value);
  if (id === undefined) return FALL_THROUGH;
  const block = lookup(fetched.byId, id, fetched);
  if (block === undefined) {
    throw new TemplateError(
      `Block not found: no block document with id '${id}' (from a "$ref"). It no longer exists or was never created: create it or correct the id`,
    );
  }
  return structuredClone(block.data);
}

function variableValue(placeholder: Placeholder, fetched: Fetched): unknown {
  const name = variableName(placeholder.name);
  const found = lookup(fetched.variables, name, fetched);
  return found?.found === true ? structuredClone(found.value) : "";
}

function variableText(placeholder: Placeholder, fetched: Fetched): string {
  const name = variableName(placeholder.name);
  const found = lookup(fetched.variables, name, fetched);
  return found?.found === true ? toText(found.value) : "";
}

function cacheOf(options: ResolveValuesOptions): ValueCache {
  if (options.cache !== undefined) return options.cache;
  return createValueCache(
    options.values,
    options.onSecret === undefined ? {} : { onSecret: options.onSecret },
  );
}

/**
 * Resolves block placeholders and `{"$ref": {"block_document_id": ...}}` objects (Prefect's
 * `resolve_block_document_references`). `{{ prefect.blocks.<type>.<name>[.<key path>]}}` as a
 * whole string becomes the block's data (a block whose data is only `{value}` becomes that
 * value, unless the key path starts with `value`); inside text it becomes its text, and a
 * mapping or list there is an error. Other placeholders are left alone; block data is never
 * scanned again. The template is never mutated; each use gets its own copy of the data.
 *
 * @param template Any JSON-like value.
 * @param options The value source (or a per-run cache).
 * @returns The resolved template.
 * @throws {TemplateError} for a malformed block placeholder, a missing block, a key path that
 *   misses, or a mapping/list used inside text
 *
 * @example Resolving a block
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveBlockReferences } from "./resolve_values.ts";
 * import { createMemoryValueSource } from "../values/memory.ts";
 *
 * const values = createMemoryValueSource({
 *   blocks: [{ id: "b1", blockTypeSlug: "secret", name: "registry", data: { value: "r.example.com" } }],
 * });
 * const resolved = await resolveBlockReferences(
 *   { image: "{{ prefect.blocks.secret.registry }}/app", ref: { $ref: { block_document_id: "b1" } } },
 *   { values },
 * );
 * assert.deepEqual(resolved, { image: "r.example.com/app", ref: { value: "r.example.com" } });
 * ```
 *
 * @example A missing block names its type and name
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveBlockReferences } from "./resolve_values.ts";
 *
 * await assert.rejects(
 *   resolveBlockReferences("{{ prefect.blocks.aws-credentials.prod }}"),
 *   /Block not found: 'prod' of type 'aws-credentials'/,
 * );
 * ```
 */
export async function resolveBlockReferences(
  template: unknown,
  options: ResolveValuesOptions = {},
): Promise<unknown> {
  const fetched = await fetchUsed(template, cacheOf(options), {
    blocks: true,
    variables: false,
  });
  return substitute(template, {
    notset: "keep",
    removeNotset: false,
    whole(placeholder) {
      return placeholder.type === "block_document"
        ? blockValue(placeholder, fetched)
        : FALL_THROUGH;
    },
    inline(placeholder) {
      return placeholder.type === "block_document"
        ? blockInline(placeholder, fetched)
        : undefined;
    },
    object: (value) => refValue(value, fetched),
  });
}

/**
 * Resolves `{{ prefect.variables.<name> }}` placeholders (Prefect's `resolve_variables`).
 * As a whole string a variable keeps its type; inside text it is written as text. A missing
 * variable becomes `""` (never a removed key). Everything after the prefix is the name: there
 * are no key paths into variables. Variable values are never scanned again.
 *
 * @param template Any JSON-like value.
 * @param options The value source (or a per-run cache).
 * @returns The resolved template.
 *
 * @example Resolving variables
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveVariables } from "./resolve_values.ts";
 * import { createMemoryValueSource } from "../values/memory.ts";
 *
 * const values = createMemoryValueSource({ variables: { replicas: 3, image: "app" } });
 * const resolved = await resolveVariables(
 *   { n: "{{ prefect.variables.replicas }}", tag: "{{ prefect.variables.image }}:1", gone: "{{ prefect.variables.x }}" },
 *   { values },
 * );
 * assert.deepEqual(resolved, { n: 3, tag: "app:1", gone: "" });
 * ```
 */
export async function resolveVariables(
  template: unknown,
  options: ResolveValuesOptions = {},
): Promise<unknown> {
  const fetched = await fetchUsed(template, cacheOf(options), {
    blocks: false,
    variables: true,
  });
  return substitute(template, {
    notset: "keep",
    removeNotset: false,
    whole(placeholder) {
      return placeholder.type === "variable"
        ? variableValue(placeholder, fetched)
        : FALL_THROUGH;
    },
    inline(placeholder) {
      return placeholder.type === "variable"
        ? variableText(placeholder, fetched)
        : undefined;
    },
  });
}

/** Options of {@linkcode resolveInputs}. */
export interface ResolveInputsOptions {
  /** Standard placeholders read these (outputs of earlier steps). @default {} */
  upstreamOutputs?: unknown;
  /** `{{ $NAME }}` placeholders read this. @default {} */
  env?: Readonly<Record<string, string>>;
  /** Blocks and variables, read once per run. @default an empty source */
  cache?: ValueCache;
  /** Receives a warning for each missing standard or env placeholder. @default none */
  warn?: WarningLogger;
}

/**
 * Resolves every placeholder of a step's inputs as written, exactly once, from the source its
 * kind names: standard ones from the upstream outputs, `{{ $NAME }}` from `env`, blocks and
 * variables from the value source. What a resolution inserts is never scanned again, so a
 * step's output, a variable, block data or an environment value cannot pull a secret into
 * the next step's inputs. Per kind the result is Prefect's: a missing standard placeholder is
 * NotSet (its key or list item dropped; empty inside text), a missing variable or env value is
 * `""`.
 *
 * @param inputs The inputs as written.
 * @param options The sources.
 * @returns The resolved inputs (a new value; `inputs` is not mutated).
 * @throws {TemplateError} for block placeholder errors (see {@linkcode resolveBlockReferences})
 *
 * @example One pass, by kind
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveInputs } from "./resolve_values.ts";
 *
 * const resolved = await resolveInputs(
 *   { dir: "{{ build.dir }}/{{ $USER }}", token: "{{ tpl }}" },
 *   { upstreamOutputs: { build: { dir: "/srv" }, tpl: "{{ $USER }}" }, env: { USER: "me" } },
 * );
 * assert.deepEqual(resolved, { dir: "/srv/me", token: "{{ $USER }}" });
 * ```
 */
export function resolveInputs(
  inputs: unknown,
  options: ResolveInputsOptions = {},
): Promise<unknown> {
  return resolve(inputs, options, false);
}

/**
 * {@linkcode resolveInputs} for a step about to run: the same resolution, but lists and
 * mappings in which nothing changed are returned as they are, not copied, so the result shares
 * them with `inputs` (a walk instead of a copy, for large inputs). Only for results that are
 * read and never changed, such as the inputs handed to an executor, which copies them. Not part
 * of the public entry.
 *
 * @param inputs The inputs as written.
 * @param options The sources.
 * @returns The resolved inputs; unchanged parts are `inputs`' own (`inputs` is not mutated).
 * @throws {TemplateError} as {@linkcode resolveInputs}
 *
 * @example Unchanged parts are shared
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveStepInputs } from "./resolve_values.ts";
 *
 * const inputs = { big: { rows: [1, 2, 3] }, name: "{{ who }}" };
 * const resolved = await resolveStepInputs(inputs, { upstreamOutputs: { who: "ada" } }) as typeof inputs;
 * assert.deepEqual(resolved, { big: { rows: [1, 2, 3] }, name: "ada" });
 * assert.equal(resolved.big, inputs.big);
 * assert.equal(inputs.name, "{{ who }}");
 * ```
 */
export function resolveStepInputs(
  inputs: unknown,
  options: ResolveInputsOptions = {},
): Promise<unknown> {
  return resolve(inputs, options, true);
}

async function resolve(
  inputs: unknown,
  options: ResolveInputsOptions,
  share: boolean,
): Promise<unknown> {
  const upstream = options.upstreamOutputs ?? {};
  const env = options.env ?? {};
  const warn = options.warn;
  const cache = options.cache ?? createValueCache();
  const want = { blocks: true, variables: true };
  // A step parsed by parseStep comes with the names its inputs use, found by the walk that
  // validated them: read those, and substitute in the only walk. Should the inputs have
  // changed since (a name the hint lacks), start over with a walk that collects the names.
  const hint = recallInputShape(inputs).usage;
  if (hint !== undefined) {
    const fetched = await fetchUsage(hint, cache, want, false);
    // Held back until the walk is known to count, so that a restart repeats no warning.
    const held: string[] | undefined = warn === undefined ? undefined : [];
    const hold = held === undefined
      ? undefined
      : (message: string) => void held.push(message);
    try {
      const resolved = substitute(
        inputs,
        inputRules(upstream, env, hold, fetched, share),
      );
      held?.forEach((message) => warn?.(message));
      return resolved;
    } catch (error) {
      if (error !== NOT_FETCHED) {
        held?.forEach((message) => warn?.(message));
        throw error;
      }
    }
  }
  const fetched = await fetchUsed(inputs, cache, want);
  return substitute(inputs, inputRules(upstream, env, warn, fetched, share));
}

/** The rules of {@linkcode resolveInputs}: every kind of placeholder, from its own source. */
function inputRules(
  upstream: unknown,
  env: Readonly<Record<string, string>>,
  warn: WarningLogger | undefined,
  fetched: Fetched,
  share: boolean,
): SubstituteRules {
  return {
    notset: "apply",
    removeNotset: true,
    share,
    whole(placeholder, text) {
      switch (placeholder.type) {
        case "standard": {
          const value = getFromDict(upstream, placeholder.name, NotSet);
          if (value === NotSet) warn?.(missingPlaceholderWarning(text));
          return value;
        }
        case "block_document":
          return blockValue(placeholder, fetched);
        case "variable":
          return variableValue(placeholder, fetched);
        default:
          return FALL_THROUGH;
      }
    },
    inline(placeholder) {
      switch (placeholder.type) {
        case "standard": {
          const value = getFromDict(upstream, placeholder.name, NotSet);
          if (value === NotSet) {
            warn?.(missingPlaceholderWarning(placeholder.fullMatch));
          }
          return toText(value);
        }
        case "env_var": {
          const name = placeholder.name.replace(/^\$+/, "");
          if (Object.hasOwn(env, name)) return toText(env[name]);
          warn?.(missingPlaceholderWarning(placeholder.fullMatch));
          return "";
        }
        case "block_document":
          return blockInline(placeholder, fetched);
        case "variable":
          return variableText(placeholder, fetched);
      }
    },
    object: (value) => refValue(value, fetched),
  };
}
