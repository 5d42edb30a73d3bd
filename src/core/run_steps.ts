// Portable: no runtime APIs.
/**
 * {@linkcode runSteps} and {@linkcode runStep}: parse -> resolve inputs -> executor.call ->
 * merge outputs, with Prefect's semantics, events, retries, timeouts and cancellation.
 *
 * @module
 */

import { PolicyError, StepExecutionError, TemplateError } from "../errors.ts";
import type { CallOptions, Executor, StepTarget } from "../sandbox/executor.ts";
import { BUILTIN_STEPS, type BuiltinStep } from "../steps/mod.ts";
import type { Permissions, RunOptions, Step } from "../types.ts";
import { setOwn } from "../_util/set_own.ts";
import { isPlainObject } from "./_substitute.ts";
import { findUncloneable } from "./cloneable.ts";
import {
  createStepEvent,
  emitStepEvent,
  maskSecrets,
  type StepEventDetails,
  type StepEventSubject,
} from "./events.ts";
import { buildImportMap } from "./import_map.ts";
import { type ParsedStep, parseStep } from "./parse_step.ts";
import {
  computeGrant,
  describeGrant,
  isEmptyGrant,
  validateCeiling,
} from "./permissions.ts";
import {
  createValueCache,
  resolveStepInputs,
  type ValueCache,
} from "./resolve_values.ts";
import { findBuiltinTarget, resolveStepReference } from "./step_reference.ts";
import { recallInputShape } from "./_input_shape.ts";
import { matchesSnapshot, type Snapshot, takeSnapshot } from "./_snapshot.ts";

/** Options of {@linkcode runStep}: the run options plus the step's position. */
export interface RunStepOptions extends RunOptions {
  /** The step's position, for messages and events. @default 0 */
  index?: number;
}

/** One step, validated and resolved before anything runs. */
interface Plan {
  parsed: ParsedStep;
  target: StepTarget;
  builtin: BuiltinStep | undefined;
  grant: Permissions;
  /** Whether the grant gives nothing, so any executor may run the step. */
  confined: boolean;
}

/** The state of one run; nothing here is process-wide. */
interface RunState {
  options: RunOptions;
  executor: Executor;
  importMap: Record<string, string>;
  /** Made on first use (see `cacheOf`): a run whose inputs hold no placeholder reads no value. */
  cache: ValueCache | undefined;
  /** The secret values read so far, to mask in messages. */
  readonly secrets: Set<string>;
  workingDirectory: string | undefined;
}

// Failures that another attempt cannot fix.
const NOT_RETRIED = new Set([
  "StepPermissionError",
  "PolicyError",
  "ReferenceResolutionError",
  "StepValidationError",
  "TemplateError",
  "ImportMapError",
  "AbortError",
]);

function now(): number {
  return typeof performance === "object" ? performance.now() : Date.now();
}

function copyUpstream(upstream: unknown): Record<string, unknown> {
  if (upstream === undefined) return {};
  if (!isPlainObject(upstream)) {
    throw new TypeError(
      `Cannot use the upstreamOutputs option: expected a plain object, found ${
        Array.isArray(upstream) ? "an array" : typeof upstream
      }; pass an object such as { image: "app:1" }`,
    );
  }
  const path = findUncloneable(upstream);
  if (path !== undefined) {
    throw new TypeError(
      `Cannot use the upstreamOutputs option: "${path}" cannot be copied (a function, symbol or similar); pass plain data`,
    );
  }
  return structuredClone(upstream);
}

/** Checks the options that would otherwise fail late or obscurely. */
function checkOptions(options: RunOptions): void {
  if (options.policy?.allow !== undefined) {
    validateCeiling(options.policy.allow);
  }
  const timeout = options.timeout;
  if (
    timeout !== undefined &&
    (typeof timeout !== "number" || !Number.isFinite(timeout) || timeout <= 0)
  ) {
    throw new TypeError(
      `Cannot use the timeout option: expected a positive number of seconds, found ${
        JSON.stringify(timeout)
      }`,
    );
  }
  const isolation = options.isolation;
  if (
    isolation !== undefined && isolation !== "step" && isolation !== "pool" &&
    isolation !== "inline"
  ) {
    throw new TypeError(
      `Cannot use the isolation option: expected "step", "pool" or "inline", found ${
        JSON.stringify(isolation)
      }`,
    );
  }
}

