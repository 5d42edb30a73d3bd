/**
 * Reading tar, tar.gz and zip archives in memory, and writing their entries into a directory
 * with every path checked first: nothing escapes the target, whatever the archive says.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { formatBytes } from "../_util/format_bytes.ts";

/** One entry of an archive or a directory tree, with its path already checked. */
export type ArchiveEntry =
  | { type: "directory"; path: string; mode?: number }
  | {
    type: "file";
    path: string;
    mode?: number;
    data?: Uint8Array;
    /** Copy from here instead of `data` (plain directories). */
    source?: string;
  }
  | { type: "symlink"; path: string; target: string }
  | { type: "hardlink"; path: string; target: string };

/** The archive formats {@linkcode readArchive} recognises. */
export type ArchiveFormat = "tar.gz" | "tar" | "zip";

const decoder = new TextDecoder();

/**
 * The most bytes an archive may hold, and the most it may unpack to: 1 GiB. Everything is held
 * in memory, and a zip bomb unpacks a few kilobytes into gigabytes; more is refused with a clear
 * error before it fills the sandbox's heap.
 */
export const MAX_ARCHIVE_BYTES: number = 1024 ** 3;

/**
 * An archive is malformed or unsafe.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { UnsafeArchiveError } from "./_archive.ts";
 * assert.equal(new UnsafeArchiveError("bad").name, "UnsafeArchiveError");
 * ```
 */
export class UnsafeArchiveError extends Error {
  /**
   * Creates the error.
   *
   * @param message What is wrong with the archive.
   */
  constructor(message: string) {
    super(message);
    this.name = "UnsafeArchiveError";
  }
}

/**
 * Checks an entry's path and returns it normalised (`/`-separated, no `.` or empty segments).
 * Absolute paths, drive letters and `..` segments are refused; `\` counts as a separator.
 *
 * @param name The path as the archive gives it.
 * @returns The normalised relative path; `""` for the archive's root.
 * @throws {UnsafeArchiveError} when the path is absolute or escapes with `..`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkEntryPath } from "./_archive.ts";
 * assert.equal(checkEntryPath("./src//main.ts"), "src/main.ts");
 * assert.throws(() => checkEntryPath("../evil"), /escapes/);
 * ```
 */
export function checkEntryPath(name: string): string {
  if (name.includes("\0")) {
    throw new UnsafeArchiveError(`entry "${name}" has a NUL byte in its path`);
  }
  if (/^[/\\]/.test(name) || /^[A-Za-z]:/.test(name)) {
    throw new UnsafeArchiveError(
      `entry "${name}" has an absolute path, which would write outside the target`,
    );
  }
  const segments: string[] = [];
  for (const segment of name.split(/[/\\]/)) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      throw new UnsafeArchiveError(
        `entry "${name}" escapes the target directory with ".."`,
      );
    }
    segments.push(segment);
  }
  return segments.join("/");
}

/**
 * Tells the format of an archive from its first bytes.
 *
 * @param bytes The archive.
 * @returns The format, or `undefined` when it is none of them.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { detectArchiveFormat } from "./_archive.ts";
 * assert.equal(detectArchiveFormat(new Uint8Array([0x1f, 0x8b, 8, 0])), "tar.gz");
 * assert.equal(detectArchiveFormat(new TextEncoder().encode("hello")), undefined);
 * ```
 */
export function detectArchiveFormat(
  bytes: Uint8Array,
): ArchiveFormat | undefined {
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return "tar.gz";
  if (
    bytes[0] === 0x50 && bytes[1] === 0x4b &&
    ((bytes[2] === 3 && bytes[3] === 4) || (bytes[2] === 5 && bytes[3] === 6))
  ) return "zip";
  if (bytes.length >= 512 && tarChecksumOk(bytes.subarray(0, 512))) {
    return "tar";
  }
  return undefined;
}

/**
 * Reads `stream` into one array, refusing to grow past `limit` bytes.
 *
 * @param stream The bytes.
 * @param limit The most bytes to accept.
 * @param tooLarge The error when there are more; the stream is cancelled.
 * @returns The bytes.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { readAtMost } from "./_archive.ts";
 * const stream = () => new Blob(["hello"]).stream();
 * assert.equal((await readAtMost(stream(), 5, () => new Error("big"))).length, 5);
 * await assert.rejects(readAtMost(stream(), 4, () => new Error("big")), /big/);
 * ```
 */
