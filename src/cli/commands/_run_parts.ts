/**
 * The second half of `stepbox run`, loaded once the sandbox is starting: seeds, the events file,
 * warnings, values, then each part (a section, or the whole list) in order with outputs flowing
 * through, and the report. A dry run (no executor) describes the steps instead.
 *
 * @module
 */

import {
  isStepboxError,
  StepExecutionError,
  StepFileError,
  StepValidationError,
} from "../../errors.ts";
import type { Permissions, Policy, RunOptions, Step } from "../../types.ts";
import { loadJsYaml } from "../../core/_js_yaml.ts";
import type { SectionName } from "../../core/parse_step_file.ts";
import { runSteps } from "../../core/run_steps.ts";
import type { Executor } from "../../sandbox/executor.ts";
import type { LoadedStepFile } from "../../io/load_step_file.ts";
import type { RunCliOptions } from "../args.ts";
import { UsageError } from "../args.ts";
import { fileCeiling } from "../ceiling.ts";
import { Reporter } from "../report.ts";
import type { CommandContext } from "./_context.ts";
import { chooseValues } from "./_values.ts";
import { describeSteps } from "./_dry_run.ts";

/** One list of steps to run: a section of a prefect.yaml file, or the whole list file. */
export interface Part {
  section: SectionName | undefined;
  steps: readonly Step[];
}

/** What the first half of `stepbox run` worked out. */
export interface RunPlan {
  options: RunCliOptions;
  context: CommandContext;
  file: LoadedStepFile;
  parts: Part[];
  importMap: Record<string, string>;
  /** The sandbox policy: the ceiling (the `--allow-*` flags, or what the file grants) and the
   * environment steps may see. */
  policy: Policy & { allow: Permissions };
  /** The sandbox, already told the first step; none for a dry run. */
  executor: Executor | undefined;
}