function referenceOf(step: unknown, index: number): string {
  if (isPlainObject(step)) {
    const first = Object.keys(step)[0];
    if (first !== undefined && first.trim() !== "") return first;
  }
  return `step ${index}`;
}

function planStep(
  parsed: ParsedStep,
  importMap: Record<string, string>,
  options: RunOptions,
): Plan {
  const target = resolveStepReference(parsed.reference, {
    importMap,
    baseUrl: options.baseUrl,
  });
  const builtin = target.builtin ? findBuiltinTarget(target) : undefined;
  const grant = computeGrant(parsed, {
    builtin,
    ceiling: options.policy?.allow ?? {},
  });
  return { parsed, target, builtin, grant, confined: isEmptyGrant(grant) };
}

function checkEnforceable(plan: Plan, executor: Executor, options: RunOptions) {
  if (
    plan.confined || executor.info.enforcesPermissions ||
    options.policy?.allowUnenforced === true
  ) {
    return;
  }
  throw new PolicyError(
    `Cannot run step ${plan.parsed.index} "${plan.parsed.reference}": it is granted ${
      describeGrant(plan.grant)
    }, but the "${executor.info.isolation}" executor cannot enforce permissions, so the step would run unconfined; use isolation "step" or "pool", or set policy.allowUnenforced to true (CLI: --allow-unenforced) to run it anyway`,
  );
}

// The executor a run without one creates, and closes when done.
async function openExecutor(
  options: RunOptions,
): Promise<{ executor: Executor; owned: true }> {
  const { createExecutor } = await import("../sandbox/select.ts");
  return {
    executor: await createExecutor(options.isolation ?? "step"),
    owned: true,
  };
}

function createState(
  options: RunOptions,
  executor: Executor,
  importMap: Record<string, string>,
): RunState {
  return {
    options,
    executor,
    importMap,
    cache: undefined,
    secrets: new Set(),
    workingDirectory: options.workingDirectory,
  };
}

// The run's value cache, made on first use.
function cacheOf(state: RunState): ValueCache {
  return state.cache ??= createValueCache(state.options.values, {
    onSecret: (value) => {
      state.secrets.add(value);
      state.options.onSecret?.(value);
    },
  });
}

// The same frozen object for every absent ceiling or environment, which an executor's caches
// (keyed by identity) then recognise call after call.
const NOTHING: Readonly<Record<string, never>> = Object.freeze({});

// What every call of a plan is given, whatever the run's state.
function planCallOptions(
  plan: Plan,
  importMap: Record<string, string>,
  options: RunOptions,
): CallOptions {
  const policy = options.policy ?? NOTHING;
  return {
    permissions: plan.grant,
    importMap,
    env: policy.env ?? NOTHING,
    policy: {
      allow: policy.allow ?? NOTHING,
      env: policy.env ?? NOTHING,
      ...(policy.memoryMb === undefined ? {} : { memoryMb: policy.memoryMb }),
    },
  };
}

function callOptions(plan: Plan, state: RunState): CallOptions {
  const { options } = state;
  const call = planCallOptions(plan, state.importMap, options);
  const timeout = plan.parsed.timeout ?? options.timeout;
  if (timeout !== undefined) call.timeoutMs = timeout * 1000;
  if (options.signal !== undefined) call.signal = options.signal;
  if (state.workingDirectory !== undefined) {
    call.workingDirectory = state.workingDirectory;
  }
  if (options.onOutput !== undefined) call.onOutput = options.onOutput;
  return call;
}

/** Settles with `promise`, or rejects with the signal's reason as soon as it aborts. */
function withSignal<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() =>
      signal.removeEventListener("abort", onAbort)
    );
  });
}

function isRetryable(error: unknown, signal: AbortSignal | undefined) {
  if (signal?.aborted === true) return false;
  const name = (error as { name?: unknown } | null)?.name;
  return !(typeof name === "string" && NOT_RETRIED.has(name));
}

function prepareNext(next: Plan | undefined, state: RunState): void {
  if (next === undefined || state.executor.prepare === undefined) return;
  try {
    state.executor.prepare(next.target, callOptions(next, state));
  } catch {
    // A hint: failing to pre-load must not fail the current step.
  }
}

const PULL_WITH_BLOCK = BUILTIN_STEPS["pull_with_block"];

/**
 * Gives the built-in `pull_with_block` its block's data. The step runs in a sandbox that cannot
 * reach the value source, so a Prefect recipe naming only `block_type_slug` and
 * `block_document_name` gets the data read here, through the run's cache (which reports every
 * string in it as a secret). Data the step already has is left alone, and inputs of the wrong
 * type are left for the step's own checks to report.
 */
