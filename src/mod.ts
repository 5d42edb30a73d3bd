/**
 * stepbox: run YAML-defined steps, each in its own permission-restricted worker.
 *
 * A step names an exported function of an ES module and the inputs to call it with.
 * {@linkcode runSteps} resolves each step's `{{ }}` placeholders (earlier outputs, variables,
 * blocks, environment), calls the function through an executor (`step`: a fresh sandboxed
 * worker per call, the default; `pool`: warm workers; `inline`: in-process, opt-in) and
 * merges the outputs for the steps that follow.
 *
 * @example Run two steps, the second templated on the first
 * ```ts
 * import assert from "node:assert/strict";
 * import { createInlineExecutor, runSteps } from "./mod.ts";
 *
 * await using executor = createInlineExecutor();
 * const outputs = await runSteps(
 *   [
 *     { "./steps/hello.ts#greet": { id: "hello", name: "Ada" } },
 *     { "./steps/hello.ts#shout": { text: "{{ hello.greeting }}" } },
 *   ],
 *   { baseUrl: new URL("../examples/", import.meta.url), executor },
 * );
 * assert.equal(outputs.shouted, "HELLO, ADA!");
 * ```
 *
 * @module
 */

export * from "./types.ts";
export * from "./errors.ts";
export type {
  CallOptions,
  Executor,
  ExecutorInfo,
  StepTarget,
} from "./sandbox/executor.ts";
export type { ValueSource } from "./values/value_source.ts";
export {
  applyValues,
  type ApplyValuesOptions,
  findPlaceholders,
  getFromDict,
  NotSet,
  type Placeholder,
  type PlaceholderType,
} from "./core/templating.ts";
export {
  createValueCache,
  resolveBlockReferences,
  resolveInputs,
  type ResolveInputsOptions,
  type ResolveValuesOptions,
  resolveVariables,
  type ValueCache,
  type ValueCacheOptions,
} from "./core/resolve_values.ts";
export {
  type ParsedStep,
  parseStep,
  RESERVED_KEYWORDS,
} from "./core/parse_step.ts";
export {
  computeGrant,
  type ComputeGrantOptions,
  type GrantStep,
  type StepWhere,
  validateCeiling,
  validatePermissions,
} from "./core/permissions.ts";
export {
  resolveStepReference,
  type ResolveStepReferenceOptions,
} from "./core/step_reference.ts";
export {
  buildImportMap,
  type BuildImportMapOptions,
  parseRequirement,
  type Requirement,
  type RequirementOptions,
  type RequiringStep,
} from "./core/import_map.ts";
export { findUncloneable } from "./core/cloneable.ts";
export { runStep, type RunStepOptions, runSteps } from "./core/run_steps.ts";
export { createMemoryValueSource, type MemoryValues } from "./values/memory.ts";
export { createInlineExecutor } from "./sandbox/inline.ts";
export {
  createExecutor,
  detectRuntime,
  type Runtime,
} from "./sandbox/select.ts";
export {
  BUILTIN_PREFIXES,
  BUILTIN_STEPS,
  type BuiltinStep,
  findBuiltinStep,
} from "./steps/mod.ts";
export {
  parseStepFile,
  type ParseStepFileOptions,
  SECTION_NAMES,
  type SectionName,
  type StepFile,
  type StepLocation,
} from "./core/parse_step_file.ts";
export {
  type LoadedStepFile,
  loadStepFile,
  type LoadStepFileOptions,
} from "./io/load_step_file.ts";
export {
  readImportMap,
  type ReadImportMapOptions,
  readProjectImports,
} from "./io/read_import_map.ts";
export {
  FileStore,
  type FileStoreLocationOptions,
  type StoredBlock,
  type StoredVariable,
} from "./values/file_store.ts";
export {
  PrefectClient,
  type PrefectClientOptions,
} from "./values/prefect_client.ts";
export {
  createSandboxExecutor,
  type SandboxExecutor,
  type SandboxExecutorOptions,
  type SandboxStats,
} from "./sandbox/host_client.ts";
