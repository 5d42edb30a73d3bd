// Portable: no runtime APIs.
/**
 * {@linkcode resolveStepReference}: a step reference -> the module specifier and export to call.
 *
 * @module
 */

import { ReferenceResolutionError } from "../errors.ts";
import type { StepTarget } from "../sandbox/executor.ts";
import {
  BUILTIN_PREFIXES,
  BUILTIN_STEPS,
  type BuiltinStep,
  findBuiltinStep,
} from "../steps/mod.ts";

/** Options of {@linkcode resolveStepReference}. */
export interface ResolveStepReferenceOptions {
  /** The run's import map (see `buildImportMap`). @default {} */
  importMap?: Readonly<Record<string, string>>;
  /** Where relative specifiers resolve: a directory URL ending in `/` (never the process's cwd). */
  baseUrl?: string | URL | undefined;
}

const SCHEME = /^[a-z][a-z0-9+.-]*:/i;

function fail(reference: string, message: string, specifier?: string): never {
  throw new ReferenceResolutionError(
    `Cannot resolve step reference "${reference}": ${message}`,
    specifier === undefined ? { reference } : { reference, specifier },
  );
}

/** Resolves a bare specifier through the import map: exact, `name/` prefixes, then `name` + `/sub`. */
function throughImportMap(
  specifier: string,
  importMap: Readonly<Record<string, string>>,
): string | undefined {
  if (Object.hasOwn(importMap, specifier)) return importMap[specifier];
  let best: string | undefined;
  for (const key of Object.keys(importMap)) {
    if (
      key.endsWith("/") && specifier.startsWith(key) &&
      (best === undefined || key.length > best.length)
    ) {
      best = key;
    }
  }
  if (best !== undefined) {
    return (importMap[best] ?? "") + specifier.slice(best.length);
  }
  // `name/sub/path` where only `name` is mapped: keep the sub path, as a CDN or npm:
  // specifier serves it (`https://esm.sh/name@1/sub/path`, `npm:name@1/sub/path`).
  const segments = specifier.split("/");
  const take = specifier.startsWith("@") ? 2 : 1;
  const name = segments.slice(0, take).join("/");
  if (segments.length > take && Object.hasOwn(importMap, name)) {
    return `${importMap[name]}/${segments.slice(take).join("/")}`;
  }
  return undefined;
}

// Relative specifiers already joined onto their base, by base. Joining is a pure function of
// the two texts, and a runner resolves the same few references run after run; the bounds keep
// a long-lived process from collecting every path it ever saw.
const joined = new Map<string, Map<string, string>>();
const BASES_LIMIT = 64;
const SPECIFIERS_LIMIT = 512;

function join(specifier: string, baseUrl: string | URL): string {
  const base = String(baseUrl);
  let bySpecifier = joined.get(base);
  if (bySpecifier === undefined) {
    if (joined.size >= BASES_LIMIT) joined.clear();
    bySpecifier = new Map();
    joined.set(base, bySpecifier);
  }
  let href = bySpecifier.get(specifier);
  if (href === undefined) {
    href = new URL(specifier, base).href;
    if (bySpecifier.size >= SPECIFIERS_LIMIT) bySpecifier.clear();
    bySpecifier.set(specifier, href);
  }
  return href;
}

function toAbsolute(
  reference: string,
  specifier: string,
  baseUrl: string | URL | undefined,
): string {
  if (SCHEME.test(specifier)) return specifier;
  if (specifier.startsWith("./") || specifier.startsWith("../")) {
    if (baseUrl === undefined) {
      fail(
        reference,
        `the relative specifier "${specifier}" needs a base to resolve against, and none was given (it never resolves against the current directory); pass the baseUrl option (the step file's directory URL) or write an absolute URL`,
        specifier,
      );
    }
    return join(specifier, baseUrl);
  }
  if (specifier.startsWith("/")) {
    return join(specifier, baseUrl ?? "file:///");
  }
  return specifier;
}

/**
 * The built-in step a target points at, if any.
 *
 * @param target The module specifier and export.
 * @returns The built-in, or `undefined` for any other module.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { findBuiltinTarget } from "./step_reference.ts";
 * import { BUILTIN_STEPS } from "../steps/mod.ts";
 *
 * const shell = BUILTIN_STEPS.run_shell_script!;
 * assert.equal(findBuiltinTarget({ specifier: shell.moduleUrl, exportName: "run_shell_script" }), shell);
 * assert.equal(findBuiltinTarget({ specifier: "file:///x.ts", exportName: "run_shell_script" }), undefined);
 * ```
 */
export function findBuiltinTarget(
  target: Pick<StepTarget, "specifier" | "exportName">,
): BuiltinStep | undefined {
  const step = Object.hasOwn(BUILTIN_STEPS, target.exportName)
    ? BUILTIN_STEPS[target.exportName]
    : undefined;
  return step !== undefined && step.moduleUrl === target.specifier
    ? step
    : undefined;
}

