// Portable: no runtime APIs.
/**
 * Step events ({@linkcode createStepEvent}, {@linkcode emitStepEvent}): what a run reports about
 * each step, with the UNRESOLVED inputs only, so that no resolved secret reaches a listener.
 *
 * @module
 */

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
  /** The inputs as written (reserved keywords removed); copied into each event. */
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

/**
 * Builds a step event. The inputs are deep-copied, so a listener cannot change the step.
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
 * ```
 */
export function createStepEvent(
  subject: StepEventSubject,
  details: StepEventDetails,
  time: number = Date.now(),
): StepEvent {
  const base: StepEventBase = {
    index: subject.index,
    reference: subject.reference,
    name: subject.name,
    inputs: structuredClone(subject.inputs),
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
