// Portable: no runtime APIs.
/**
 * The run's import map: the built-ins, the caller's entries and every step's `requires`
 * ({@linkcode buildImportMap}, {@linkcode parseRequirement}).
 *
 * @module
 */

import { sourceUrl } from "../_util/source_url.ts";
import { ImportMapError } from "../errors.ts";

/** The CDN base that `requires: name@range` maps to by default. */
export const DEFAULT_CDN = "https://esm.sh";

/** Entries every run has: the built-in steps under `stepbox/steps/`. */
export const BUILTIN_IMPORTS: Readonly<Record<string, string>> = Object.freeze({
  "stepbox/steps/": sourceUrl("steps/").href,
});

/** One `requires` entry, translated. */
export interface Requirement {
  /** The package name: the import-map key. */
  name: string;
  /** The specifier it maps to. */
  target: string;
}

/** Options of {@linkcode parseRequirement}. */
export interface RequirementOptions {
  /** The CDN base for `name@range`. @default "https://esm.sh" */
  cdn?: string;
}

const NPM_NAME = /^(?:@[a-z0-9~][\w.~-]*\/)?[a-z0-9~][\w.~-]*$/i;
const PIP_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;
const PIP_SPEC = /^(===|==|!=|~=|>=|<=|>|<)\s*(\S+)$/;
const PIP_START = /(===|==|!=|~=|>=|<=|>|<)/;
const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

function splitNameAndVersion(text: string): { name: string; version?: string } {
  const at = text.indexOf("@", text.startsWith("@") ? 1 : 0);
  if (at < 0) return { name: text };
  return { name: text.slice(0, at), version: text.slice(at + 1) };
}

function versionParts(version: string, entry: string): number[] {
  if (!/^\d+(\.\d+)*$/.test(version)) {
    throw new TypeError(
      `version "${version}" is not a plain release number such as 1.2 or 1.2.3`,
    );
  }
  const parts = version.split(".").map(Number);
  if (parts.length > 3) {
    throw new TypeError(
      `version "${version}" has more than three parts, which semver cannot express (in "${entry}")`,
    );
  }
  return parts;
}

function pad(parts: readonly number[]): string {
  return [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0].join(".");
}

/** `[1, 2]` -> the first version after the 1.2 series: `1.3.0`. */
function nextRelease(parts: readonly number[]): string {
  const bumped = [...parts];
  const last = bumped.length - 1;
  bumped[last] = (bumped[last] ?? 0) + 1;
  return pad(bumped);
}

/**
 * Translates pip-style specifiers (`>=1.2,<2`, `~=1.4.2`, `==1.*`, `!=1.3`) to a semver range
 * (`>=1.2.0 <2.0.0`).
 *
 * @param specifiers The specifiers after the package name, separated by commas.
 * @returns The semver range.
 * @throws {TypeError} when a specifier cannot be translated, saying why
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { pipToSemver } from "./import_map.ts";
 *
 * assert.equal(pipToSemver(">=1.2,<2"), ">=1.2.0 <2.0.0");
 * assert.equal(pipToSemver("~=1.4.2"), ">=1.4.2 <1.5.0");
 * assert.equal(pipToSemver("!=1.3"), "<1.3.0 || >1.3.0");
 * ```
 */
export function pipToSemver(specifiers: string): string {
  // Comparator sets joined by "||"; `!=` splits every set in two.
  let sets: string[][] = [[]];
  for (const raw of specifiers.split(",")) {
    const spec = raw.trim();
    const match = PIP_SPEC.exec(spec);
    if (match === null) {
      throw new TypeError(
        `"${spec}" is not a version specifier such as ">=1.2", "<2", "==1.4.*", "~=1.4" or "!=1.3"`,
      );
    }
    const operator = match[1] ?? "";
    const version = match[2] ?? "";
    const wildcard = version.endsWith(".*");
    if (wildcard && operator !== "==" && operator !== "!=") {
      throw new TypeError(
        `"${spec}": a wildcard version is allowed only after == or !=`,
      );
    }
    const parts = versionParts(
      wildcard ? version.slice(0, -2) : version,
      specifiers,
    );
    let add: string[][];
    switch (operator) {
      case ">=":
      case ">":
      case "<=":
      case "<":
        add = [[`${operator}${pad(parts)}`]];
        break;
      case "==":
      case "===":
        add = wildcard
          ? [[`>=${pad(parts)}`, `<${nextRelease(parts)}`]]
          : [[pad(parts)]];
        break;
      case "~=":
        if (parts.length < 2) {
          throw new TypeError(
            `"${spec}": ~= needs at least two version parts, such as ~=1.4`,
          );
        }
        add = [[`>=${pad(parts)}`, `<${nextRelease(parts.slice(0, -1))}`]];
        break;
      default: // "!="
        add = wildcard
          ? [[`<${pad(parts)}`], [`>=${nextRelease(parts)}`]]
          : [[`<${pad(parts)}`], [`>${pad(parts)}`]];
    }
    const next: string[][] = [];
    for (const set of sets) {
      for (const extra of add) next.push([...set, ...extra]);
    }
    sets = next;
  }
  return sets.map((set) => set.join(" ")).join(" || ");
}

