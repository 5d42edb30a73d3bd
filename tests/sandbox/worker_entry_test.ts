import assert from "node:assert/strict";
import * as comlink from "comlink";
import { decodePayload, encodePayload } from "../../src/sandbox/protocol.ts";
import {
  serveStep,
  type WorkerSignal,
} from "../../src/sandbox/worker_entry.ts";

/** Serves `stepModule` on a MessageChannel, sends one call and collects what comes back. */
async function callOnce(
  stepModule: Record<string, unknown>,
  exportName: string,
  inputs: unknown,
): Promise<WorkerSignal[]> {
  const { port1, port2 } = new MessageChannel();
  serveStep(stepModule, comlink, {
    specifier: "file:///step.ts",
    endpoint: port2,
  });
  const signals: WorkerSignal[] = [];
  const finished = new Promise<void>((resolve) => {
    port1.addEventListener("message", (event) => {
      const signal = event.data as WorkerSignal;
      if (signal.stepbox === "ready") return;
      signals.push(signal);
      const last = signal.stepbox === "checked" ||
        (signal.stepbox === "done" && signal.unchecked !== true);
      if (last) resolve();
    });
  });
  port1.start();
  port1.postMessage(
    {
      stepbox: "run",
      id: 7,
      request: {
        reference: `step.ts#${exportName}`,
        exportName,
        builtin: false,
        inputs: encodePayload(inputs),
      },
    } satisfies WorkerSignal,
  );
  await finished;
  port1.close();
  port2.close();
  return signals;
}

const rows = Array.from({ length: 2000 }, (_, i) => ({ i, text: `row ${i}` }));

Deno.test("serveStep() answers a small output once, as it is", async () => {
  const signals = await callOnce({ echo: (x: unknown) => x }, "echo", {
    a: 1,
  });
  assert.deepEqual(signals, [{
    stepbox: "done",
    id: 7,
    outcome: { ok: true, value: { kind: "clone", value: { a: 1 } } },
  }]);
});

Deno.test("serveStep() sends a large output as JSON at once, then confirms it", async () => {
  const signals = await callOnce({ echo: (x: unknown) => x }, "echo", {
    rows,
  });
  assert.equal(signals.length, 2);
  const [done, checked] = signals;
  assert.ok(done?.stepbox === "done" && done.unchecked === true);
  assert.ok(done.outcome.ok && done.outcome.value.kind === "json");
  assert.deepEqual(decodePayload(done.outcome.value), { rows });
  assert.deepEqual(checked, { stepbox: "checked", id: 7 });
});

Deno.test("serveStep() replaces a large output that JSON does not carry exactly", async () => {
  const output = { rows, when: new Date(0) };
  const signals = await callOnce({ make: () => output }, "make", {});
  const [done, checked] = signals;
  assert.ok(done?.stepbox === "done" && done.unchecked === true);
  assert.ok(checked?.stepbox === "checked" && checked.outcome !== undefined);
  assert.ok(checked.outcome.ok);
  assert.equal(checked.outcome.value.kind, "clone");
  assert.deepEqual(decodePayload(checked.outcome.value), output);
});

Deno.test("serveStep() replaces a large output that cannot leave the worker with the error", async () => {
  const signals = await callOnce(
    { make: () => ({ rows, handler: { call: () => 1 } }) },
    "make",
    {},
  );
  const checked = signals.at(-1);
  assert.ok(checked?.stepbox === "checked" && checked.outcome !== undefined);
  assert.ok(!checked.outcome.ok);
  assert.equal(checked.outcome.error.name, "OutputNotCloneableError");
  assert.equal(checked.outcome.error.props.keyPath, "handler.call");
});
