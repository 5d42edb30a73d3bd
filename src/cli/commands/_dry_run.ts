/**
 * `stepbox run --dry-run`: each step's reference, resolved module specifier, permissions and
 * unresolved inputs, without running or importing anything.
 *
 * @module
 */

import type { Permissions, Step } from "../../types.ts";
import type { SectionName } from "../../core/parse_step_file.ts";
import type { LoadedStepFile } from "../../io/load_step_file.ts";
import { type ParsedStep, parseStep } from "../../core/parse_step.ts";
import { buildImportMap } from "../../core/import_map.ts";
import {
  findBuiltinTarget,
  resolveStepReference,
} from "../../core/step_reference.ts";
import { computeGrant } from "../../core/permissions.ts";

/** What a dry run shows of one step. */
export interface DescribedStep {
  section?: SectionName;
  index: number;
  position?: string;
  reference: string;
  specifier: string | null;
  exportName: string | null;
  builtin: boolean;
  permissions: Permissions | null;
  inputs: Record<string, unknown>;
  /** Why the step could not run, found without running it. */
  error?: string;
}

/**
 * Describes the steps of `parts` without running them: human lines for stderr, JSON for
 * stdout, and whether any step could not run.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeSteps } from "./_dry_run.ts";
 * import { loadStepFile } from "../../io/load_step_file.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await Deno.writeTextFile(`${dir}/a.yaml`, "- ./s.ts#f:\n    x: \"{{ y }}\"\n");
 *   const file = await loadStepFile("a.yaml", { cwd: dir });
 *   const { json, failed } = await describeSteps(file, [{ section: undefined, steps: file.steps }], {
 *     importMap: {},
 *     allow: {},
 *   });
 *   assert.equal(failed, false);
 *   assert.deepEqual((json as { inputs: unknown }[])[0]?.inputs, { x: "{{ y }}" });
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function describeSteps(
  file: LoadedStepFile,
  parts: readonly {
    section: SectionName | undefined;
    steps: readonly Step[];
  }[],
  options: { importMap: Record<string, string>; allow: Permissions },
): Promise<{ lines: string[]; json: unknown; failed: boolean }> {
  const lines: string[] = [];
  const described: DescribedStep[] = [];
  // The import map of each list, as the run would build it (its `requires` included).
  const maps = new Map<object, Record<string, string>>();
  for (const part of parts) {
    const requiring = part.steps.map((step, index) => parseStep(step, index))
      .filter((step): step is ParsedStep => step !== undefined);
    maps.set(
      part,
      buildImportMap(requiring, {
        importMap: options.importMap,
        baseUrl: file.baseUrl,
      }),
    );
  }
  for (const part of parts) {
    for (let index = 0; index < part.steps.length; index++) {
      const step = part.steps[index];
      const parsed = parseStep(step, index);
      if (parsed === undefined) continue;
      const { reference, inputs } = parsed;
      let specifier: string | null = null;
      let exportName: string | null = null;
      let builtin = false;
      let permissions: Permissions | null = null;
      let error: string | undefined;
      try {
        const importMap = maps.get(part) ?? {};
        const target = resolveStepReference(reference, {
          importMap,
          baseUrl: file.baseUrl,
        });
        specifier = target.specifier;
        exportName = target.exportName;
        const found = findBuiltinTarget(target);
        builtin = found !== undefined;
        permissions = computeGrant(parsed, {
          builtin: found,
          ceiling: options.allow,
        });
      } catch (caught) {
        error = caught instanceof Error ? caught.message : String(caught);
      }
      const where = await file.locate({
        ...(part.section !== undefined ? { section: part.section } : {}),
        index,
      });
      const position = where !== undefined
        ? `${where.file}:${where.line}:${where.column}`
        : undefined;
      const entry: DescribedStep = {
        ...(part.section !== undefined ? { section: part.section } : {}),
        index,
        ...(position !== undefined ? { position } : {}),
        reference,
        specifier,
        exportName,
        builtin,
        permissions,
        inputs,
        ...(error !== undefined ? { error } : {}),
      };
      described.push(entry);
      const label = part.section !== undefined
        ? `${part.section}[${index}]`
        : `step ${index}`;
      lines.push(
        `${label} ${reference}${
          position !== undefined ? `  (${position})` : ""
        }`,
        `    module:      ${
          specifier === null ? "-" : `${specifier}#${exportName}`
        }${builtin ? " (built-in)" : ""}`,
        `    permissions: ${
          permissions === null
            ? "-"
            : Object.keys(permissions).length === 0
            ? "none"
            : JSON.stringify(permissions)
        }`,
        `    inputs:      ${JSON.stringify(inputs)}`,
        ...(error !== undefined ? [`    error:       ${error}`] : []),
      );
    }
  }
  lines.push(
    `ceiling: ${
      Object.keys(options.allow).length === 0
        ? "none"
        : JSON.stringify(options.allow)
    }`,
    "dry run: nothing was run",
  );
  return {
    lines,
    json: described,
    failed: described.some((step) => step.error !== undefined),
  };
}
