/**
 * The embedded variable and block store: a directory (`.stepbox/` where the command runs, or
 * `STEPBOX_STORE`) with one JSON file per entry:
 *
 * ```
 * .stepbox/
 *   .gitignore                    "*": block data are secrets, never commit them
 *   variables/<name>.json         { "name", "value", "updated" }
 *   blocks/<type-slug>/<name>.json { "id", "blockTypeSlug", "name", "data", "updated" }
 * ```
 *
 * One file per entry, each written to a temporary file and renamed into place, means a reader
 * never sees a half-written entry and concurrent writers of different entries never lose each
 * other's updates (there is no shared file to read-modify-write). Two writers of the same
 * entry: the last rename wins, whole.
 *
 * @module
 */

import { files, hasFiles, NO_FILES } from "../_util/files.ts";
import { ValueStoreError } from "../errors.ts";
import type { BlockDocument } from "../types.ts";
import type { ValueSource } from "./value_source.ts";

/** A stored variable. */
export interface StoredVariable {
  name: string;
  value: unknown;
  /** ISO time of the last write. */
  updated: string;
}

/** A stored block document (its `data` is secret). */
export interface StoredBlock extends BlockDocument {
  /** ISO time of the last write. */
  updated: string;
}

/** Options of {@linkcode FileStore.fromEnvironment}. */
export interface FileStoreLocationOptions {
  /** The directory the command runs in (absolute). */
  cwd: string;
  /** The environment; `STEPBOX_STORE` names the store directory when set. */
  env: Record<string, string | undefined>;
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,127}$/;
const SLUG = /^[a-z0-9][a-z0-9-]{0,127}$/;