/**
 * Resolves a step reference to the module specifier and export to call.
 *
 * - `specifier#export`: a URL or `npm:` specifier is used as is; `./` and `../` resolve against
 *   `baseUrl` (never the process's current directory); a bare name goes through the import
 *   map (exact entries, `prefix/` entries, and `name/sub/path` under a mapped `name`).
 * - `a.b.c` (Prefect style): built-ins (`prefect.deployments.steps.*`, `stepbox.steps.*`)
 *   first; otherwise the module is the longest dotted prefix found in the import map and the
 *   export is the last segment.
 *
 * @param reference The step reference as written.
 * @param options The run's import map and the base URL.
 * @returns The target; `builtin` is true for stepbox's own steps.
 * @throws {ReferenceResolutionError} when the reference resolves to nothing, naming it, what
 *   was tried, and the fix
 *
 * @example References
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveStepReference } from "./step_reference.ts";
 *
 * const importMap = { fixtures: "file:///srv/steps.ts", slugify: "npm:slugify@1.6.6" };
 * assert.deepEqual(resolveStepReference("fixtures.echo", { importMap }), {
 *   reference: "fixtures.echo",
 *   specifier: "file:///srv/steps.ts",
 *   exportName: "echo",
 *   builtin: false,
 * });
 * assert.equal(resolveStepReference("slugify#default", { importMap }).specifier, "npm:slugify@1.6.6");
 * assert.equal(
 *   resolveStepReference("./greet.ts#greet", { baseUrl: "file:///srv/project/" }).specifier,
 *   "file:///srv/project/greet.ts",
 * );
 * assert.equal(resolveStepReference("prefect.deployments.steps.run_shell_script").builtin, true);
 * assert.throws(() => resolveStepReference("nonexistent.module"), /nonexistent\.module/);
 * ```
 */
export function resolveStepReference(
  reference: string,
  options: ResolveStepReferenceOptions = {},
): StepTarget {
  const importMap = options.importMap ?? {};
  if (typeof reference !== "string" || reference.trim() === "") {
    fail(
      String(reference),
      `a step reference must be a non-empty string such as "./steps.ts#build" or "prefect.deployments.steps.run_shell_script"`,
    );
  }
  const hash = reference.lastIndexOf("#");
  if (hash >= 0) {
    const written = reference.slice(0, hash);
    const exportName = reference.slice(hash + 1);
    if (written === "" || exportName === "") {
      fail(
        reference,
        `write "<module specifier>#<export name>", such as "./steps.ts#build" or "npm:slugify@1.6.6#default"`,
      );
    }
    let specifier = written;
    const relative = /^\.{0,2}\//.test(written);
    if (!relative && !SCHEME.test(written)) {
      const mapped = throughImportMap(written, importMap);
      if (mapped === undefined) {
        fail(
          reference,
          `"${written}" is not in the run's import map (tried "${written}"${
            written.includes("/") ? ` and "${written.split("/")[0]}"` : ""
          }); add it with requires (e.g. requires: "${
            written.split("/")[0]
          }@<version>"), an import map entry, or write a full specifier such as "npm:${written}@<version>#${exportName}"`,
          written,
        );
      }
      specifier = mapped;
    }
    const absolute = toAbsolute(reference, specifier, options.baseUrl);
    const target = { reference, specifier: absolute, exportName };
    return { ...target, builtin: findBuiltinTarget(target) !== undefined };
  }

  const builtin = findBuiltinStep(reference);
  if (builtin !== undefined) {
    return {
      reference,
      specifier: builtin.moduleUrl,
      exportName: builtin.name,
      builtin: true,
    };
  }
  const segments = reference.split(".");
  const exportName = segments[segments.length - 1] ?? "";
  if (segments.length < 2 || segments.some((segment) => segment === "")) {
    fail(
      reference,
      `write a dotted name whose last segment is the export ("my_module.build") or "<module specifier>#<export name>" ("./steps.ts#build")`,
    );
  }
  const modulePart = segments.slice(0, -1).join(".");
  if (BUILTIN_PREFIXES.includes(modulePart)) {
    fail(
      reference,
      `"${exportName}" is not a built-in step; the built-ins are ${
        Object.keys(BUILTIN_STEPS).join(", ")
      }`,
      modulePart,
    );
  }
  const tried: string[] = [];
  for (let end = segments.length - 1; end >= 1; end--) {
    const prefix = segments.slice(0, end).join(".");
    tried.push(prefix);
    if (Object.hasOwn(importMap, prefix)) {
      const specifier = toAbsolute(
        reference,
        importMap[prefix] ?? "",
        options.baseUrl,
      );
      const target = { reference, specifier, exportName };
      return { ...target, builtin: findBuiltinTarget(target) !== undefined };
    }
  }
  return fail(
    reference,
    `no import map entry matches its module (tried ${
      tried.map((t) => `"${t}"`).join(", ")
    }); map the module with requires or an import map entry (e.g. { "${
      segments[0]
    }": "./${segments[0]}.ts" }), or write "<module specifier>#${exportName}"`,
  );
}
