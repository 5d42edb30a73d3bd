// Portable: no runtime APIs.
/**
 * Every error class stepbox throws, with a stable `code` each.
 *
 * @module
 */

/** The stable codes of stepbox errors. */
export type ErrorCode =
  | "STEP_FILE"
  | "STEP_INVALID"
  | "STEP_EXECUTION"
  | "TEMPLATE"
  | "IMPORT_MAP"
  | "REFERENCE_RESOLUTION"
  | "POLICY"
  | "STEP_PERMISSION"
  | "STEP_TIMEOUT"
  | "SANDBOX"
  | "OUTPUT_NOT_CLONEABLE"
  | "VALUE_STORE";

/** Where in a step file something is. */
export interface SourcePosition {
  file?: string;
  line: number;
  column: number;
}

/**
 * A step file does not parse, or a step in it is malformed.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { StepFileError } from "./errors.ts";
 * const error = new StepFileError("\"steps\" must be a list", { file: "a.yaml", line: 3, column: 1 });
 * assert.equal(error.message, "a.yaml:3:1: \"steps\" must be a list");
 * ```
 */
export class StepFileError extends SyntaxError {
  readonly code = "STEP_FILE" as const;
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly snippet: string | undefined;
  /** A path to the offending value, such as `pull[2].git_clone`. */
  readonly path: string | undefined;
  /** The reason alone, without the position prefix. */
  readonly reason: string;
  constructor(
    reason: string,
    where: Partial<SourcePosition> & { snippet?: string; path?: string } = {},
    options?: ErrorOptions,
  ) {
    const position = where.line !== undefined
      ? `${where.file ?? "<input>"}:${where.line}:${where.column ?? 1}: `
      : where.file !== undefined
      ? `${where.file}: `
      : "";
    super(position + reason, options);
    this.name = "StepFileError";
    this.reason = reason;
    this.file = where.file;
    this.line = where.line;
    this.column = where.column;
    this.snippet = where.snippet;
    this.path = where.path;
  }
}

/**
 * A step mapping is malformed (two keys, a non-mapping value, a wrong reserved keyword, a bad input value).
 * Nothing runs when a step is invalid.
 */
export class StepValidationError extends TypeError {
  readonly code = "STEP_INVALID" as const;
  /** The step's position in its list (0-based). */
  readonly stepIndex: number;
  /** The step reference, when there is one. */
  readonly reference: string | undefined;
  constructor(
    message: string,
    where: { stepIndex: number; reference?: string },
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "StepValidationError";
    this.stepIndex = where.stepIndex;
    this.reference = where.reference;
  }
}

/**
 * A step failed. The message is Prefect's, `Encountered error while running <reference>`,
 * and `cause` is what the step threw.
 */
export class StepExecutionError extends Error {
  readonly code = "STEP_EXECUTION" as const;
  readonly reference: string;
  readonly stepIndex: number | undefined;
  constructor(
    reference: string,
    options: ErrorOptions & { stepIndex?: number } = {},
  ) {
    super(`Encountered error while running ${reference}`, options);
    this.name = "StepExecutionError";
    this.reference = reference;
    this.stepIndex = options.stepIndex;
  }
}

/** A placeholder cannot be resolved (malformed block reference, missing block, object inlined in text). */
export class TemplateError extends Error {
  readonly code = "TEMPLATE" as const;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TemplateError";
  }
}

/** Two steps' `requires` map one name to different targets, or a `requires` entry is malformed. */
export class ImportMapError extends Error {
  readonly code = "IMPORT_MAP" as const;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ImportMapError";
  }
}

/** A reference maps to nothing, its module does not load, or its export is not a function. */
export class ReferenceResolutionError extends Error {
  readonly code = "REFERENCE_RESOLUTION" as const;
  readonly reference: string;
  /** The module specifier that was tried, when one was. */
  readonly specifier: string | undefined;
  constructor(
    message: string,
    where: { reference: string; specifier?: string },
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "ReferenceResolutionError";
    this.reference = where.reference;
    this.specifier = where.specifier;
  }
}