/**
 * The embedded store of variables and blocks, a {@linkcode ValueSource} backed by files.
 *
 * @example Set a variable and a secret block, then read them as a run would
 * ```ts
 * import assert from "node:assert/strict";
 * import { FileStore } from "./file_store.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const store = new FileStore(`${dir}/.stepbox`);
 *   await store.setVariable("region", "eu-west-3");
 *   await store.setBlock("secret", "api-token", { value: "s3cr3t" });
 *   assert.equal(await store.variable("region"), "eu-west-3");
 *   const block = await store.blockByName("secret", "api-token");
 *   assert.deepEqual(block?.data, { value: "s3cr3t" });
 *   assert.equal((await store.blockById(block!.id))?.name, "api-token");
 *   assert.equal(await store.variable("missing"), undefined);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export class FileStore implements ValueSource {
  /** The store's directory (absolute). */
  readonly directory: string;

  /**
   * @param directory The store's directory; created on the first write.
   */
  constructor(directory: string) {
    if (!hasFiles()) {
      throw new ValueStoreError(
        `Cannot open the value store in "${directory}": ${NO_FILES}; use createMemoryValueSource() or PrefectClient instead`,
      );
    }
    this.directory = directory.replace(/\/+$/, "");
  }

  /**
   * The store for a command: `STEPBOX_STORE` when set (relative to `cwd`), else `<cwd>/.stepbox`.
   *
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { FileStore } from "./file_store.ts";
   * assert.equal(FileStore.fromEnvironment({ cwd: "/srv/app", env: {} }).directory, "/srv/app/.stepbox");
   * assert.equal(FileStore.fromEnvironment({ cwd: "/srv/app", env: { STEPBOX_STORE: "/var/lib/sb" } }).directory, "/var/lib/sb");
   * ```
   */
  static fromEnvironment(options: FileStoreLocationOptions): FileStore {
    const named = options.env.STEPBOX_STORE;
    if (named !== undefined && named !== "") {
      return new FileStore(
        named.startsWith("/") ? named : `${options.cwd}/${named}`,
      );
    }
    return new FileStore(`${options.cwd.replace(/\/+$/, "")}/.stepbox`);
  }

  /** The variable's value, or `undefined` when there is none. */
  async variable(name: string): Promise<unknown> {
    checkName(name, "variable name");
    const entry = await this.#read<StoredVariable>(this.#variablePath(name));
    return entry === undefined ? undefined : entry.value;
  }

  /** The block with this type slug and name, or `undefined`. */
  async blockByName(
    blockTypeSlug: string,
    name: string,
  ): Promise<BlockDocument | undefined> {
    if (!SLUG.test(blockTypeSlug) || !NAME.test(name)) return undefined;
    const entry = await this.#read<StoredBlock>(
      this.#blockPath(blockTypeSlug, name),
    );
    return entry === undefined ? undefined : toDocument(entry);
  }

  /** The block with this id, or `undefined`. */
  async blockById(id: string): Promise<BlockDocument | undefined> {
    for (const block of await this.listBlocks()) {
      if (block.id === id) return toDocument(block);
    }
    return undefined;
  }

  /**
   * Stores a variable (any JSON value), replacing a previous value atomically.
   *
   * @throws {ValueStoreError} when the name is invalid, the value is not JSON data, or the
   * store cannot be written.
   */
  async setVariable(name: string, value: unknown): Promise<void> {
    checkName(name, "variable name");
    const entry: StoredVariable = {
      name,
      value,
      updated: new Date().toISOString(),
    };
    await this.#write(this.#variablePath(name), entry, 0o644);
  }

  /** The stored variable with its metadata, or `undefined`. */
  async getVariable(name: string): Promise<StoredVariable | undefined> {
    checkName(name, "variable name");
    return await this.#read(this.#variablePath(name)) as
      | StoredVariable
      | undefined;
  }

  /** Every variable, sorted by name. */
  async listVariables(): Promise<StoredVariable[]> {
    const out: StoredVariable[] = [];
    for (const file of await this.#list(`${this.directory}/variables`)) {
      const entry = await this.#read<StoredVariable>(
        `${this.directory}/variables/${file}`,
      );
      if (entry !== undefined) out.push(entry);
    }
    return out.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  }

  /** Removes a variable; resolves to whether it existed. */
  async removeVariable(name: string): Promise<boolean> {
    checkName(name, "variable name");
    return await this.#remove(this.#variablePath(name));
  }

  /**
   * Stores a block document, keeping its id when it already exists.
   *
   * @throws {ValueStoreError} when the slug or name is invalid or the store cannot be written.
   */
  async setBlock(
    blockTypeSlug: string,
    name: string,
    data: unknown,
  ): Promise<StoredBlock> {
    checkSlug(blockTypeSlug);
    checkName(name, "block name");
    const path = this.#blockPath(blockTypeSlug, name);
    const previous = await this.#read(path) as StoredBlock | undefined;
    const entry: StoredBlock = {
      id: previous?.id ?? crypto.randomUUID(),
      blockTypeSlug,
      name,
      data,
      updated: new Date().toISOString(),
    };
    await this.#write(path, entry, 0o600);
    return entry;
  }

  /** The stored block with its metadata (and secret data), or `undefined`. */
  async getBlock(
    blockTypeSlug: string,
    name: string,
  ): Promise<StoredBlock | undefined> {
    checkSlug(blockTypeSlug);
    checkName(name, "block name");
    return await this.#read(this.#blockPath(blockTypeSlug, name)) as
      | StoredBlock
      | undefined;
  }

  /** Every block, sorted by type slug then name. */
  async listBlocks(): Promise<StoredBlock[]> {
    const out: StoredBlock[] = [];
    const root = `${this.directory}/blocks`;
    for (const slug of await this.#list(root, true)) {
      for (const file of await this.#list(`${root}/${slug}`)) {
        const entry = await this.#read<StoredBlock>(`${root}/${slug}/${file}`);
        if (entry !== undefined) out.push(entry);
      }
    }
    return out.sort((a, b) =>
      a.blockTypeSlug !== b.blockTypeSlug
        ? (a.blockTypeSlug < b.blockTypeSlug ? -1 : 1)
        : a.name < b.name
        ? -1
        : a.name > b.name
        ? 1
        : 0
    );
  }

  /** Removes a block; resolves to whether it existed. */
  async removeBlock(blockTypeSlug: string, name: string): Promise<boolean> {
    checkSlug(blockTypeSlug);
    checkName(name, "block name");
    return await this.#remove(this.#blockPath(blockTypeSlug, name));
  }

  #variablePath(name: string): string {
    return `${this.directory}/variables/${name}.json`;
  }

  #blockPath(slug: string, name: string): string {
    return `${this.directory}/blocks/${slug}/${name}.json`;
  }

  async #read<T>(path: string): Promise<T | undefined> {
    const fs = await files();
    let text: string;
    try {
      text = await fs.readTextFile(path);
    } catch (error) {
      if (fs.kind(error) === "not-found") return undefined;
      throw new ValueStoreError(
        `Cannot read the store entry "${path}": ${messageOf(error)}`,
        { cause: error },
      );
    }
    try {
      const data = JSON.parse(text);
      if (typeof data !== "object" || data === null || Array.isArray(data)) {
        throw new TypeError("expected a JSON object");
      }
      return data as T;
    } catch (error) {
      // The message names the file only: its content may be a secret.
      throw new ValueStoreError(
        `Cannot read the store entry "${path}": it is not a valid entry; remove it and set the value again`,
        { cause: new Error(messageOf(error).replace(/".*"/s, '"..."')) },
      );
    }
  }

  async #write(path: string, entry: object, mode: number): Promise<void> {
    let text: string;
    try {
      text = JSON.stringify(entry, null, 2) + "\n";
    } catch (error) {
      throw new ValueStoreError(
        `Cannot store "${path}": the value is not JSON data (${
          messageOf(error)
        })`,
      );
    }
    const directory = path.slice(0, path.lastIndexOf("/"));
    const temporary = `${directory}/.${crypto.randomUUID()}.tmp`;
    const fs = await files();
    try {
      await this.#ensureRoot();
      await fs.mkdir(directory, { recursive: true, mode: 0o700 });
      await fs.writeTextFile(temporary, text, { mode, createNew: true });
      // rename() replaces the target atomically: readers see the old entry or the new one.
      await fs.rename(temporary, path);
    } catch (error) {
      await fs.remove(temporary).catch(() => {});
      throw new ValueStoreError(
        `Cannot write to the store "${this.directory}": ${messageOf(error)}`,
        { cause: error },
      );
    }
  }

  async #ensureRoot(): Promise<void> {
    const fs = await files();
    await fs.mkdir(this.directory, { recursive: true, mode: 0o700 });
    try {
      await fs.writeTextFile(
        `${this.directory}/.gitignore`,
        "# Block data are secrets: never commit this directory.\n*\n",
        { createNew: true },
      );
    } catch (error) {
      if (fs.kind(error) !== "exists") throw error;
    }
  }

  async #remove(path: string): Promise<boolean> {
    const fs = await files();
    try {
      await fs.remove(path);
      return true;
    } catch (error) {
      if (fs.kind(error) === "not-found") return false;
      throw new ValueStoreError(
        `Cannot remove the store entry "${path}": ${messageOf(error)}`,
        { cause: error },
      );
    }
  }

  async #list(directory: string, directories = false): Promise<string[]> {
    const out: string[] = [];
    const fs = await files();
    try {
      for await (const entry of fs.readDir(directory)) {
        if (entry.name.startsWith(".")) continue;
        if (
          directories
            ? entry.isDirectory
            : entry.isFile && entry.name.endsWith(".json")
        ) {
          out.push(entry.name);
        }
      }
    } catch (error) {
      if (fs.kind(error) === "not-found") return [];
      throw new ValueStoreError(
        `Cannot list the store "${directory}": ${messageOf(error)}`,
        { cause: error },
      );
    }
    return out.sort();
  }
}

function toDocument(entry: StoredBlock): BlockDocument {
  return {
    id: entry.id,
    blockTypeSlug: entry.blockTypeSlug,
    name: entry.name,
    data: entry.data,
  };
}

function checkName(name: string, what: string): void {
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new ValueStoreError(
      `Cannot use ${what} ${
        JSON.stringify(String(name))
      }: use letters, digits, "_" and "-" (at most 128, not starting with "-")`,
    );
  }
}

function checkSlug(slug: string): void {
  if (typeof slug !== "string" || !SLUG.test(slug)) {
    throw new ValueStoreError(
      `Cannot use block type slug ${
        JSON.stringify(String(slug))
      }: use lowercase letters, digits and "-", such as "secret" or "aws-credentials"`,
    );
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
