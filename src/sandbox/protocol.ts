/**
 * The messages that cross the sandbox boundaries (parent <-> host <-> worker): the step call,
 * the result envelope, errors as plain data, and payloads encoded per value (JSON text for
 * large JSON-safe data, structured clone otherwise).
 *
 * Nothing throws across a boundary: comlink's throw handler keeps only name, message and stack
 * (GoogleChromeLabs/comlink#594), so every answer is a {@linkcode StepOutcome} envelope.
 *
 * @module
 */

import * as stepboxErrors from "../errors.ts";
import type { Permissions } from "../types.ts";
import type { Payload, SerializedError, StepOutcome } from "./_wire.ts";
import type { RunRequest } from "./worker_entry.ts";

export {
  decodePayload,
  encodePayload,
  JSON_PAYLOAD_THRESHOLD,
  type Payload,
  type SerializedError,
  serializeError,
  type StepOutcome,
} from "./_wire.ts";

/** One step call, as the parent sends it to a sandbox host (which runs it in a fresh worker) or
 * to a lane (see `lane_entry.ts`). */
export interface StepCall {
  /** Unique per executor; the host uses it to route output and cancellation. */
  id: number;
  /** The reference as written, for error messages. */
  reference: string;
  /** The module's absolute specifier. */
  specifier: string;
  /** The export to call. */
  exportName: string;
  /** Whether the module is a built-in step (it also receives a `StepContext`). */
  builtin: boolean;
  /** The permissions granted to this call. */
  permissions: Permissions;
  /** The inputs. */
  inputs: Payload;
  /** Terminate the worker after this many milliseconds. */
  timeoutMs?: number;
  /** For built-in steps: the run's working directory and command environment. */
  context?: { workingDirectory: string; env: Record<string, string> };
}

/**
 * The channel of the lean call path: the parent sends a {@linkcode StepCall}, the host answers
 * with a {@linkcode CallAnswer}. comlink (channels 0 and 1) carries everything else; a call
 * through comlink paid a UUID, a per-call listener and proxy bookkeeping on both sides, several
 * times the cost of the message itself.
 */
export const CALL_CHANNEL = 2;

/**
 * The channel on which a host started ahead of time, before its run knew its first step, is
 * told the workers to start at once: a `HostConfig["preload"]` list.
 */
export const PRELOAD_CHANNEL = 3;

/** The host's answer to a call on {@linkcode CALL_CHANNEL}. */
export interface CallAnswer {
  id: number;
  outcome: StepOutcome;
}

/**
 * What a step's worker is asked to run for `call`: the call without what only its host needs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runRequestOf } from "./protocol.ts";
 * const request = runRequestOf({
 *   id: 1, reference: "./a.ts#f", specifier: "file:///a.ts", exportName: "f", builtin: false,
 *   permissions: {}, inputs: { kind: "clone", value: {} },
 * });
 * assert.deepEqual(request, {
 *   reference: "./a.ts#f", exportName: "f", builtin: false, inputs: { kind: "clone", value: {} },
 * });
 * ```
 */
export function runRequestOf(call: StepCall): RunRequest {
  const request: RunRequest = {
    reference: call.reference,
    exportName: call.exportName,
    builtin: call.builtin,
    inputs: call.inputs,
  };
  if (call.context !== undefined) request.context = call.context;
  return request;
}

/**
 * The error of a step call whose worker was terminated at its `timeout`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stepTimeoutError } from "./protocol.ts";
 * assert.match(stepTimeoutError("./a.ts#f", 1500).message, /timed out after 1.5 s/);
 * ```
 */
export function stepTimeoutError(
  reference: string,
  timeoutMs: number,
): stepboxErrors.StepTimeoutError {
  return new stepboxErrors.StepTimeoutError(
    `Step "${reference}" timed out after ${
      timeoutMs / 1000
    } s and its worker was terminated; raise its "timeout" or make it finish sooner`,
    { timeoutMs },
  );
}