export async function readAtMost(
  stream: ReadableStream<Uint8Array>,
  limit: number,
  tooLarge: () => Error,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  const reader = stream.getReader();
  for (
    let chunk = await reader.read();
    !chunk.done;
    chunk = await reader.read()
  ) {
    length += chunk.value.length;
    if (length > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(chunk.value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

// Inflates `bytes`, stopping as soon as the output passes `limit`: a bomb never fills memory.
function inflate(
  bytes: Uint8Array,
  format: "gzip" | "deflate-raw",
  limit: number,
  tooLarge: () => Error,
): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new DecompressionStream(format));
  return readAtMost(stream, limit, tooLarge);
}

function unpacksTooLarge(maxBytes: number): () => UnsafeArchiveError {
  return () =>
    new UnsafeArchiveError(
      `it unpacks to more than ${
        formatBytes(maxBytes)
      }, the most stepbox unpacks`,
    );
}

function text(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return decoder.decode(end < 0 ? bytes : bytes.subarray(0, end));
}

function octal(bytes: Uint8Array): number {
  // GNU base-256 for large values: the high bit of the first byte is set.
  if ((bytes[0]! & 0x80) !== 0) {
    let value = bytes[0]! & 0x7f;
    for (let i = 1; i < bytes.length; i++) value = value * 256 + bytes[i]!;
    return value;
  }
  const digits = text(bytes).trim();
  return digits === "" ? 0 : parseInt(digits, 8);
}

function tarChecksumOk(header: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < 512; i++) {
    sum += i >= 148 && i < 156 ? 32 : header[i]!;
  }
  const stored = octal(header.subarray(148, 156));
  return !Number.isNaN(stored) && stored === sum && sum !== 256;
}

function parsePax(data: Uint8Array): Record<string, string> {
  const records: Record<string, string> = {};
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    if (space < 0) break;
    const length = parseInt(decoder.decode(data.subarray(offset, space)), 10);
    if (!(length > 0)) break;
    const record = decoder.decode(
      data.subarray(space + 1, offset + length - 1),
    );
    const equals = record.indexOf("=");
    if (equals > 0) records[record.slice(0, equals)] = record.slice(equals + 1);
    offset += length;
  }
  return records;
}

/**
 * Reads the entries of an uncompressed tar archive (ustar, pax and GNU long names).
 *
 * @param bytes The archive.
 * @returns The entries, in archive order, with raw (unchecked) paths.
 * @throws {UnsafeArchiveError} when the archive is malformed or holds an unsupported entry type.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { readTar } from "./_archive.ts";
 * assert.deepEqual(readTar(new Uint8Array(1024)), []);
 * ```
 */
