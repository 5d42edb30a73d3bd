/**
 * Reads import-map entries: an `--import-map` file (`{ "imports": { ... } }`) and a project's
 * `deno.json` / `deno.jsonc` `imports`. Relative targets resolve against the file that holds
 * them, as import maps specify.
 *
 * @module
 */

import { type Files, files } from "../_util/files.ts";
import { ImportMapError } from "../errors.ts";

/** Options of {@linkcode readImportMap}. */
export interface ReadImportMapOptions {
  /** The directory a relative `path` is taken from (absolute). @default the process's working directory */
  cwd?: string;
}

/**
 * Reads the `imports` of an import map file or a `deno.json(c)`, with relative targets
 * (`./x.ts`, `../y/`) resolved to absolute `file:` URLs against the file's directory.
 *
 * @param path The file's path, absolute or relative to `options.cwd`.
 * @param options Where a relative path starts.
 * @returns The entries: bare names and prefixes -> absolute specifiers.
 * @throws {ImportMapError} when the file is missing, does not parse, or `imports` is not a
 * mapping of strings.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { readImportMap } from "./read_import_map.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await Deno.writeTextFile(`${dir}/map.json`, '{ "imports": { "greet": "./greet.ts", "slug": "npm:slugify@1" } }');
 *   const map = await readImportMap("map.json", { cwd: dir });
 *   assert.equal(map.slug, "npm:slugify@1");
 *   assert.equal(map.greet, new URL(`file://${dir}/greet.ts`).href);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function readImportMap(
  path: string,
  options: ReadImportMapOptions = {},
): Promise<Record<string, string>> {
  const fs = await filesFor(
    `Cannot read import map "${path}"`,
    "pass the map as runSteps' importMap option",
  );
  const absolute = path.startsWith("/")
    ? path
    : `${(options.cwd ?? fs.cwd()).replace(/\/+$/, "")}/${path}`;
  let text: string;
  try {
    text = await fs.readTextFile(absolute);
  } catch (error) {
    throw new ImportMapError(
      fs.kind(error) === "not-found"
        ? `Cannot read import map "${path}": it does not exist; check the path`
        : `Cannot read import map "${path}": ${
          error instanceof Error ? error.message : String(error)
        }`,
      { cause: error },
    );
  }
  return parseImports(text, absolute, path);
}

/**
 * Finds the project's `deno.json` or `deno.jsonc`, from `directory` up to the filesystem root,
 * and returns its `imports` (relative targets resolved), or `{}` when there is none.
 *
 * @param directory An absolute directory where the search starts (a step file's directory).
 * @returns The entries, and the config file they came from.
 * @throws {ImportMapError} when the config file found does not parse.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { readProjectImports } from "./read_import_map.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await Deno.writeTextFile(`${dir}/deno.jsonc`, '{\n  // steps\n  "imports": { "lodash": "npm:lodash@4" },\n}\n');
 *   await Deno.mkdir(`${dir}/flows`);
 *   const { imports } = await readProjectImports(`${dir}/flows`);
 *   assert.deepEqual(imports, { lodash: "npm:lodash@4" });
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function readProjectImports(
  directory: string,
): Promise<{ imports: Record<string, string>; configFile?: string }> {
  const fs = await filesFor(
    `Cannot look for a deno.json above "${directory}"`,
    "pass its imports as runSteps' importMap option",
  );
  let current = directory.replace(/\/+$/, "") || "/";
  while (true) {
    for (const name of ["deno.json", "deno.jsonc"]) {
      const candidate = `${current === "/" ? "" : current}/${name}`;
      let text: string;
      try {
        text = await fs.readTextFile(candidate);
      } catch {
        continue;
      }
      return {
        imports: parseImports(text, candidate, candidate),
        configFile: candidate,
      };
    }
    if (current === "/") return { imports: {} };
    current = current.slice(0, current.lastIndexOf("/")) || "/";
  }
}

async function filesFor(what: string, instead: string): Promise<Files> {
  try {
    return await files();
  } catch (error) {
    throw new ImportMapError(
      `${what}: ${(error as Error).message}; ${instead}`,
    );
  }
}

function parseImports(
  text: string,
  absolute: string,
  displayName: string,
): Record<string, string> {
  let data: unknown;
  try {
    data = JSON.parse(stripJsonComments(text));
  } catch (error) {
    throw new ImportMapError(
      `Cannot read import map "${displayName}": it is not valid JSON (${
        error instanceof Error ? error.message : String(error)
      })`,
      { cause: error },
    );
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new ImportMapError(
      `Cannot read import map "${displayName}": expected a JSON object with "imports"`,
    );
  }
  const imports = (data as Record<string, unknown>).imports;
  if (imports === undefined) return {};
  if (
    typeof imports !== "object" || imports === null || Array.isArray(imports)
  ) {
    throw new ImportMapError(
      `Cannot read import map "${displayName}": "imports" must be a mapping of names to specifiers`,
    );
  }
  const base = new URL("file:///");
  base.pathname = absolute.split("/").map(encodeURIComponent).join("/");
  const out: Record<string, string> = Object.create(null);
  for (const [name, target] of Object.entries(imports)) {
    if (typeof target !== "string") {
      throw new ImportMapError(
        `Cannot read import map "${displayName}": the target of "${name}" must be a string, found ${
          target === null ? "null" : typeof target
        }`,
      );
    }
    out[name] = /^\.{1,2}\/|^\//.test(target)
      ? new URL(target, base).href
      : target;
  }
  return { ...out };
}

/** Removes `//` and `/* *\/` comments and trailing commas outside strings (JSONC). */
function stripJsonComments(text: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const char = text[i] as string;
    if (char === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (char === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (char === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      i = end < 0 ? text.length : end + 2;
    } else {
      out += char;
      i++;
    }
  }
  return out.replace(/,(\s*[}\]])/g, "$1");
}