function builtinErrorClasses(): Record<string, ErrorConstructor> {
  const table: Record<string, ErrorConstructor> = {
    Error,
    EvalError,
    RangeError,
    ReferenceError,
    SyntaxError,
    TypeError,
    URIError,
    AggregateError: AggregateError as unknown as ErrorConstructor,
  };
  // Deno's own error classes (NotFound, PermissionDenied, NotCapable, ...), when present.
  const denoErrors = (globalThis as { Deno?: { errors?: object } }).Deno
    ?.errors;
  if (denoErrors) {
    for (const [name, value] of Object.entries(denoErrors)) {
      if (typeof value === "function") {
        table[name] = value as ErrorConstructor;
      }
    }
  }
  return table;
}

/**
 * The classes that {@linkcode deserializeError} rebuilds, by name: the built-in error classes,
 * Deno's `Deno.errors.*` and every stepbox error class.
 */
export const ERROR_TABLE: Readonly<
  Record<string, new (...args: never[]) => Error>
> = Object.freeze({
  ...builtinErrorClasses(),
  ...stepboxErrors.ERROR_CLASSES,
});

/**
 * Rebuilds what {@linkcode serializeError} made: the class by `name` from
 * {@linkcode ERROR_TABLE} (an unknown name gives an `Error` whose `name` is the remote one),
 * with message, stack, own properties, `cause` and aggregated errors restored. A thrown
 * non-Error comes back as the value itself.
 *
 * @param data The serialized error.
 * @returns The rebuilt error (or the thrown non-Error value).
 *
 * @example Class, props and cause survive
 * ```ts
 * import assert from "node:assert/strict";
 * import { deserializeError, serializeError } from "./protocol.ts";
 * import { SandboxError } from "../errors.ts";
 * const original = new SandboxError("worker died", { moduleUrl: "file:///a.ts", cause: new TypeError("x") });
 * const copy = deserializeError(structuredClone(serializeError(original))) as SandboxError;
 * assert.ok(copy instanceof SandboxError);
 * assert.equal(copy.moduleUrl, "file:///a.ts");
 * assert.equal(copy.code, "SANDBOX");
 * assert.ok(copy.cause instanceof TypeError);
 * ```
 *
 * @example Unknown classes keep their name
 * ```ts
 * import assert from "node:assert/strict";
 * import { deserializeError } from "./protocol.ts";
 * const copy = deserializeError({ name: "GitError", message: "no repo", props: { code: 128 } }) as Error & { code: number };
 * assert.equal(copy.name, "GitError");
 * assert.equal(copy.code, 128);
 * assert.ok(copy instanceof Error);
 * ```
 */
export function deserializeError(data: SerializedError): unknown {
  if (data.thrown !== undefined) return data.thrown.value;
  const Class = Object.hasOwn(ERROR_TABLE, data.name)
    ? ERROR_TABLE[data.name]!
    : Error;
  // Reflect.construct with Error gives the object Error's internal slot (so it prints and
  // checks as a native error) and the class's prototype, without running a constructor whose
  // parameters vary from class to class.
  const error = Reflect.construct(
    Error,
    [data.message],
    Class,
  ) as Error & Record<string, unknown>;
  if (error.name !== data.name) {
    Object.defineProperty(error, "name", {
      value: data.name,
      writable: true,
      enumerable: Object.hasOwn(data.props, "name"),
      configurable: true,
    });
  }
  Object.defineProperty(error, "stack", {
    value: data.stack ?? `${data.name}: ${data.message}`,
    writable: true,
    enumerable: false,
    configurable: true,
  });
  for (const [key, value] of Object.entries(data.props)) {
    Object.defineProperty(error, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
  if (data.cause !== undefined) {
    Object.defineProperty(error, "cause", {
      value: deserializeError(data.cause),
      writable: true,
      enumerable: false,
      configurable: true,
    });
  }
  if (data.errors !== undefined) {
    Object.defineProperty(error, "errors", {
      value: data.errors.map(deserializeError),
      writable: true,
      enumerable: false,
      configurable: true,
    });
  }
  return error;
}