async function fillBlockData(
  inputs: Record<string, unknown>,
  state: RunState,
): Promise<Record<string, unknown>> {
  if (!isPlainObject(inputs) || inputs["data"] !== undefined) return inputs;
  const slug = inputs["block_type_slug"];
  const name = inputs["block_document_name"];
  if (typeof slug !== "string" || typeof name !== "string") return inputs;
  const block = await cacheOf(state).blockByName(slug, name);
  if (block === undefined) {
    throw new TemplateError(
      `Block not found: '${name}' of type '${slug}' (named by the block_type_slug and block_document_name of pull_with_block). It no longer exists or was never created: create it (for example with "stepbox block") or correct the step's block_type_slug and block_document_name`,
    );
  }
  // A new mapping: the resolved inputs may be the step's own (they share what did not
  // change). A copy of the data: the cache hands the same document to every step reading it.
  return { ...inputs, data: structuredClone(block.data) };
}

/** Resolves the inputs, calls the executor (with retries) and reports events. */
async function executePlan(
  plan: Plan,
  state: RunState,
  upstream: Record<string, unknown>,
  next: Plan | undefined,
): Promise<unknown> {
  const { options } = state;
  const { parsed } = plan;
  const { onEvent } = options;
  // An event copies the inputs (a walk as long as they are), so none is built unheard; the
  // events of a step share one subject, and with it one copy.
  let subject: StepEventSubject | undefined;
  const report = onEvent === undefined
    ? () => {}
    : (details: () => StepEventDetails) => {
      subject ??= {
        index: parsed.index,
        reference: parsed.reference,
        name: plan.target.exportName,
        id: parsed.id,
        inputs: parsed.inputs,
      };
      emitStepEvent(onEvent, createStepEvent(subject, details()));
    };
  report(() => ({ type: "step.started" }));
  // Durations are for events only; reading the clock is not free.
  const started = onEvent === undefined ? 0 : now();
  try {
    // Inputs without any placeholder resolve to themselves: validation found out, so they need
    // no substituting walk (changing a step's inputs while it runs is not supported).
    const shape = recallInputShape(parsed.inputs);
    // Shares what did not change with the step's inputs: the executor copies what it gets.
    let inputs = shape.plain ? parsed.inputs : await withSignal(
      resolveStepInputs(parsed.inputs, {
        upstreamOutputs: upstream,
        env: options.env ?? {},
        cache: cacheOf(state),
        ...(options.warn === undefined ? {} : { warn: options.warn }),
      }),
      options.signal,
    ) as Record<string, unknown>;
    if (plan.builtin === PULL_WITH_BLOCK) {
      inputs = await withSignal(fillBlockData(inputs, state), options.signal);
    }
    const call = callOptions(plan, state);
    // Validation found plain JSON data, and these are still those very inputs.
    if (shape.plain && shape.json && inputs === parsed.inputs) {
      call.jsonSafeInputs = true;
    }
    const retries = parsed.retries ?? 0;
    let output: unknown;
    for (let attempt = 0;; attempt++) {
      options.signal?.throwIfAborted();
      try {
        const pending = state.executor.call(plan.target, inputs, call);
        if (attempt === 0) prepareNext(next, state);
        output = await withSignal(pending, options.signal);
        break;
      } catch (error) {
        if (attempt >= retries || !isRetryable(error, options.signal)) {
          throw error;
        }
      }
    }
    report(() => ({
      type: "step.completed",
      durationMs: now() - started,
      outputKeys: isPlainObject(output) ? Object.keys(output) : [],
    }));
    return output;
  } catch (error) {
    const { name, message } = error instanceof Error
      ? error
      : { name: "Error", message: String(error) };
    report(() => ({
      type: "step.failed",
      durationMs: now() - started,
      error: {
        name: String(name),
        message: maskSecrets(String(message), state.secrets),
      },
    }));
    throw error;
  }
}

/** Joins a directory a step reported onto the run's working directory, POSIX style. */
function nextWorkingDirectory(
  current: string | undefined,
  directory: string,
): string {
  if (
    current === undefined || directory.startsWith("/") ||
    /^[A-Za-z]:[\\/]/.test(directory)
  ) {
    return directory;
  }
  const base = current.endsWith("/") ? current : `${current}/`;
  return decodeURIComponent(new URL(directory, `file://${base}`).pathname)
    .replace(/(.)\/$/, "$1");
}