function nameFromUrl(url: string): string | undefined {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return undefined;
  }
  const segments = path.split("/").filter((s) => s !== "")
    .map((s) => decodeURIComponent(s));
  const first = segments[0];
  if (first === undefined) return undefined;
  if (first.startsWith("@") && segments[1] !== undefined) {
    return `${first}/${splitNameAndVersion(segments[1]).name}`;
  }
  const name = splitNameAndVersion(first).name.replace(
    /\.(m?js|ts|mts|jsx|tsx)$/,
    "",
  );
  return name === "" ? undefined : name;
}

/**
 * Translates one `requires` entry: `name@range` -> `<cdn>/name@range`, `npm:name@range` and
 * `jsr:` specifiers -> themselves, a full URL -> itself, a pip-style `name>=1.2,<2` ->
 * `<cdn>/name@>=1.2.0 <2.0.0`. The import-map key is the package name.
 *
 * @param entry The entry as written.
 * @param options The CDN base.
 * @returns The package name and its target.
 * @throws {TypeError} when the entry is malformed, saying why
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRequirement } from "./import_map.ts";
 *
 * assert.deepEqual(parseRequirement("slugify@^1.6"), { name: "slugify", target: "https://esm.sh/slugify@^1.6" });
 * assert.deepEqual(parseRequirement("npm:@scope/pkg@2"), { name: "@scope/pkg", target: "npm:@scope/pkg@2" });
 * assert.deepEqual(parseRequirement("prefect-docker>=0.3,<1", { cdn: "http://127.0.0.1:8000/" }), {
 *   name: "prefect-docker",
 *   target: "http://127.0.0.1:8000/prefect-docker@>=0.3.0 <1.0.0",
 * });
 * ```
 */
export function parseRequirement(
  entry: string,
  options: RequirementOptions = {},
): Requirement {
  const cdn = (options.cdn ?? DEFAULT_CDN).replace(/\/+$/, "");
  const text = entry.trim();
  if (text === "") throw new TypeError("the entry is empty");
  for (const scheme of ["npm:", "jsr:"]) {
    if (text.startsWith(scheme)) {
      const { name, version } = splitNameAndVersion(text.slice(scheme.length));
      const bare = name.split("/").slice(0, name.startsWith("@") ? 2 : 1)
        .join("/");
      if (!NPM_NAME.test(bare) || version === "") {
        throw new TypeError(
          `"${text}" is not a valid ${scheme} specifier such as "${scheme}slugify@1.6.6"`,
        );
      }
      return { name: bare, target: text };
    }
  }
  if (URL_SCHEME.test(text) || text.startsWith("file:")) {
    const name = nameFromUrl(text);
    if (name === undefined) {
      throw new TypeError(
        `cannot tell the package name of the URL "${text}"; use a URL whose path starts with the package name, such as https://esm.sh/slugify@1.6.6`,
      );
    }
    return { name, target: text };
  }
  const pipAt = text.search(PIP_START);
  if (pipAt > 0 && !text.includes("@")) {
    const name = text.slice(0, pipAt).trim();
    if (!PIP_NAME.test(name)) {
      throw new TypeError(`"${name}" is not a valid package name`);
    }
    return {
      name,
      target: `${cdn}/${name}@${pipToSemver(text.slice(pipAt))}`,
    };
  }
  const { name, version } = splitNameAndVersion(text);
  if (!NPM_NAME.test(name)) {
    throw new TypeError(`"${name}" is not a valid package name`);
  }
  if (version !== undefined && !/^[\w.*^~<>=|\- ]+$/.test(version)) {
    throw new TypeError(`"${version}" is not a version range`);
  }
  return { name, target: `${cdn}/${text}` };
}

