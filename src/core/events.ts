// Portable: no runtime APIs.
/**
 * Step events ({@linkcode createStepEvent}, {@linkcode emitStepEvent}): what a run reports about
 * each step, with the UNRESOLVED inputs only, so that no resolved secret reaches a listener.
 *
 * @module
 */

import { setOwn } from "../_util/set_own.ts";
import type { StepEvent, StepEventBase } from "../types.ts";

/** What every event of one step shares. */
export interface StepEventSubject {
  /** The step's position in its list (0-based). */
  index: number;
  /** The step reference as written. */
  reference: string;
  /** The step name: the export name. */
  name: string;
  /** The step's `id`, if any. */
  id?: string | undefined;
  /** The inputs as written (reserved keywords removed); copied once for all events of the subject. */
  inputs: Record<string, unknown>;
}

/** The details that differ per event type. */
export type StepEventDetails =
  | { type: "step.started" }
  | { type: "step.completed"; durationMs: number; outputKeys: string[] }
  | {
    type: "step.failed";
    durationMs: number;
    error: { name: string; message: string };
  };

// One copy of a subject's inputs, shared by all its events (started, then completed or failed).
const copies = new WeakMap<StepEventSubject, Record<string, unknown>>();

// Marks a value `frozenCopy` cannot copy itself (not plain data, or cyclic).
const NOT_PLAIN: unique symbol = Symbol("not plain");

/**
 * A deep, frozen copy of plain data (strings, numbers, booleans, null, lists, mappings), in one
 * walk: several times faster than `structuredClone` followed by a freeze. Throws NOT_PLAIN for
 * anything else, which the caller copies the general way.
 */
function frozenCopy(value: unknown, ancestors: object[]): unknown {
  if (typeof value !== "object" || value === null) {
    if (typeof value === "function" || typeof value === "symbol") {
      throw NOT_PLAIN;
    }
    return value;
  }
  if (ancestors.includes(value)) throw NOT_PLAIN;
  ancestors.push(value);
  let copy: unknown[] | Record<string, unknown>;
  if (Array.isArray(value)) {
    copy = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      copy[i] = frozenCopy(value[i], ancestors);
    }
  } else {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) throw NOT_PLAIN;
    copy = {};
    for (const key of Object.keys(value)) {
      const item = frozenCopy(
        (value as Record<string, unknown>)[key],
        ancestors,
      );
      setOwn(copy, key, item);
    }
  }
  ancestors.pop();
  return Object.freeze(copy);
}

/** Freezes `value` and what it holds, as far as freezing goes (a typed array's bytes cannot be). */
function deepFreeze(value: unknown, seen: Set<object>): void {
  if (typeof value !== "object" || value === null || seen.has(value)) return;
  if (ArrayBuffer.isView(value)) return;
  seen.add(value);
  Object.freeze(value);
  for (const key of Object.keys(value)) {
    deepFreeze((value as Record<string, unknown>)[key], seen);
  }
}

/** The event copy of a step's inputs: deep and frozen. */
function copyInputs(inputs: Record<string, unknown>): Record<string, unknown> {
  try {
    return frozenCopy(inputs, []) as Record<string, unknown>;
  } catch (error) {
    if (error !== NOT_PLAIN) throw error;
  }
  // Not plain data (a Date, a cycle...): what structured clone keeps, frozen.
  const copy = structuredClone(inputs);
  deepFreeze(copy, new Set());
  return copy;
}

/**
 * Builds a step event. The inputs are deep-copied and frozen once per subject: every event of
 * one step shares that copy, and no listener can change the step or another event through it.
 * A run builds events only when someone listens, since the copy costs a walk of the inputs.
 *
 * @param subject The step.
 * @param details The event type and its fields.
 * @param time Epoch milliseconds.
 * @returns The event.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { createStepEvent } from "./events.ts";
 *
 * const subject = { index: 0, reference: "a.echo", name: "echo", inputs: { x: "{{ y }}" } };
 * const event = createStepEvent(subject, { type: "step.started" }, 1);
 * assert.deepEqual(event, { type: "step.started", index: 0, reference: "a.echo", name: "echo", inputs: { x: "{{ y }}" }, time: 1 });
 * assert.notEqual(event.inputs, subject.inputs);
 * assert.ok(Object.isFrozen(event.inputs));
 * const done = createStepEvent(subject, { type: "step.completed", durationMs: 2, outputKeys: [] }, 3);
 * assert.equal(done.inputs, event.inputs);
 * ```
 */
export function createStepEvent(
  subject: StepEventSubject,
  details: StepEventDetails,
  time: number = Date.now(),
): StepEvent {
  let inputs = copies.get(subject);
  if (inputs === undefined) {
    inputs = copyInputs(subject.inputs);
    copies.set(subject, inputs);
  }
  const base: StepEventBase = {
    index: subject.index,
    reference: subject.reference,
    name: subject.name,
    inputs,
    time,
  };
  if (subject.id !== undefined) base.id = subject.id;
  return { ...details, ...base } as StepEvent;
}

/**
 * Hands an event to a listener. A listener that throws cannot change the outcome of the run,
 * so its error is dropped here.
 *
 * @param onEvent The listener, if any.
 * @param event The event.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { createStepEvent, emitStepEvent } from "./events.ts";
 *
 * const seen: string[] = [];
 * const event = createStepEvent({ index: 0, reference: "a.b", name: "b", inputs: {} }, { type: "step.started" });
 * emitStepEvent((e) => seen.push(e.type), event);
 * emitStepEvent(() => { throw new Error("faulty listener"); }, event);
 * assert.deepEqual(seen, ["step.started"]);
 * ```
 */
export function emitStepEvent(
  onEvent: ((event: StepEvent) => void) | undefined,
  event: StepEvent,
): void {
  if (onEvent === undefined) return;
  try {
    onEvent(event);
  } catch {
    // A faulty listener must not fail or alter the run it observes.
  }
}

/**
 * Replaces every known secret in a text with `***`, longest first, so that an error message a
 * step wrote cannot carry a resolved block value into an event.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { maskSecrets } from "./events.ts";
 * assert.equal(maskSecrets("login failed for s3cr3t", new Set(["s3cr3t"])), "login failed for ***");
 * ```
 */
export function maskSecrets(
  text: string,
  secrets: ReadonlySet<string>,
): string {
  if (secrets.size === 0) return text;
  let masked = text;
  const sorted = [...secrets].filter((s) => s !== "").sort((a, b) =>
    b.length - a.length
  );
  for (const secret of sorted) masked = masked.split(secret).join("***");
  return masked;
}