export function readTar(bytes: Uint8Array): ArchiveEntry[] {
  const entries: ArchiveEntry[] = [];
  let offset = 0;
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  while (offset + 512 <= bytes.length) {
    const header = bytes.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    if (!tarChecksumOk(header)) {
      throw new UnsafeArchiveError(
        `the tar header at byte ${offset} is corrupt (bad checksum)`,
      );
    }
    const type = String.fromCharCode(header[156]!);
    let size = octal(header.subarray(124, 136));
    if (pax.size !== undefined) size = Number(pax.size);
    const start = offset + 512;
    if (!(size >= 0) || start + size > bytes.length) {
      throw new UnsafeArchiveError(
        `the tar entry at byte ${offset} is truncated`,
      );
    }
    const data = bytes.subarray(start, start + size);
    offset = start + Math.ceil(size / 512) * 512;
    if (type === "x") {
      pax = parsePax(data);
      continue;
    }
    if (type === "g") continue;
    if (type === "L") {
      longName = text(data);
      continue;
    }
    if (type === "K") {
      longLink = text(data);
      continue;
    }
    const magic = decoder.decode(header.subarray(257, 262));
    const prefix = magic === "ustar" ? text(header.subarray(345, 500)) : "";
    const rawName = text(header.subarray(0, 100));
    const path = pax.path ?? longName ??
      (prefix === "" ? rawName : `${prefix}/${rawName}`);
    const link = pax.linkpath ?? longLink ?? text(header.subarray(157, 257));
    const mode = octal(header.subarray(100, 108)) & 0o777;
    pax = {};
    longName = undefined;
    longLink = undefined;
    switch (type) {
      case "0":
      case "\0":
      case "7":
        entries.push({ type: "file", path, mode, data });
        break;
      case "5":
        entries.push({ type: "directory", path, mode });
        break;
      case "2":
        entries.push({ type: "symlink", path, target: link });
        break;
      case "1":
        entries.push({ type: "hardlink", path, target: link });
        break;
      default:
        throw new UnsafeArchiveError(
          `entry "${path}" has tar type "${type}" (a device, FIFO or sparse file), which is not supported`,
        );
    }
  }
  return entries;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * The CRC-32 of `bytes`, as zip stores it.
 *
 * @param bytes The data.
 * @returns The checksum.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { crc32 } from "./_archive.ts";
 * assert.equal(crc32(new TextEncoder().encode("hello")), 0x3610a686);
 * ```
 */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * Reads the entries of a zip archive from its central directory (stored and deflated entries,
 * zip64 included).
 *
 * @param bytes The archive.
 * @param maxBytes The most bytes it may unpack to. @default MAX_ARCHIVE_BYTES
 * @returns The entries, with raw (unchecked) paths.
 * @throws {UnsafeArchiveError} when the archive is malformed, encrypted, uses another method, or
 * unpacks to more than `maxBytes`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { readZip } from "./_archive.ts";
 * const empty = new Uint8Array(22);
 * empty.set([0x50, 0x4b, 5, 6]);
 * assert.deepEqual(await readZip(empty), []);
 * ```
 */
export async function readZip(
  bytes: Uint8Array,
  maxBytes: number = MAX_ARCHIVE_BYTES,
): Promise<ArchiveEntry[]> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let end = -1;
  for (
    let i = bytes.length - 22;
    i >= Math.max(0, bytes.length - 22 - 65535);
    i--
  ) {
    if (view.getUint32(i, true) === 0x06054b50) {
      end = i;
      break;
    }
  }
  if (end < 0) {
    throw new UnsafeArchiveError(
      "the zip archive has no end of central directory",
    );
  }
  let count = view.getUint16(end + 10, true);
  let offset = view.getUint32(end + 16, true);
  if (count === 0xffff || offset === 0xffffffff) {
    ({ count, offset } = zip64End(view, end));
  }
  const entries: ArchiveEntry[] = [];
  let unpacked = 0;
  for (let n = 0; n < count; n++) {
    if (
      offset + 46 > bytes.length || view.getUint32(offset, true) !== 0x02014b50
    ) {
      throw new UnsafeArchiveError("the zip central directory is corrupt");
    }
    const madeBy = view.getUint16(offset + 4, true);
    const flags = view.getUint16(offset + 8, true);
    const method = view.getUint16(offset + 10, true);
    const crc = view.getUint32(offset + 16, true);
    const nameLength = view.getUint16(offset + 28, true);
    const extraLength = view.getUint16(offset + 30, true);
    const commentLength = view.getUint16(offset + 32, true);
    const external = view.getUint32(offset + 38, true);
    const path = decoder.decode(
      bytes.subarray(offset + 46, offset + 46 + nameLength),
    );
    const { size, compressedSize, local } = entrySizes(
      view,
      offset,
      nameLength,
      extraLength,
      path,
    );
    offset += 46 + nameLength + extraLength + commentLength;
    if (flags & 1) {
      throw new UnsafeArchiveError(
        `entry "${path}" is encrypted, which is not supported`,
      );
    }
    // Checked against the declared sizes before anything is inflated, and each entry's
    // inflating stops at its declared size: a bomb is refused, never unpacked.
    unpacked += size;
    if (unpacked > maxBytes) throw unpacksTooLarge(maxBytes)();
    if (
      local + 30 > bytes.length || view.getUint32(local, true) !== 0x04034b50
    ) {
      throw new UnsafeArchiveError(`the zip entry "${path}" is corrupt`);
    }
    const dataStart = local + 30 + view.getUint16(local + 26, true) +
      view.getUint16(local + 28, true);
    if (dataStart + compressedSize > bytes.length) {
      throw new UnsafeArchiveError(`the zip entry "${path}" is truncated`);
    }
    const raw = bytes.subarray(dataStart, dataStart + compressedSize);
    let data: Uint8Array;
    if (method === 0) data = raw;
    else if (method === 8) {
      data = await inflate(
        raw,
        "deflate-raw",
        size,
        () =>
          new UnsafeArchiveError(
            `the zip entry "${path}" is corrupt (larger than its declared size)`,
          ),
      );
    } else {
      throw new UnsafeArchiveError(
        `entry "${path}" uses compression method ${method}; only stored and deflated entries are supported`,
      );
    }
    if (data.length !== size || crc32(data) !== crc) {
      throw new UnsafeArchiveError(
        `the zip entry "${path}" is corrupt (size or CRC mismatch)`,
      );
    }
    const unix = madeBy >> 8 === 3;
    const fileType = unix ? (external >>> 16) & 0o170000 : 0;
    const mode = unix ? (external >>> 16) & 0o777 : undefined;
    if (fileType === 0o120000) {
      entries.push({ type: "symlink", path, target: decoder.decode(data) });
    } else if (path.endsWith("/") || fileType === 0o040000) {
      entries.push(
        mode === undefined
          ? { type: "directory", path }
          : { type: "directory", path, mode },
      );
    } else {
      entries.push(
        mode === undefined
          ? { type: "file", path, data }
          : { type: "file", path, data, mode },
      );
    }
  }
  return entries;
}

