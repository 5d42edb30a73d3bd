// Portable: no runtime APIs.
/**
 * An in-memory {@linkcode ValueSource} for embedding and tests.
 *
 * @module
 */

import type { BlockDocument } from "../types.ts";
import type { ValueSource } from "./value_source.ts";

/** What {@linkcode createMemoryValueSource} serves. */
export interface MemoryValues {
  /** Variables by name; a name that is absent does not exist, a `null` value does. @default {} */
  variables?: Readonly<Record<string, unknown>>;
  /** Block documents, looked up by `(blockTypeSlug, name)` and by `id`. @default [] */
  blocks?: readonly BlockDocument[];
}

/**
 * Creates a value source over plain data. The data is copied when the source is created and
 * every answer is a fresh copy, so neither the caller's objects nor the source change.
 *
 * @param values Variables and blocks.
 * @returns The value source.
 * @throws {TypeError} when a block lacks a string `id`, `blockTypeSlug` or `name`, or the data
 *   cannot be copied (it holds functions or symbols)
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMemoryValueSource } from "./memory.ts";
 *
 * const source = createMemoryValueSource({
 *   variables: { region: "eu" },
 *   blocks: [{ id: "1", blockTypeSlug: "secret", name: "token", data: { value: "s3" } }],
 * });
 * assert.equal(await source.variable("region"), "eu");
 * assert.equal(await source.variable("missing"), undefined);
 * assert.deepEqual((await source.blockByName("secret", "token"))?.data, { value: "s3" });
 * assert.equal((await source.blockById("1"))?.name, "token");
 * ```
 */
export function createMemoryValueSource(
  values: MemoryValues = {},
): ValueSource {
  const variables = new Map<string, unknown>();
  for (const [name, value] of Object.entries(values.variables ?? {})) {
    variables.set(name, structuredClone(value));
  }
  const byName = new Map<string, BlockDocument>();
  const byId = new Map<string, BlockDocument>();
  (values.blocks ?? []).forEach((block, index) => {
    for (const field of ["id", "blockTypeSlug", "name"] as const) {
      if (typeof block?.[field] !== "string") {
        throw new TypeError(
          `Cannot create the value source: block ${index} has no string "${field}" (found ${typeof block
            ?.[field]}); give every block an id, a blockTypeSlug and a name`,
        );
      }
    }
    const copy: BlockDocument = {
      id: block.id,
      blockTypeSlug: block.blockTypeSlug,
      name: block.name,
      data: structuredClone(block.data),
    };
    byName.set(`${block.blockTypeSlug}\u0000${block.name}`, copy);
    byId.set(block.id, copy);
  });
  const copyOf = (block: BlockDocument | undefined) =>
    block === undefined ? undefined : structuredClone(block);
  return {
    variable(name) {
      return Promise.resolve(
        variables.has(name) ? structuredClone(variables.get(name)) : undefined,
      );
    },
    blockByName(blockTypeSlug, name) {
      return Promise.resolve(
        copyOf(byName.get(`${blockTypeSlug}\u0000${name}`)),
      );
    },
    blockById(id) {
      return Promise.resolve(copyOf(byId.get(id)));
    },
  };
}
