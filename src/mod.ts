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
