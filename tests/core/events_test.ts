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

Deno.test("createStepEvent() copies and freezes the inputs so listeners cannot change the step", () => {
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
  assert.notEqual(event.inputs, SUBJECT.inputs);
  assert.throws(() => {
    (event.inputs.a as Record<string, unknown>).b = "changed";
  }, TypeError);
  assert.throws(() => {
    event.inputs.extra = 1;
  }, TypeError);
  assert.equal(SUBJECT.inputs.a.b, "{{ x }}");
  assert.equal(Object.isFrozen(SUBJECT.inputs.a), false);
});

Deno.test("createStepEvent() copies a subject's inputs once for all its events", () => {
  const subject = { ...SUBJECT, inputs: { list: [{ deep: "{{ y }}" }] } };
  const started = createStepEvent(subject, { type: "step.started" });
  const failed = createStepEvent(subject, {
    type: "step.failed",
    durationMs: 1,
    error: { name: "Error", message: "boom" },
  });
  assert.equal(failed.inputs, started.inputs);
  assert.deepEqual(failed.inputs, { list: [{ deep: "{{ y }}" }] });
  const other = createStepEvent({ ...subject }, { type: "step.started" });
  assert.notEqual(other.inputs, started.inputs);
});

Deno.test("createStepEvent() copies data that is not plain, and keeps __proto__ as data", () => {
  const when = new Date(0);
  const cyclic: Record<string, unknown> = { name: "loop" };
  cyclic.self = cyclic;
  const inputs = JSON.parse(
    '{"__proto__": {"polluted": true}, "n": [1, null]}',
  );
  inputs.when = when;
  inputs.bytes = new Uint8Array([1, 2]);
  inputs.cyclic = cyclic;
  const event = createStepEvent({ ...SUBJECT, inputs }, {
    type: "step.started",
  });
  const copy = event.inputs as Record<string, unknown>;
  assert.ok(Object.hasOwn(copy, "__proto__"));
  assert.deepEqual(copy["__proto__"], { polluted: true });
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.deepEqual(copy.n, [1, null]);
  assert.ok(copy.when instanceof Date && copy.when !== when);
  assert.equal((copy.when as Date).getTime(), 0);
  assert.deepEqual([...(copy.bytes as Uint8Array)], [1, 2]);
  const loop = copy.cyclic as Record<string, unknown>;
  assert.equal(loop.self, loop);
  assert.notEqual(loop, cyclic);
  assert.ok(Object.isFrozen(copy) && Object.isFrozen(loop));

  const plain = createStepEvent({
    ...SUBJECT,
    inputs: JSON.parse('{"__proto__": {"x": 1}}'),
  }, { type: "step.started" });
  assert.ok(Object.hasOwn(plain.inputs, "__proto__"));
  assert.equal(Object.getPrototypeOf(plain.inputs), Object.prototype);
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