// Where a zip64 archive's central directory is, and how many entries it has (a zip with more
// than 65,534 entries, or one over 4 GiB).
function zip64End(
  view: DataView,
  end: number,
): { count: number; offset: number } {
  const locator = end - 20;
  if (locator < 0 || view.getUint32(locator, true) !== 0x07064b50) {
    throw new UnsafeArchiveError(
      "the zip archive's zip64 end of central directory is missing",
    );
  }
  const record = uint64(view, locator + 8);
  if (
    record + 56 > view.byteLength || view.getUint32(record, true) !== 0x06064b50
  ) {
    throw new UnsafeArchiveError(
      "the zip archive's zip64 end of central directory is corrupt",
    );
  }
  return {
    count: uint64(view, record + 32),
    offset: uint64(view, record + 48),
  };
}

// An entry's sizes and local header offset: a field that is 0xffffffff in the central directory
// is in the entry's zip64 extra field (ID 1), in this order.
function entrySizes(
  view: DataView,
  offset: number,
  nameLength: number,
  extraLength: number,
  path: string,
): { size: number; compressedSize: number; local: number } {
  const sizes = {
    size: view.getUint32(offset + 24, true),
    compressedSize: view.getUint32(offset + 20, true),
    local: view.getUint32(offset + 42, true),
  };
  const wide = (["size", "compressedSize", "local"] as const).filter((name) =>
    sizes[name] === 0xffffffff
  );
  if (wide.length === 0) return sizes;
  let extra = offset + 46 + nameLength;
  const extraEnd = Math.min(extra + extraLength, view.byteLength);
  while (extra + 4 <= extraEnd) {
    const id = view.getUint16(extra, true);
    const length = view.getUint16(extra + 2, true);
    if (
      id === 1 && length >= 8 * wide.length && extra + 4 + length <= extraEnd
    ) {
      wide.forEach((name, i) => sizes[name] = uint64(view, extra + 4 + 8 * i));
      return sizes;
    }
    extra += 4 + length;
  }
  throw new UnsafeArchiveError(
    `the zip entry "${path}" is corrupt (its zip64 sizes are missing)`,
  );
}

// A little-endian 64-bit number; one beyond 2^53 is more than any archive held in memory.
function uint64(view: DataView, offset: number): number {
  const value = view.getBigUint64(offset, true);
  return value > BigInt(Number.MAX_SAFE_INTEGER)
    ? Number.MAX_SAFE_INTEGER
    : Number(value);
}

/**
 * Reads an archive of any supported format.
 *
 * @param bytes The archive.
 * @param format Its format, from {@linkcode detectArchiveFormat}.
 * @param maxBytes The most bytes it may unpack to. @default MAX_ARCHIVE_BYTES
 * @returns The entries, with raw (unchecked) paths.
 * @throws {UnsafeArchiveError} when it is malformed.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { readArchive } from "./_archive.ts";
 * assert.deepEqual(await readArchive(new Uint8Array(1024), "tar"), []);
 * ```
 */
export async function readArchive(
  bytes: Uint8Array,
  format: ArchiveFormat,
  maxBytes: number = MAX_ARCHIVE_BYTES,
): Promise<ArchiveEntry[]> {
  if (format === "zip") return await readZip(bytes, maxBytes);
  if (format === "tar") return readTar(bytes);
  let tar: Uint8Array;
  try {
    tar = await inflate(bytes, "gzip", maxBytes, unpacksTooLarge(maxBytes));
  } catch (error) {
    if (error instanceof UnsafeArchiveError) throw error;
    throw new UnsafeArchiveError(
      `the gzip data is corrupt: ${(error as Error).message}`,
    );
  }
  return readTar(tar);
}

/**
 * Checks every entry before anything is written: paths stay inside the target, no entry is
 * written through a symbolic link, symbolic links are relative and resolve inside the target
 * without passing through another link, and hard links name an earlier regular file.
 *
 * @param entries The entries, with raw paths.
 * @returns The entries with normalised paths; the root entry dropped.
 * @throws {UnsafeArchiveError} naming the first unsafe entry.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkEntries } from "./_archive.ts";
 * assert.throws(
 *   () => checkEntries([{ type: "symlink", path: "up", target: "../.." }]),
 *   /points outside/,
 * );
 * ```
 */
