import assert from "node:assert/strict";
import {
  createStepEvent,
  emitStepEvent,
  maskSecrets,
} from "../../src/core/events.ts";
import type { StepEvent } from "../../src/types.ts";

const SUBJECT = {
  index: 2,
  reference: "t.echo",
  name: "echo",
  id: "e",
  inputs: { a: { b: "{{ x }}" } },
};

Deno.test("createStepEvent() copies the inputs so listeners cannot change the step", () => {
  const event = createStepEvent(SUBJECT, {
    type: "step.completed",
    durationMs: 3,
    outputKeys: ["a"],
  }, 5);
  assert.deepEqual(event, {
    type: "step.completed",
    durationMs: 3,
    outputKeys: ["a"],
    index: 2,
    reference: "t.echo",
    name: "echo",
    id: "e",
    inputs: { a: { b: "{{ x }}" } },
    time: 5,
  });
  (event.inputs.a as Record<string, unknown>).b = "changed";
  assert.equal(SUBJECT.inputs.a.b, "{{ x }}");
});

Deno.test("createStepEvent() leaves out an absent id", () => {
  const event = createStepEvent({ ...SUBJECT, id: undefined }, {
    type: "step.started",
  });
  assert.equal(Object.hasOwn(event, "id"), false);
});

Deno.test("emitStepEvent() ignores a missing or throwing listener", () => {
  const event = createStepEvent(SUBJECT, { type: "step.started" });
  emitStepEvent(undefined, event);
  const seen: StepEvent[] = [];
  emitStepEvent((e) => seen.push(e), event);
  emitStepEvent(() => {
    throw new Error("listener bug");
  }, event);
  assert.equal(seen.length, 1);
});

Deno.test("maskSecrets() replaces every occurrence, longest secrets first", () => {
  assert.equal(maskSecrets("ab abc ab", new Set(["ab", "abc"])), "*** *** ***");
  assert.equal(maskSecrets("nothing", new Set()), "nothing");
  assert.equal(maskSecrets("x", new Set([""])), "x");
});