function mergeOutput(
  outputs: Record<string, unknown>,
  plan: Plan,
  output: unknown,
): void {
  if (!isPlainObject(output)) return;
  const id = plan.parsed.id;
  if (id !== undefined && id !== "") setOwn(outputs, id, output);
  for (const key of Object.keys(output)) setOwn(outputs, key, output[key]);
}

function wrap(reference: string, index: number, error: unknown): never {
  throw new StepExecutionError(reference, { cause: error, stepIndex: index });
}

/** A run's steps, validated and resolved. */
interface PlannedRun {
  plans: Plan[];
  importMap: Record<string, string>;
}

/** A plan, with copies of the steps and settings it was made from. */
interface KnownPlan extends PlannedRun {
  steps: Snapshot;
  settings: Snapshot;
}

// Services run the same steps again and again. A list run a second time has its plan kept with
// a copy of what it was made from, reused while the steps and the settings still match that copy:
// checking is much cheaper than validating and resolving again (about 3 µs of a warm pooled
// call), and a list that changed in any way is planned afresh. A list run once is only noted:
// copying it would cost a run that never comes again.
const knownPlans = new WeakMap<readonly Step[], KnownPlan | "seen">();

// What planning reads besides the steps.
function planSettings(options: RunOptions): unknown[] {
  const { baseUrl } = options;
  return [
    options.importMap,
    options.cdn,
    typeof baseUrl === "object" ? baseUrl.href : baseUrl,
    options.policy?.allow,
  ];
}

/** Parses and resolves every step, or reuses the plan of equal steps and settings. */
function planSteps(steps: readonly Step[], options: RunOptions): PlannedRun {
  const known = knownPlans.get(steps);
  if (known === undefined) {
    const planned = planStepsAfresh(steps, options);
    knownPlans.set(steps, "seen");
    return planned;
  }
  if (
    known !== "seen" &&
    matchesSnapshot(planSettings(options), known.settings) &&
    matchesSnapshot(steps, known.steps)
  ) {
    return known;
  }
  return planAndKeep(steps, options);
}

/** Parses and resolves every step, and keeps the plan with copies of what it was made from. */
function planAndKeep(steps: readonly Step[], options: RunOptions): PlannedRun {
  const planned = planStepsAfresh(steps, options);
  // The plans share the objects inside the steps' inputs, so only the same objects will do;
  // nothing planned holds on to the settings, so equal ones will.
  const stepsCopy = takeSnapshot(steps, { sameObjects: true });
  const settingsCopy = takeSnapshot(planSettings(options), {
    sameObjects: false,
  });
  if (stepsCopy !== undefined && settingsCopy !== undefined) {
    knownPlans.set(steps, {
      ...planned,
      steps: stepsCopy,
      settings: settingsCopy,
    });
  }
  return planned;
}

/** Parses and resolves every step; any failure is wrapped and nothing runs. */
function planStepsAfresh(
  steps: readonly Step[],
  options: RunOptions,
): PlannedRun {
  const parsed: ParsedStep[] = [];
  steps.forEach((step, index) => {
    try {
      const one = parseStep(step, index);
      if (one !== undefined) parsed.push(one);
    } catch (error) {
      wrap(referenceOf(step, index), index, error);
    }
  });
  const mapOptions = importMapOptions(options);
  let importMap: Record<string, string>;
  try {
    importMap = buildImportMap(parsed, mapOptions);
  } catch (error) {
    // The caller's own map is at fault when it fails without any step.
    buildImportMap([], mapOptions);
    // Otherwise blame the first step whose `requires` makes it fail.
    for (let count = 1; count <= parsed.length; count++) {
      try {
        buildImportMap(parsed.slice(0, count), mapOptions);
      } catch {
        const culprit = parsed[count - 1] as ParsedStep;
        wrap(culprit.reference, culprit.index, error);
      }
    }
    throw error;
  }
  importMap = sharedImportMap(importMap);
  const plans = parsed.map((one) => {
    try {
      return planStep(one, importMap, options);
    } catch (error) {
      return wrap(one.reference, one.index, error);
    }
  });
  return { plans, importMap };
}