export function checkEntries(entries: readonly ArchiveEntry[]): ArchiveEntry[] {
  const checked: ArchiveEntry[] = [];
  const links = new Set<string>();
  const kinds = new Map<string, ArchiveEntry["type"]>();
  for (const entry of entries) {
    const path = checkEntryPath(entry.path);
    if (path === "") continue;
    const previous = kinds.get(path);
    if (
      previous !== undefined &&
      (previous === "symlink" || entry.type === "symlink" ||
        (previous === "directory") !== (entry.type === "directory"))
    ) {
      throw new UnsafeArchiveError(
        `entry "${entry.path}" appears twice with different types`,
      );
    }
    kinds.set(path, entry.type);
    if (entry.type === "symlink") links.add(path);
    if (entry.type === "hardlink") {
      const target = checkEntryPath(entry.target);
      if (kinds.get(target) !== "file" || target === path) {
        throw new UnsafeArchiveError(
          `hard link "${entry.path}" must point to an earlier regular file of the archive, found "${entry.target}"`,
        );
      }
      checked.push({ type: "hardlink", path, target });
    } else {
      checked.push({ ...entry, path });
    }
  }
  for (const entry of checked) {
    const segments = entry.path.split("/");
    for (let i = 1; i < segments.length; i++) {
      if (links.has(segments.slice(0, i).join("/"))) {
        throw new UnsafeArchiveError(
          `entry "${entry.path}" would be written through the symbolic link "${
            segments.slice(0, i).join("/")
          }"`,
        );
      }
    }
    if (entry.type !== "symlink") continue;
    const target = entry.target;
    if (target === "" || /^[/\\]/.test(target) || /^[A-Za-z]:/.test(target)) {
      throw new UnsafeArchiveError(
        `symbolic link "${entry.path}" points outside the target ("${target}"); only relative links inside the archive are allowed`,
      );
    }
    const resolved = segments.slice(0, -1);
    for (const part of target.split(/[/\\]/)) {
      if (part === "" || part === ".") continue;
      if (part === "..") {
        if (resolved.length === 0) {
          throw new UnsafeArchiveError(
            `symbolic link "${entry.path}" points outside the target ("${target}")`,
          );
        }
        resolved.pop();
        continue;
      }
      resolved.push(part);
      if (links.has(resolved.join("/"))) {
        throw new UnsafeArchiveError(
          `symbolic link "${entry.path}" resolves through another symbolic link ("${
            resolved.join("/")
          }"), which could lead outside the target`,
        );
      }
    }
  }
  return checked;
}

/**
 * Writes checked entries under `root` (which must be a fresh, empty directory): directories and
 * files first, then hard links as copies, then symbolic links last, so that nothing is ever
 * written through a link.
 *
 * @param entries Entries returned by {@linkcode checkEntries}.
 * @param root The directory to write into.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkEntries, writeEntries } from "./_archive.ts";
 * const root = await Deno.makeTempDir();
 * await writeEntries(checkEntries([{ type: "file", path: "a/b.txt", data: new TextEncoder().encode("hi") }]), root);
 * assert.equal(await Deno.readTextFile(`${root}/a/b.txt`), "hi");
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function writeEntries(
  entries: readonly ArchiveEntry[],
  root: string,
): Promise<void> {
  const made = new Set<string>();
  async function parent(path: string): Promise<void> {
    const dir = dirname(join(root, path));
    if (made.has(dir)) return;
    await Deno.mkdir(dir, { recursive: true });
    made.add(dir);
  }
  for (const entry of entries) {
    const path = join(root, entry.path);
    if (entry.type === "directory") {
      await Deno.mkdir(path, { recursive: true });
      made.add(path);
    } else if (entry.type === "file") {
      await parent(entry.path);
      // Permission bits only: set-user-ID and similar bits from an archive are dropped.
      const mode = (entry.mode ?? 0o644) & 0o777 | 0o600;
      if (entry.source !== undefined) {
        await Deno.copyFile(entry.source, path);
        await Deno.chmod(path, mode);
      } else {
        await Deno.writeFile(path, entry.data ?? new Uint8Array(), { mode });
        await Deno.chmod(path, mode);
      }
    }
  }
  for (const entry of entries) {
    if (entry.type !== "hardlink") continue;
    await parent(entry.path);
    await Deno.copyFile(join(root, entry.target), join(root, entry.path));
  }
  for (const entry of entries) {
    if (entry.type !== "symlink") continue;
    await parent(entry.path);
    await Deno.symlink(entry.target, join(root, entry.path));
  }
}