/** A step requests a permission beyond the run's ceiling, or one the executor cannot enforce. */
export class PolicyError extends Error {
  readonly code = "POLICY" as const;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PolicyError";
  }
}

/** A step tried to use a permission it was not granted. */
export class StepPermissionError extends Error {
  readonly code = "STEP_PERMISSION" as const;
  /** The permission kind the step needed (`read`, `net`, ...). */
  readonly permission: string | undefined;
  constructor(
    message: string,
    options: ErrorOptions & { permission?: string } = {},
  ) {
    super(message, options);
    this.name = "StepPermissionError";
    this.permission = options.permission;
  }
}

/** A step ran past its `timeout`; its worker was terminated. */
export class StepTimeoutError extends Error {
  readonly code = "STEP_TIMEOUT" as const;
  readonly timeoutMs: number;
  constructor(message: string, options: ErrorOptions & { timeoutMs: number }) {
    super(message, options);
    this.name = "StepTimeoutError";
    this.timeoutMs = options.timeoutMs;
  }
}

/** A worker or host failed to start, failed to load a module, ran out of memory, or died. */
export class SandboxError extends Error {
  readonly code = "SANDBOX" as const;
  readonly moduleUrl: string | undefined;
  constructor(
    message: string,
    options: ErrorOptions & { moduleUrl?: string } = {},
  ) {
    super(message, options);
    this.name = "SandboxError";
    this.moduleUrl = options.moduleUrl;
  }
}

/** A step returned something that cannot cross the worker boundary (a function, a symbol). */
export class OutputNotCloneableError extends TypeError {
  readonly code = "OUTPUT_NOT_CLONEABLE" as const;
  /** The key path of the offending value, e.g. `result.handler`. */
  readonly keyPath: string;
  constructor(message: string, options: ErrorOptions & { keyPath: string }) {
    super(message, options);
    this.name = "OutputNotCloneableError";
    this.keyPath = options.keyPath;
  }
}

/** The variable/block store cannot be read or written. */
export class ValueStoreError extends Error {
  readonly code = "VALUE_STORE" as const;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ValueStoreError";
  }
}

/** The classes above by name, so errors rebuilt from another realm keep their class. */
export const ERROR_CLASSES: Readonly<
  Record<string, new (...args: never[]) => Error>
> = Object.freeze({
  StepFileError,
  StepValidationError,
  StepExecutionError,
  TemplateError,
  ImportMapError,
  ReferenceResolutionError,
  PolicyError,
  StepPermissionError,
  StepTimeoutError,
  SandboxError,
  OutputNotCloneableError,
  ValueStoreError,
});

const CODES = new Set<string>([
  "STEP_FILE",
  "STEP_INVALID",
  "STEP_EXECUTION",
  "TEMPLATE",
  "IMPORT_MAP",
  "REFERENCE_RESOLUTION",
  "POLICY",
  "STEP_PERMISSION",
  "STEP_TIMEOUT",
  "SANDBOX",
  "OUTPUT_NOT_CLONEABLE",
  "VALUE_STORE",
]);

/**
 * Whether `error` is a stepbox error, by `name` and `code` rather than `instanceof`
 * (which fails across realms and across two installed copies of the package).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { isStepboxError, PolicyError } from "./errors.ts";
 * assert.equal(isStepboxError(new PolicyError("no")), true);
 * assert.equal(isStepboxError(new Error("no")), false);
 * ```
 */
export function isStepboxError(
  error: unknown,
): error is Error & { code: ErrorCode } {
  if (typeof error !== "object" || error === null) return false;
  const { name, code } = error as { name?: unknown; code?: unknown };
  return typeof name === "string" && name in ERROR_CLASSES &&
    typeof code === "string" && CODES.has(code);
}
