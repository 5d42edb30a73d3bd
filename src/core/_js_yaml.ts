// Portable: no runtime APIs.
/**
 * js-yaml, loaded once on first use by whoever parses YAML (step files, vars files). Private:
 * never re-exported.
 *
 * @module
 */

/** The parts of js-yaml that stepbox uses. */
export interface JsYaml {
  load(text: string, options: { schema: unknown; filename?: string }): unknown;
  CORE_SCHEMA: { extend(types: { implicit: unknown[] }): unknown };
  types: { merge: unknown };
}

const SPECIFIER = "npm:js-yaml@^4.1.0";
let loading: Promise<JsYaml> | undefined;

/**
 * Loads js-yaml. Where the package sits in a `node_modules` directory it is imported as the
 * plain file it resolves to: Deno took about 2.5 ms longer to load the same file through the
 * `npm:` specifier, on the path of every CLI run before its sandbox can start. Anywhere else
 * (no local `node_modules`, or no permission to read it) the specifier itself is imported.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadJsYaml } from "./_js_yaml.ts";
 * const yaml = await loadJsYaml();
 * assert.deepEqual(yaml.load("a: 1", { schema: yaml.CORE_SCHEMA }), { a: 1 });
 * assert.equal(await loadJsYaml(), yaml);
 * ```
 */
export function loadJsYaml(): Promise<JsYaml> {
  return loading ??= importJsYaml();
}

async function importJsYaml(): Promise<JsYaml> {
  let file: string | undefined;
  try {
    file = import.meta.resolve(SPECIFIER);
  } catch {
    // Not resolvable as a file here: the specifier below says why, if it fails too.
  }
  if (file?.startsWith("file:")) {
    try {
      return unwrap(await import(file));
    } catch {
      // Not readable as a plain file: load it the usual way.
    }
  }
  // A literal, so that Deno's module graph (and `deno check`) knows the package.
  return unwrap(await import("npm:js-yaml@^4.1.0"));
}

function unwrap(module: { default?: unknown }): JsYaml {
  return (module.default ?? module) as JsYaml;
}