// Runs that build equal import maps get the same frozen object, so that what an executor derives
// from a map (its host's key and read roots, cached by identity) is derived once per map rather
// than once per run: about 1.5 µs of a warm pooled call.
const sharedImportMaps = new Map<string, Record<string, string>>();
function sharedImportMap(
  importMap: Record<string, string>,
): Record<string, string> {
  const text = JSON.stringify(importMap);
  let shared = sharedImportMaps.get(text);
  if (shared === undefined) {
    if (sharedImportMaps.size >= 64) sharedImportMaps.clear();
    shared = Object.freeze(importMap);
    sharedImportMaps.set(text, shared);
  }
  return shared;
}

function importMapOptions(options: RunOptions) {
  return {
    ...(options.importMap === undefined
      ? {}
      : { importMap: options.importMap }),
    ...(options.cdn === undefined ? {} : { cdn: options.cdn }),
    ...(options.baseUrl === undefined ? {} : { baseUrl: options.baseUrl }),
  };
}

/**
 * The first step's target and call options, planned exactly as {@linkcode runSteps} plans them
 * (the same import map and grant), so that an executor can be told ahead of the run what it will
 * need (`Executor.prepare`). The plan is kept: the run of the same list with the same settings
 * reuses it rather than parsing the steps again. Internal: for the CLI, not re-exported.
 *
 * @param steps The steps the run starts with.
 * @param options The run's options.
 * @returns The call, or `undefined` when there is no step.
 * @throws {StepExecutionError} for what `runSteps` would refuse.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planFirstCall } from "./run_steps.ts";
 * const first = planFirstCall([{ "./s.ts#f": { a: 1 } }], {
 *   baseUrl: new URL("file:///project/"),
 * });
 * assert.equal(first?.target.specifier, "file:///project/s.ts");
 * assert.deepEqual(first?.call.permissions, {});
 * assert.equal(planFirstCall([], {}), undefined);
 * ```
 */
export function planFirstCall(
  steps: readonly Step[],
  options: RunOptions,
): { target: StepTarget; call: CallOptions } | undefined {
  // Kept: the run this hint is for plans the same list, and so need not parse it again.
  const { plans, importMap } = planAndKeep(steps, options);
  const first = plans[0];
  if (first === undefined) return undefined;
  return {
    target: first.target,
    call: planCallOptions(first, importMap, options),
  };
}

/**
 * Runs a list of steps in order, Prefect-style, and returns the outputs.
 *
 * Every step is validated first (shape, reserved keywords, input types, reference, import map
 * and `requires` conflicts, permissions against `policy.allow`, and whether the executor can
 * enforce them); nothing runs when any step is invalid. Then each step's inputs are resolved
 * in one pass (standard placeholders from the outputs so far, `{{ $NAME }}` from `env`, blocks
 * and variables from `values`), its function is called through the executor, and a plain
 * object output is stored under the step's `id` and merged flat into the outputs. Empty steps
 * are skipped; other outputs are ignored. `upstreamOutputs` is deep-copied, and nothing the
 * caller passes in is mutated. The steps are read when they are validated: do not change them
 * while the run goes on (a change may be seen or not). A list run again and again reuses its
 * validation from its third run on (its second keeps a copy of what was validated), as long as
 * the list is made of the same objects holding the same values, and the import map, the CDN,
 * the base URL and `policy.allow` still equal the copy; any change is validated afresh.
 *
 * @param steps The steps, each a mapping with one key (the reference); `null` or `{}` is skipped.
 * @param options Values, environment, isolation or executor, policy, events and more.
 * @returns The outputs: the copied `upstreamOutputs` plus every step's output.
 * @throws {StepExecutionError} `Encountered error while running <reference>` when a step is
 *   invalid or fails, with the original error as `cause` and `stepIndex` set
 * @throws {DOMException} the signal's reason (an `AbortError`) when `signal` aborts the run
 * @throws {TypeError} when `steps` is not an array, or an option is malformed (`upstreamOutputs`
 *   not a plain object, `policy.allow`, `timeout` or `isolation` of the wrong shape)
 *
 * @example Two steps, the second templated on the first
 * ```ts
 * import assert from "node:assert/strict";
 * import { runSteps } from "./run_steps.ts";
 * import { createInlineExecutor } from "../sandbox/inline.ts";
 *
 * const module = "data:text/javascript," + encodeURIComponent(
 *   "export function greet({ name }) { return { greeting: `Hello, ${name}` }; }",
 * );
 * const outputs = await runSteps(
 *   [
 *     { "steps.greet": { id: "hello", name: "{{ $USER_NAME }}" } },
 *     { "steps.greet": { name: "{{ hello.greeting }}!" } },
 *   ],
 *   { importMap: { steps: module }, env: { USER_NAME: "Ada" }, executor: createInlineExecutor() },
 * );
 * assert.deepEqual(outputs, {
 *   hello: { greeting: "Hello, Ada" },
 *   greeting: "Hello, Hello, Ada!",
 * });
 * ```
 */
