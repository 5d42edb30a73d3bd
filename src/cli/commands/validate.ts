/**
 * `stepbox validate`: parse and check a step file — YAML, sections, every step's shape and
 * keywords, and that every reference resolves (import map, `requires`); nothing runs.
 *
 * @module
 */

import { StepFileError } from "../../errors.ts";
import type { Step } from "../../types.ts";
import type { SectionName } from "../../core/parse_step_file.ts";
import { loadStepFile } from "../../io/load_step_file.ts";
import { readProjectImports } from "../../io/read_import_map.ts";
import { fileCeiling } from "../ceiling.ts";
import { describeSteps } from "./_dry_run.ts";
import type { ValidateCliOptions } from "../args.ts";
import type { CommandContext } from "./_context.ts";
import { findStepFile } from "./_shared.ts";

/**
 * Runs `stepbox validate`: prints a one-line summary on stderr and resolves to 0, or throws
 * the `StepFileError` (with `file:line:column`) for `main.ts` to report with exit code 2.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateCommand } from "./validate.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await Deno.writeTextFile(`${dir}/a.yaml`, "- a.b:\n    x: 1\n  y: 2\n");
 *   const sink = { stdout: () => {}, stderr: () => {}, live: false, color: false };
 *   const context = { cwd: dir, env: {}, sink, readStdin: () => Promise.resolve("") };
 *   await assert.rejects(validateCommand({ command: "validate", file: "a.yaml" }, context), {
 *     message: "a.yaml:3:3: Step has unexpected additional keys: y",
 *   });
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function validateCommand(
  options: ValidateCliOptions,
  context: CommandContext,
): Promise<number> {
  const name = await findStepFile(options.file, context.cwd, "validate");
  const file = await loadStepFile(name, {
    cwd: context.cwd,
    displayName: name,
  });
  const parts: { section: SectionName | undefined; steps: readonly Step[] }[] =
    file.form === "list"
      ? [{ section: undefined, steps: file.steps }]
      : Object.entries(file.sections).map(([section, steps]) => ({
        section: section as SectionName,
        steps: steps ?? [],
      }));
  const directory = file.path.slice(0, file.path.lastIndexOf("/")) || "/";
  const { json } = await describeSteps(file, parts, {
    importMap: (await readProjectImports(directory)).imports,
    // What the file grants is what a run of it allows by default: check references only.
    allow: fileCeiling(parts.flatMap((part) => part.steps)).allow,
  });
  const failed =
    (json as { section?: SectionName; index: number; error?: string }[])
      .find((step) => step.error !== undefined);
  if (failed !== undefined) {
    const where = await file.locate({
      ...(failed.section !== undefined ? { section: failed.section } : {}),
      index: failed.index,
    });
    throw new StepFileError(failed.error ?? "", { file: name, ...where });
  }
  const counts = file.form === "list"
    ? plural(countSteps(file.steps))
    : Object.entries(file.sections).map(([section, steps]) =>
      `${section}: ${plural(countSteps(steps ?? []))}`
    ).join(", ") || "no sections";
  context.sink.stderr(`${name}: valid (${counts})\n`);
  return 0;
}

function plural(count: number): string {
  return count === 1 ? "1 step" : `${count} steps`;
}

function countSteps(steps: readonly unknown[]): number {
  return steps.filter((step) =>
    step !== null && typeof step === "object" && Object.keys(step).length > 0
  ).length;
}
