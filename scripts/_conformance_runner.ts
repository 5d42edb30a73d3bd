/**
 * Loads the shared conformance vectors and runs one case against the library; used by
 * `scripts/conformance.ts` and `tests/conformance_test.ts`.
 *
 * @module
 */

import { NotSet } from "../src/core/templating.ts";
import {
  applyValues,
  findPlaceholders,
  getFromDict,
} from "../src/core/templating.ts";
import {
  resolveBlockReferences,
  resolveVariables,
} from "../src/core/resolve_values.ts";
import { runStep, runSteps } from "../src/core/run_steps.ts";
import { createMemoryValueSource } from "../src/values/memory.ts";
import type { Executor } from "../src/sandbox/executor.ts";
import type { BlockDocument, Step } from "../src/types.ts";

/** The directory of the shared vectors, next to the repository. */
export const DEFAULT_CONFORMANCE_DIR: URL = new URL(
  "../../shared/conformance/",
  import.meta.url,
);

/** A vector that contradicts DESIGN.md: why, and the result DESIGN.md requires instead. */
export interface DesignOverride {
  reason: string;
  expect: unknown;
}

/**
 * Vectors that contradict DESIGN.md. They are run and checked against the result DESIGN.md
 * requires; `deno task conformance` counts them as skipped (never as passed) and prints why.
 *
 * `step-placeholder-from-block-uses-env-not-upstream` restates Prefect's multi-pass result
 * (block data re-scanned by an environment pass), while DESIGN.md ("Templating"), the
 * conformance README ("Where stepbox deliberately differs": "block data ... is never scanned
 * again") and the other vectors (`step-variable-value-not-templated-again`,
 * `step-block-value-cannot-introduce-variable`) require that what a resolution inserts is
 * never scanned again: the block's `{{ name }}` stays as it is.
 */
export const CONTRADICTS_DESIGN: Readonly<Record<string, DesignOverride>> =
  Object.freeze({
    "step-placeholder-from-block-uses-env-not-upstream": {
      reason:
        "expects block data to be re-scanned by an environment pass, which DESIGN.md's single-pass rule forbids",
      expect: { who: "{{ name }}" },
    },
  });

/** One case, with where it came from. */
export interface ConformanceCase {
  file: string;
  kind: string;
  name: string;
  source?: string;
  notes?: string;
  // deno-lint-ignore no-explicit-any -- the input shape depends on the kind
  input: any;
  expect?: unknown;
  "expect_error"?: {
    name?: string;
    "message_includes"?: string;
    "cause_message_includes"?: string;
  };
  "expect_warnings"?: number;
}

/** The outcome of one case. */
export type CaseResult =
  | { ok: true }
  | { ok: false; expected: string; actual: string };

/** Options of {@linkcode runConformanceCase}. */
export interface RunCaseOptions {
  /** URL of the fixture steps module (the `fixtures` alias). */
  fixturesUrl: string;
  /** The executor for run_step / run_steps cases (not closed here). */
  executor: Executor;
}

/** Whether a directory exists. */
export function directoryExists(path: string | URL): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/** Loads every `cases/*.json` of a conformance directory, sorted by file name. */
export function loadConformanceCases(dir: string | URL): ConformanceCase[] {
  const base = typeof dir === "string"
    ? new URL(`file://${dir.endsWith("/") ? dir : `${dir}/`}`)
    : dir;
  const casesDir = new URL("cases/", base);
  const files = [...Deno.readDirSync(casesDir)]
    .filter((entry) => entry.isFile && entry.name.endsWith(".json"))
    .map((entry) => entry.name)
    .sort();
  const cases: ConformanceCase[] = [];
  for (const file of files) {
    const data = JSON.parse(Deno.readTextFileSync(new URL(file, casesDir)));
    for (const one of data.cases ?? []) {
      cases.push({ ...one, file, kind: data.kind });
    }
  }
  return cases;
}

/** The fixture module of a conformance directory. */
export function defaultFixturesUrl(dir: string | URL): string {
  const base = typeof dir === "string"
    ? new URL(`file://${dir.endsWith("/") ? dir : `${dir}/`}`)
    : dir;
  return new URL("fixtures/steps.ts", base).href;
}

function isNotSetMarker(value: unknown): boolean {
  return typeof value === "object" && value !== null &&
    !Array.isArray(value) && Object.keys(value).length === 1 &&
    (value as Record<string, unknown>)["$notset"] === true;
}