export async function runSteps(
  steps: readonly Step[],
  options: RunOptions = {},
): Promise<Record<string, unknown>> {
  if (!Array.isArray(steps)) {
    throw new TypeError(
      `Cannot run steps: expected a list of steps, found ${
        steps === null ? "null" : typeof steps
      }; pass an array such as [{ "prefect.deployments.steps.run_shell_script": { script: "echo hi" } }]`,
    );
  }
  checkOptions(options);
  options.signal?.throwIfAborted();
  const outputs = copyUpstream(options.upstreamOutputs);
  const { plans, importMap } = planSteps(steps, options);
  if (plans.length === 0) return outputs;
  const { executor, owned } = options.executor !== undefined
    ? { executor: options.executor, owned: false }
    : await openExecutor(options);
  try {
    for (const plan of plans) {
      try {
        checkEnforceable(plan, executor, options);
      } catch (error) {
        wrap(plan.parsed.reference, plan.parsed.index, error);
      }
    }
    const state = createState(options, executor, importMap);
    for (let i = 0; i < plans.length; i++) {
      const plan = plans[i] as Plan;
      options.signal?.throwIfAborted();
      options.print?.(` > Running ${plan.target.exportName} step...`);
      let output: unknown;
      try {
        output = await executePlan(plan, state, outputs, plans[i + 1]);
      } catch (error) {
        if (options.signal?.aborted === true) throw options.signal.reason;
        wrap(plan.parsed.reference, plan.parsed.index, error);
      }
      mergeOutput(outputs, plan, output);
      if (
        plan.builtin?.setsWorkingDirectory === true && isPlainObject(output) &&
        typeof output["directory"] === "string"
      ) {
        state.workingDirectory = nextWorkingDirectory(
          state.workingDirectory,
          output["directory"],
        );
      }
    }
    return outputs;
  } finally {
    if (owned) await executor.close();
  }
}

/**
 * Runs one step and returns its raw return value; errors are not wrapped. The step is
 * validated like in {@linkcode runSteps}, its inputs resolved against `upstreamOutputs`
 * (copied, never mutated), `env` and `values`.
 *
 * @param step The step: a mapping with one key, the reference.
 * @param options As for {@linkcode runSteps}, plus the step's `index` for messages.
 * @returns What the step returned (`undefined` for an empty step, which does not run).
 * @throws {StepValidationError} when the step is malformed
 * @throws {ReferenceResolutionError} when its reference resolves to nothing
 * @throws {PolicyError} when it needs permissions beyond the ceiling or the executor cannot
 *   enforce them
 * @throws {Error} whatever the step throws
 *
 * @example Running one step
 * ```ts
 * import assert from "node:assert/strict";
 * import { runStep } from "./run_steps.ts";
 * import { createInlineExecutor } from "../sandbox/inline.ts";
 *
 * const module = "data:text/javascript," +
 *   encodeURIComponent("export const double = ({ n }) => n * 2;");
 * const result = await runStep(
 *   { [`${module}#double`]: { n: "{{ count }}" } },
 *   { upstreamOutputs: { count: 21 }, executor: createInlineExecutor() },
 * );
 * assert.equal(result, 42);
 * ```
 */
export async function runStep(
  step: Step,
  options: RunStepOptions = {},
): Promise<unknown> {
  checkOptions(options);
  const index = options.index ?? 0;
  const parsed = parseStep(step, index);
  if (parsed === undefined) return undefined;
  options.signal?.throwIfAborted();
  const upstream = copyUpstream(options.upstreamOutputs);
  const importMap = sharedImportMap(
    buildImportMap([parsed], importMapOptions(options)),
  );
  const plan = planStep(parsed, importMap, options);
  const { executor, owned } = options.executor !== undefined
    ? { executor: options.executor, owned: false }
    : await openExecutor(options);
  try {
    checkEnforceable(plan, executor, options);
    const state = createState(options, executor, importMap);
    try {
      return await executePlan(plan, state, upstream, undefined);
    } catch (error) {
      if (options.signal?.aborted === true) throw options.signal.reason;
      throw error;
    }
  } finally {
    if (owned) await executor.close();
  }
}
