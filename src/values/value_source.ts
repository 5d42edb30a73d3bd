// Portable: no runtime APIs.
import type { BlockDocument } from "../types.ts";

/**
 * Where variables and blocks come from. Implementations: in-memory, the embedded file store,
 * a Prefect server client.
 */
export interface ValueSource {
  /** The variable's value, or `undefined` when there is no such variable (`null` is a value). */
  variable(name: string): Promise<unknown>;
  /** The block document with this type slug and name, or `undefined`. */
  blockByName(
    blockTypeSlug: string,
    name: string,
  ): Promise<BlockDocument | undefined>;
  /** The block document with this id, or `undefined`. */
  blockById(id: string): Promise<BlockDocument | undefined>;
}