/** A step as far as the import map is concerned. */
export interface RequiringStep {
  /** The step's position in its list (0-based). */
  index: number;
  /** The step reference. */
  reference: string;
  /** The step's `requires` entries. */
  requires?: readonly string[] | undefined;
}

/** Options of {@linkcode buildImportMap}. */
export interface BuildImportMapOptions {
  /** The caller's entries (a project's `deno.json` imports, an `--import-map` file). @default {} */
  importMap?: Readonly<Record<string, string>>;
  /** The CDN base for `requires: name@range`. @default "https://esm.sh" */
  cdn?: string;
  /** Where relative targets of `importMap` resolve (a directory URL). */
  baseUrl?: string | URL;
}

/**
 * Builds the run's import map: {@linkcode BUILTIN_IMPORTS}, then the caller's `importMap`
 * (relative targets resolved against `baseUrl`), then every step's `requires` (each as `name`
 * and, for sub paths, `name/`). A name mapped to two different targets (by two steps, or by a
 * step and the caller's map) is an error.
 *
 * @param steps The steps, in order.
 * @param options The caller's entries, the CDN base and the base URL.
 * @returns The import map (bare names and prefixes -> specifiers).
 * @throws {ImportMapError} for a malformed `requires` entry, or a name with two targets,
 *   naming both steps (index and reference) and both targets
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildImportMap } from "./import_map.ts";
 *
 * const map = buildImportMap(
 *   [{ index: 0, reference: "slugify#default", requires: ["slugify@1.6.6"] }],
 *   { importMap: { lib: "npm:lib@2" } },
 * );
 * assert.equal(map.slugify, "https://esm.sh/slugify@1.6.6");
 * assert.equal(map.lib, "npm:lib@2");
 * assert.throws(
 *   () => buildImportMap([
 *     { index: 0, reference: "a.f", requires: ["x@1"] },
 *     { index: 1, reference: "b.g", requires: ["x@2"] },
 *   ]),
 *   /step 0 "a.f" maps "x" to "https:\/\/esm.sh\/x@1" but step 1 "b.g" maps it to "https:\/\/esm.sh\/x@2"/,
 * );
 * ```
 */
export function buildImportMap(
  steps: readonly RequiringStep[],
  options: BuildImportMapOptions = {},
): Record<string, string> {
  const imports: Record<string, string> = { ...BUILTIN_IMPORTS };
  const owners = new Map<string, string>();
  for (const [name, target] of Object.entries(options.importMap ?? {})) {
    imports[name] = resolveTarget(name, target, options.baseUrl);
    owners.set(name, "the run's import map");
  }
  for (const step of steps) {
    const owner = `step ${step.index} "${step.reference}"`;
    for (const entry of step.requires ?? []) {
      let requirement: Requirement;
      try {
        requirement = parseRequirement(entry, options);
      } catch (error) {
        throw new ImportMapError(
          `Cannot use requires "${entry}" of ${owner}: ${
            (error as Error).message
          }; write "name@range" (e.g. "slugify@^1.6"), "npm:name@range", a full URL, or "name>=1.2,<2"`,
          { cause: error },
        );
      }
      const { name, target } = requirement;
      const previous = imports[name];
      if (
        Object.hasOwn(imports, name) && previous !== undefined &&
        previous !== target
      ) {
        throw new ImportMapError(
          `Cannot build the run's import map: ${
            owners.get(name) ?? "the built-ins"
          } maps "${name}" to "${previous}" but ${owner} maps it to "${target}"; make both require the same version`,
        );
      }
      imports[name] = target;
      // The companion prefix entry lets modules import sub paths (`name/sub.js`), which an
      // import map resolves only through a key ending in "/".
      const prefix = `${name}/`;
      if (!Object.hasOwn(imports, prefix)) {
        imports[prefix] = target.endsWith("/") ? target : `${target}/`;
      }
      if (!owners.has(name)) owners.set(name, owner);
    }
  }
  return imports;
}

function resolveTarget(
  name: string,
  target: string,
  baseUrl: string | URL | undefined,
): string {
  if (!/^\.{0,2}\//.test(target)) return target;
  if (baseUrl === undefined && target.startsWith("/")) {
    return new URL(target, "file:///").href;
  }
  if (baseUrl === undefined) {
    throw new ImportMapError(
      `Cannot build the run's import map: "${name}" maps to the relative path "${target}" but there is no baseUrl to resolve it against; pass the baseUrl option or an absolute URL`,
    );
  }
  return new URL(target, baseUrl).href;
}
