/**
 * A large JSON value sent in pieces, so that the two sides of a lane work at the same time:
 * the receiver parses one piece while the sender writes the next. Whole, the receiver could
 * not start `JSON.parse` before the sender had finished `JSON.stringify` and every byte had
 * crossed; in pieces, a 1 MB value's trip costs little more than its parse.
 *
 * The value's longest list (among the first entries outside long lists) is cut: the envelope carries the value with that list emptied (the head) and where the list is,
 * and the list's items follow in pieces of about {@linkcode PIECE_CHARS} characters of JSON.
 * Only JSON-safe values are split, so the receiver rebuilds exactly what `JSON.parse` of the
 * whole text would give. Private to the sandbox: never re-exported.
 *
 * @module
 */

/** A key of an object or an index of a list, on the way from a value to its cut list. */
export type PathKey = string | number;

/** A JSON-safe value, and the list of it that is sent in pieces. */
export interface Split {
  kind: "split";
  value: unknown;
  /** Where `list` is within `value`. */
  path: PathKey[];
  list: unknown[];
}

/** What the envelope carries of a split value: the JSON of the value with its list emptied. */
export interface PiecesHead {
  kind: "pieces";
  head: string;
  path: PathKey[];
}

/** About how many characters of JSON each piece holds. */
export const PIECE_CHARS: number = 64 * 1024;
/** The estimated JSON size from which a value is split at all. */
export const SPLIT_MIN_CHARS: number = 128 * 1024;
// A shorter list is not worth cutting; the first piece is this many items, later ones are sized
// from what those took.
const MIN_LIST_ITEMS = 64;
const FIRST_PIECE_ITEMS = 32;
// How far down, and among how many entries outside long lists, the list is looked for.
const MAX_DEPTH = 16;
const SEARCH_BUDGET = 10_000;

/**
 * Finds how to split a JSON-safe `value`: its longest list, if the value is large enough to
 * gain from pieces. Long lists are not searched inside, and the search looks at
 * ten thousand entries at most, so a value made of many small parts costs little.
 *
 * @param value A value JSON carries exactly (the caller has checked).
 * @param size Its JSON size when known; otherwise estimated from the list's first items.
 * @returns The split, or `undefined` when the value is too small or has no long list.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitOf } from "./_pieces.ts";
 *
 * const rows = Array.from({ length: 10000 }, (_, i) => ({ i, name: `row ${i}` }));
 * const split = splitOf({ meta: { count: 10000 }, data: { rows } })!;
 * assert.deepEqual(split.path, ["data", "rows"]);
 * assert.equal(split.list, rows);
 * assert.equal(splitOf({ rows: rows.slice(0, 10) }), undefined);
 * ```
 */
export function splitOf(value: unknown, size?: number): Split | undefined {
  let found: Split | undefined;
  let budget = SEARCH_BUDGET;
  const path: PathKey[] = [];
  const search = (node: unknown, depth: number): void => {
    if (typeof node !== "object" || node === null || depth > MAX_DEPTH) return;
    if (Array.isArray(node)) {
      if (node.length >= MIN_LIST_ITEMS) {
        // Not searched inside: its items go in pieces whatever they hold.
        if (found === undefined || node.length > found.list.length) {
          found = { kind: "split", value, path: [...path], list: node };
        }
        return;
      }
      for (let i = 0; i < node.length && --budget >= 0; i++) {
        path.push(i);
        search(node[i], depth + 1);
        path.pop();
      }
      return;
    }
    for (const key of Object.keys(node)) {
      if (--budget < 0) return;
      // Never a way down: reading this key on the receiving side would find the prototype.
      if (key === "__proto__") continue;
      path.push(key);
      search((node as Record<string, unknown>)[key], depth + 1);
      path.pop();
    }
  };
  search(value, 0);
  if (found === undefined) return undefined;
  const estimate = size ?? estimateSize(found.list);
  return estimate >= SPLIT_MIN_CHARS ? found : undefined;
}

function estimateSize(list: unknown[]): number {
  const sample = JSON.stringify(list.slice(0, FIRST_PIECE_ITEMS));
  return (sample.length / Math.min(list.length, FIRST_PIECE_ITEMS)) *
    list.length;
}

/**
 * The head of `split`: the JSON of its value with the list emptied, and the list's path. Only
 * the containers on the path are copied; the value is not changed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { headOf } from "./_pieces.ts";
 *
 * const value = { a: 1, rows: [1, 2, 3], z: true };
 * const head = headOf({ kind: "split", value, path: ["rows"], list: value.rows });
 * assert.deepEqual(head, { kind: "pieces", head: '{"a":1,"rows":[],"z":true}', path: ["rows"] });
 * ```
 */
