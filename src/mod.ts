/**
 * stepbox: run YAML-defined steps, each in its own permission-restricted worker.
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
export type { BuiltinStep } from "./steps/mod.ts";