/** `{"$notset": true}` -> NotSet, recursively. */
function toNotSet(value: unknown): unknown {
  if (isNotSetMarker(value)) return NotSet;
  if (Array.isArray(value)) return value.map(toNotSet);
  if (typeof value === "object" && value !== null) {
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      Object.defineProperty(result, key, {
        value: toNotSet(item),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return result;
  }
  return value;
}

/** NotSet -> `{"$notset": true}`, recursively; other values as JSON sees them. */
function fromNotSet(value: unknown): unknown {
  if (value === NotSet) return { $notset: true };
  if (Array.isArray(value)) return value.map(fromNotSet);
  if (typeof value === "object" && value !== null) {
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      Object.defineProperty(result, key, {
        value: fromNotSet(item),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return result;
  }
  return value;
}

/** Compares as JSON values: types must match, object key order does not matter. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) {
      return false;
    }
    return a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (typeof a === "object") {
    const ka = Object.keys(a as object);
    const kb = Object.keys(b as object);
    if (ka.length !== kb.length) return false;
    return ka.every((key) =>
      Object.hasOwn(b as object, key) &&
      jsonEqual(
        (a as Record<string, unknown>)[key],
        (b as Record<string, unknown>)[key],
      )
    );
  }
  return false;
}

function show(value: unknown): string {
  if (value === undefined) return "undefined";
  return JSON.stringify(fromNotSet(value));
}

function blocksOf(input: { blocks?: unknown[] }): BlockDocument[] {
  return (input.blocks ?? []).map((raw) => {
    const block = raw as {
      id: string;
      block_type_slug: string;
      name: string;
      data: unknown;
    };
    return {
      id: block.id,
      blockTypeSlug: block.block_type_slug,
      name: block.name,
      data: block.data,
    };
  });
}

function sortPlaceholders(
  found: { fullMatch: string; name: string; type: string }[],
): { full_match: string; name: string; type: string }[] {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return found
    .map((p) => ({ full_match: p.fullMatch, name: p.name, type: p.type }))
    .sort((a, b) => cmp(a.full_match, b.full_match) || cmp(a.name, b.name));
}

/** Runs the call a case describes; resolves to the result, or rejects with the call's error. */
async function call(
  one: ConformanceCase,
  options: RunCaseOptions,
  warnings: string[],
): Promise<unknown> {
  const input = one.input;
  const env = input.env ?? {};
  switch (one.kind) {
    case "get_from_dict":
      return Object.hasOwn(input, "default")
        ? getFromDict(input.dict, input.keypath, input.default)
        : getFromDict(input.dict, input.keypath);
    case "find_placeholders":
      return sortPlaceholders(findPlaceholders(toNotSet(input.template)));
    case "apply_values": {
      const opts = input.options ?? {};
      return applyValues(toNotSet(input.template), input.values, {
        removeNotset: opts.remove_notset ?? true,
        warnOnNotset: opts.warn_on_notset ?? false,
        skipPrefixes: opts.skip_prefixes ?? [],
        warn: (message) => warnings.push(message),
        env,
      });
    }
    case "resolve_block_references":
      return await resolveBlockReferences(toNotSet(input.template), {
        values: createMemoryValueSource({ blocks: blocksOf(input) }),
      });
    case "resolve_variables":
      return await resolveVariables(toNotSet(input.template), {
        values: createMemoryValueSource({ variables: input.variables ?? {} }),
      });
    case "run_step":
    case "run_steps": {
      const values = createMemoryValueSource({
        variables: input.variables ?? {},
        blocks: blocksOf(input),
      });
      const common = {
        env,
        values,
        executor: options.executor,
        importMap: { fixtures: options.fixturesUrl },
        ...(input.upstream_outputs === undefined
          ? {}
          : { upstreamOutputs: input.upstream_outputs }),
      };
      if (one.kind === "run_step") {
        return await runStep(input.step as Step, common);
      }
      const before = structuredClone(input.upstream_outputs);
      const result = await runSteps(input.steps as Step[], common);
      if (!jsonEqual(before, input.upstream_outputs)) {
        throw new Error(
          `runSteps mutated upstream_outputs: before ${show(before)}, after ${
            show(input.upstream_outputs)
          }`,
        );
      }
      return result;
    }
    default:
      throw new Error(`Unknown case kind "${one.kind}"`);
  }
}

/**
 * Runs one conformance case and compares the outcome with its expectation.
 *
 * @param one The case.
 * @param options The fixtures URL and the executor for run cases.
 * @returns `{ ok: true }`, or what was expected and what happened.
 */
export async function runConformanceCase(
  one: ConformanceCase,
  options: RunCaseOptions,
): Promise<CaseResult> {
  const override = CONTRADICTS_DESIGN[one.name];
  if (override !== undefined) {
    one = { ...one, expect: override.expect };
    delete one.expect_error;
  }
  const warnings: string[] = [];
  let result: unknown;
  let error: unknown;
  let failed = false;
  try {
    result = await call(one, options, warnings);
  } catch (caught) {
    failed = true;
    error = caught;
  }
  const expectError = one.expect_error;
  if (expectError !== undefined) {
    if (!failed) {
      return {
        ok: false,
        expected: `an error ${JSON.stringify(expectError)}`,
        actual: `result ${show(result)}`,
      };
    }
    const e = error as { name?: string; message?: string; cause?: unknown };
    const message = String(e?.message ?? error);
    const cause = e?.cause as { message?: string } | undefined;
    const problems: string[] = [];
    if (
      expectError.name === "StepExecutionError" &&
      e?.name !== "StepExecutionError"
    ) problems.push(`name is ${e?.name}`);
    if (
      expectError.message_includes !== undefined &&
      !message.includes(expectError.message_includes)
    ) problems.push("message does not match");
    if (
      expectError.cause_message_includes !== undefined &&
      !String(cause?.message ?? "").includes(expectError.cause_message_includes)
    ) problems.push("cause message does not match");
    if (problems.length > 0) {
      return {
        ok: false,
        expected: `an error ${JSON.stringify(expectError)}`,
        actual: `${e?.name}: ${message}${
          cause === undefined ? "" : ` (cause: ${cause.message})`
        } [${problems.join("; ")}]`,
      };
    }
    return { ok: true };
  }
  if (failed) {
    const e = error as { name?: string; message?: string; cause?: unknown };
    const cause = e?.cause as { message?: string } | undefined;
    return {
      ok: false,
      expected: show(one.expect),
      actual: `error ${e?.name}: ${e?.message ?? String(error)}${
        cause === undefined ? "" : ` (cause: ${cause.message})`
      }`,
    };
  }
  const actual = fromNotSet(result);
  if (!jsonEqual(actual, one.expect)) {
    return { ok: false, expected: show(one.expect), actual: show(result) };
  }
  if (
    one.expect_warnings !== undefined &&
    warnings.length !== one.expect_warnings
  ) {
    return {
      ok: false,
      expected: `${one.expect_warnings} warning(s)`,
      actual: `${warnings.length} warning(s): ${JSON.stringify(warnings)}`,
    };
  }
  return { ok: true };
}