export function headOf(split: Split): PiecesHead {
  const emptied = (node: unknown, depth: number): unknown => {
    if (depth === split.path.length) return [];
    const key = split.path[depth]!;
    if (Array.isArray(node)) {
      const copy = node.slice();
      copy[key as number] = emptied(node[key as number], depth + 1);
      return copy;
    }
    // Spread and a computed key define own data properties, as JSON.parse does, keeping the
    // keys' order.
    const object = node as Record<string, unknown>;
    return { ...object, [key]: emptied(object[key], depth + 1) };
  };
  return {
    kind: "pieces",
    head: JSON.stringify(emptied(split.value, 0)),
    path: split.path,
  };
}

/**
 * The pieces of `split`'s list, in order: the first few items, then about
 * {@linkcode PIECE_CHARS} characters each, sized from the items before. The last one says so;
 * an empty list is one empty piece.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pieces } from "./_pieces.ts";
 *
 * const list = Array.from({ length: 100 }, (_, i) => i);
 * const all = [...pieces({ kind: "split", value: list, path: [], list })];
 * assert.equal(all.at(-1)?.last, true);
 * assert.deepEqual(all.flatMap((piece) => JSON.parse(piece.text)), list);
 * ```
 */
export function* pieces(
  split: Split,
): Generator<{ text: string; last: boolean }> {
  const list = split.list;
  let start = 0;
  let count = FIRST_PIECE_ITEMS;
  do {
    const end = Math.min(list.length, start + count);
    const text = JSON.stringify(list.slice(start, end));
    yield { text, last: end === list.length };
    count = Math.max(1, Math.round(PIECE_CHARS * (end - start) / text.length));
    start = end;
  } while (start < list.length);
}

/**
 * Sends the pieces of `split` in order, each once the one before is written: a socket write
 * starts as soon as its frame is posted, so the receiver parses a piece while the next is made.
 *
 * @param split What to send.
 * @param send Posts one piece.
 * @param written Resolves once what was posted is written.
 * @param isOpen Whether to go on: a closed connection takes no more pieces.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sendPieces } from "./_pieces.ts";
 *
 * const list = Array.from({ length: 10000 }, (_, i) => i);
 * const sent: string[] = [];
 * await sendPieces({ kind: "split", value: list, path: [], list }, (piece) => sent.push(piece.text), () => Promise.resolve(), () => true);
 * assert.deepEqual(sent.flatMap((text) => JSON.parse(text)), list);
 * ```
 */
export async function sendPieces(
  split: Split,
  send: (piece: { text: string; last: boolean }) => void,
  written: () => Promise<void>,
  isOpen: () => boolean,
): Promise<void> {
  for (const piece of pieces(split)) {
    if (!isOpen()) return;
    send(piece);
    await written();
  }
}

/**
 * Rebuilds a split value from its head and its pieces, parsing each piece as it comes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { headOf, PieceAssembly, pieces, splitOf } from "./_pieces.ts";
 *
 * const value = { title: "t", data: { rows: Array.from({ length: 20000 }, (_, i) => ({ i })) } };
 * const split = splitOf(value)!;
 * const assembly = new PieceAssembly(headOf(split));
 * for (const piece of pieces(split)) assembly.add(piece.text);
 * assert.deepEqual(assembly.value, value);
 * ```
 */
export class PieceAssembly {
  /** The value, complete once the last piece is added. */
  readonly value: unknown;
  readonly #list: unknown[];

  /** @throws {TypeError} when the head has no list at its path. */
  constructor(head: PiecesHead) {
    this.value = JSON.parse(head.head);
    let node = this.value;
    for (const key of head.path) {
      node = typeof node === "object" && node !== null && key !== "__proto__"
        ? (node as Record<PathKey, unknown>)[key]
        : undefined;
    }
    if (!Array.isArray(node)) {
      throw new TypeError(
        "Cannot rebuild a value sent in pieces: its head has no list where the pieces go",
      );
    }
    this.#list = node;
  }

  /** Adds the items of one piece, in order. */
  add(text: string): void {
    const items = JSON.parse(text);
    if (!Array.isArray(items)) {
      throw new TypeError(
        "Cannot rebuild a value sent in pieces: a piece is not a list",
      );
    }
    for (const item of items) this.#list.push(item);
  }
}