/**
 * Runs (or, without an executor, describes) the parts of a loaded step file and reports.
 * Resolves to the exit code: 0 success, 1 a step failed, 2 a bad file or usage detected once
 * the run started. The caller closes the executor.
 *
 * @example A dry run of a one-step file
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadStepFile } from "../../io/load_step_file.ts";
 * import { runParts } from "./_run_parts.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await Deno.writeTextFile(`${dir}/stepbox.yaml`, "- ./s.ts#add:\n    a: 1\n");
 *   const file = await loadStepFile(`${dir}/stepbox.yaml`);
 *   let out = "";
 *   const sink = { stdout: (t: string) => out += t, stderr: () => {}, live: false, color: false };
 *   const code = await runParts({
 *     options: { command: "run", set: {}, dryRun: true },
 *     context: { cwd: dir, env: {}, sink, readStdin: () => Promise.resolve("") },
 *     file,
 *     parts: [{ section: undefined, steps: file.steps }],
 *     importMap: {},
 *     policy: { allow: {} },
 *     executor: undefined,
 *   });
 *   assert.equal(code, 0);
 *   assert.equal(JSON.parse(out)[0].specifier, `file://${dir}/s.ts`);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function runParts(plan: RunPlan): Promise<number> {
  const { options, context, file, parts, importMap, policy, executor } = plan;
  const { cwd, env } = context;
  const upstreamOutputs: Record<string, unknown> = {
    ...(options.varsFile !== undefined
      ? await readVarsFile(options.varsFile, cwd)
      : {}),
    ...options.set,
  };

  let writeEvent: ((line: string) => void) | undefined;
  let eventsFile: Deno.FsFile | undefined;
  if (options.events !== undefined && executor !== undefined) {
    const eventsPath = options.events.startsWith("/")
      ? options.events
      : `${cwd}/${options.events}`;
    try {
      eventsFile = await Deno.open(eventsPath, {
        write: true,
        create: true,
        truncate: true,
      });
    } catch (error) {
      throw new UsageError(
        `Cannot write the events file "${options.events}": ${
          error instanceof Error ? error.message : String(error)
        }`,
        "run",
      );
    }
    const encoder = new TextEncoder();
    const handle = eventsFile;
    writeEvent = (line) => {
      const bytes = encoder.encode(line);
      let written = 0;
      while (written < bytes.length) {
        written += handle.writeSync(bytes.subarray(written));
      }
    };
  }
  const reporter = new Reporter(
    context.sink,
    writeEvent !== undefined ? { writeEvent } : {},
  );
  try {
    if (options.allow === undefined) {
      for (const part of parts) {
        for (const risky of fileCeiling(part.steps).risky) {
          const where = await file.locate({
            ...(part.section !== undefined ? { section: part.section } : {}),
            index: risky.index,
          });
          const at = where !== undefined
            ? `${where.file}:${where.line}:${where.column}: `
            : "";
          reporter.warn(
            `${at}step "${risky.reference}" is granted ${
              risky.grant === "all" ? "every permission" : `"${risky.grant}"`
            }, which lets it escape the sandbox; the step file grants it, so this run allows it`,
          );
        }
      }
    }
    const values = chooseValues(cwd, env, context.signal);

    if (executor === undefined) {
      const described = await describeSteps(file, parts, {
        importMap,
        allow: policy.allow,
      });
      for (const line of described.lines) reporter.info(line);
      reporter.outputs(described.json);
      return described.failed ? 2 : 0;
    }

    const runOptions: RunOptions = {
      baseUrl: file.baseUrl,
      values,
      env,
      policy,
      importMap,
      workingDirectory: cwd,
      onOutput: (chunk) => reporter.output(chunk),
      onSecret: (value) => reporter.secret(value),
      warn: (message) => reporter.warn(message),
      ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
      ...(context.signal !== undefined ? { signal: context.signal } : {}),
    };
    // The one executor of the command serves every section, so build, push and pull share
    // warm sandbox hosts.
    let outputs = upstreamOutputs;
    for (const part of parts) {
      try {
        outputs = await runSteps(part.steps, {
          ...runOptions,
          executor,
          upstreamOutputs: outputs,
          onEvent: (event) =>
            reporter.event(
              part.section === undefined
                ? event
                : Object.assign({ section: part.section }, event),
            ),
        });
      } catch (error) {
        return await reportFailure(error, file, part, reporter);
      }
    }
    reporter.outputs(outputs);
    return 0;
  } finally {
    reporter.close();
    eventsFile?.close();
  }
}

async function readVarsFile(
  path: string,
  cwd: string,
): Promise<Record<string, unknown>> {
  const file = await loadVarsText(path, cwd);
  const yaml = await loadJsYaml();
  let data: unknown;
  try {
    data = yaml.load(file, { schema: yaml.CORE_SCHEMA });
  } catch (error) {
    const mark = (error as { mark?: { line: number; column: number } }).mark;
    throw new StepFileError(
      `Cannot parse vars file: ${
        (error as { reason?: string }).reason ?? String(error)
      }`,
      {
        file: path,
        ...(mark ? { line: mark.line + 1, column: mark.column + 1 } : {}),
      },
    );
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new StepFileError(
      'Cannot use vars file: it must be a mapping of names to values, such as "repository: https://github.com/org/repo"',
      { file: path, line: 1, column: 1 },
    );
  }
  return { ...data } as Record<string, unknown>;
}

async function loadVarsText(path: string, cwd: string): Promise<string> {
  const absolute = path.startsWith("/") ? path : `${cwd}/${path}`;
  try {
    const info = await Deno.stat(absolute);
    if (!info.isFile) throw new Error("it is not a regular file");
    if (info.size > 16 * 1024 * 1024) {
      throw new Error("it is larger than 16 MiB");
    }
    return await Deno.readTextFile(absolute);
  } catch (error) {
    throw new StepFileError(
      `Cannot read vars file: ${
        error instanceof Deno.errors.NotFound
          ? "it does not exist"
          : error instanceof Error
          ? error.message
          : String(error)
      }`,
      { file: path },
    );
  }
}

async function reportFailure(
  error: unknown,
  file: LoadedStepFile,
  part: Part,
  reporter: Reporter,
): Promise<number> {
  const sectionName = part.section;
  const stepIndex = error instanceof StepExecutionError ||
      error instanceof StepValidationError ||
      (isStepboxError(error) &&
        typeof (error as { stepIndex?: unknown }).stepIndex === "number")
    ? (error as { stepIndex?: number }).stepIndex
    : undefined;
  const where = stepIndex === undefined ? undefined : await file.locate({
    ...(sectionName !== undefined ? { section: sectionName } : {}),
    index: stepIndex,
  });
  const at = where !== undefined
    ? `${where.file}:${where.line}:${where.column}`
    : file.file ?? "";
  const reference = (error as { reference?: unknown })?.reference;
  const label = stepIndex === undefined
    ? "a step"
    : `${sectionName !== undefined ? `${sectionName} ` : ""}step ${stepIndex}${
      typeof reference === "string" ? ` "${reference}"` : ""
    }`;
  if (isAbort(error)) {
    reporter.error(["error: the run was cancelled"]);
    return 130;
  }
  const cause = (error as { cause?: unknown })?.cause;
  if (
    isExecution(error) && isStepboxError(cause) &&
    BEFORE_RUN_CODES.has(cause.code)
  ) {
    // Found before the step ran: the file names nothing, or asks for more than the run's
    // ceiling (the flags) allows. A bad file or usage, not a failed step.
    reporter.error([`${at}: ${cause.message}`]);
    return 2;
  }
  if (error instanceof StepExecutionError || isExecution(error)) {
    reporter.error([
      `error: ${at}: ${label} failed`,
      ...chain(error),
    ]);
    return 1;
  }
  if (isStepboxError(error)) {
    // Found before anything ran: the file asks for something impossible.
    reporter.error([`${at}: ${(error as Error).message}`]);
    return 2;
  }
  reporter.error([`error: ${at}: the run failed`, ...chain(error)]);
  return 1;
}

const BEFORE_RUN_CODES = new Set<string>([
  "POLICY",
  "REFERENCE_RESOLUTION",
  "IMPORT_MAP",
  "STEP_INVALID",
]);

function isExecution(error: unknown): boolean {
  return isStepboxError(error) && error.code === "STEP_EXECUTION";
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === "AbortError";
}

/** The error and its causes, one line each: name, code, message. */
function chain(error: unknown): string[] {
  const lines: string[] = [];
  const seen = new Set<unknown>();
  let current: unknown = error;
  let depth = 0;
  while (current !== undefined && current !== null && !seen.has(current)) {
    seen.add(current);
    lines.push(
      `  ${depth === 0 ? "" : "caused by: "}${describeError(current)}`,
    );
    current = current instanceof Error || typeof current === "object"
      ? (current as { cause?: unknown }).cause
      : undefined;
    if (++depth > 20) break;
  }
  return lines;
}

function describeError(error: unknown): string {
  if (typeof error !== "object" || error === null) {
    return `thrown value: ${String(error)}`;
  }
  const { name, message, code } = error as {
    name?: unknown;
    message?: unknown;
    code?: unknown;
  };
  const label = typeof name === "string" && name !== "" ? name : "Error";
  const codeText = typeof code === "string" || typeof code === "number"
    ? ` [${code}]`
    : "";
  // Stack lines that crossed a boundary inside a message are noise here.
  const text = (typeof message === "string" ? message : String(error))
    .split("\n").filter((line) => !/^\s+at /.test(line)).join("\n");
  return `${label}${codeText}: ${text}`;
}
