/**
 * `stepbox run`: load the step file, work out the ceiling and the import map, and start the
 * sandbox on the first step at once; then `_run_parts.ts` (loaded while the sandbox boots) runs
 * the sections in order (build, push, pull) with outputs flowing through, and reports.
 *
 * @module
 */

import type { SectionName } from "../../core/parse_step_file.ts";
import { createExecutor } from "../../sandbox/select.ts";
import { type LoadedStepFile, loadStepFile } from "../../io/load_step_file.ts";
import { readImportMap, readProjectImports } from "../../io/read_import_map.ts";
import type { RunCliOptions } from "../args.ts";
import { UsageError } from "../args.ts";
import { fileCeiling } from "../ceiling.ts";
import type { CommandContext } from "./_context.ts";
import { findStepFile, sandboxEnv } from "./_shared.ts";
import { warmFirstStep } from "./_warm.ts";
import type { Part } from "./_run_parts.ts";

/**
 * Runs `stepbox run`. Resolves to the exit code: 0 success, 1 a step failed, 2 a bad file or
 * usage detected once the run started; other bad input is thrown for `main.ts` to report.
 *
 * @example Run a step file in-process
 * ```ts
 * import assert from "node:assert/strict";
 * import { runCommand } from "./run.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await Deno.writeTextFile(`${dir}/s.ts`, "export function add(i: { a: string }) { return { sum: Number(i.a) + 1 }; }");
 *   await Deno.writeTextFile(`${dir}/stepbox.yaml`, "- ./s.ts#add:\n    a: \"{{ a }}\"\n");
 *   let out = "";
 *   const sink = { stdout: (t: string) => out += t, stderr: () => {}, live: false, color: false };
 *   const options = { command: "run" as const, set: { a: "41" }, dryRun: false, isolation: "inline" as const };
 *   const code = await runCommand(options, {
 *     cwd: dir, env: {}, sink, readStdin: () => Promise.resolve(""),
 *   });
 *   assert.equal(code, 0);
 *   assert.equal(JSON.parse(out).sum, 42);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function runCommand(
  options: RunCliOptions,
  context: CommandContext,
): Promise<number> {
  const { cwd, env } = context;
  // The sandbox's modules load while the step file is read: nothing starts until a call or a
  // hint, so an executor left unused (a bad file) holds nothing.
  const executorLoading = options.dryRun ? undefined : createExecutor(
    options.isolation ?? "step",
    context.launcher !== undefined ? { launcher: context.launcher } : {},
  );
  executorLoading?.catch(() => {});
  const name = await findStepFile(options.file, cwd, "run");
  const file = await loadStepFile(name, { cwd, displayName: name });
  const parts = selectParts(file, options.section);
  const allSteps = parts.flatMap((part) => part.steps);
  const fileDirectory = file.path.slice(0, file.path.lastIndexOf("/")) || "/";
  const importMap: Record<string, string> = {
    ...(await readProjectImports(fileDirectory)).imports,
    ...(options.importMap !== undefined
      ? await readImportMap(options.importMap, { cwd })
      : {}),
  };
  // The default ceiling is what the file grants; explicit --allow-* flags replace it.
  const ceiling = fileCeiling(allSteps);
  const allow = options.allow ?? ceiling.allow;
  const policy = {
    allow,
    env: sandboxEnv(env),
    ...(options.allowUnenforced === true ? { allowUnenforced: true } : {}),
  };

  // Everything the sandbox needs is known: its host and the first step's worker start now and
  // boot while the rest of the run loads and sets up.
  const executor = await executorLoading;
  try {
    const firstPart = parts.find((part) => part.steps.length > 0);
    if (executor !== undefined && firstPart !== undefined) {
      await warmFirstStep(executor, firstPart.steps, {
        importMap,
        baseUrl: file.baseUrl,
        policy,
      });
    }
    const { runParts } = await import("./_run_parts.ts");
    return await runParts({
      options,
      context,
      file,
      parts,
      importMap,
      policy,
      executor,
    });
  } finally {
    if (executor !== undefined) {
      // close() kills the hosts at once; waiting for them to be gone only matters to a caller
      // that goes on living (tests, embedding), not to a process about to exit.
      const closing = executor.close();
      if (context.exitsAfter !== true) await closing;
      else closing.catch(() => {});
    }
  }
}

function selectParts(
  file: LoadedStepFile,
  section: SectionName | undefined,
): Part[] {
  if (file.form === "list") {
    if (section !== undefined) {
      throw new UsageError(
        `Cannot run section "${section}": "${file.file}" is a list of steps without sections; drop --section`,
        "run",
      );
    }
    return [{ section: undefined, steps: file.steps }];
  }
  if (section !== undefined) {
    const steps = file.sections[section];
    if (steps === undefined) {
      const present = Object.keys(file.sections);
      throw new UsageError(
        `Cannot run section "${section}": "${file.file}" has no such section (it has ${
          present.length > 0 ? present.join(", ") : "none"
        })`,
        "run",
      );
    }
    return [{ section, steps }];
  }
  const parts: Part[] = [];
  for (const name of ["build", "push", "pull"] as const) {
    const steps = file.sections[name];
    if (steps !== undefined) parts.push({ section: name, steps });
  }
  return parts;
}
