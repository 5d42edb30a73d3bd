import assert from "node:assert/strict";
import { decodePayload, encodePayload } from "../../src/sandbox/protocol.ts";
import {
  serveStep,
  type WorkerSignal,
} from "../../src/sandbox/worker_entry.ts";

/** Serves `stepModule` on a MessageChannel, sends one call and returns its answer. */
async function callOnce(
  stepModule: Record<string, unknown>,
  exportName: string,
  inputs: unknown,
): Promise<Extract<WorkerSignal, { stepbox: "done" }>> {
  const { port1, port2 } = new MessageChannel();
  serveStep(stepModule, {
    specifier: "file:///step.ts",
    endpoint: port2,
  });
  const done = new Promise<Extract<WorkerSignal, { stepbox: "done" }>>(
    (resolve) => {
      port1.addEventListener("message", (event) => {
        const signal = event.data as WorkerSignal;
        if (signal.stepbox === "done") resolve(signal);
      });
    },
  );
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
  try {
    return await done;
  } finally {
    port1.close();
    port2.close();
  }
}

const rows = Array.from({ length: 2000 }, (_, i) => ({ i, text: `row ${i}` }));

Deno.test("serveStep() answers a small output as it is", async () => {
  const done = await callOnce({ echo: (x: unknown) => x }, "echo", { a: 1 });
  assert.deepEqual(done, {
    stepbox: "done",
    id: 7,
    outcome: { ok: true, value: { kind: "clone", value: { a: 1 } } },
  });
});

Deno.test("serveStep() answers a large JSON output as JSON", async () => {
  const done = await callOnce({ echo: (x: unknown) => x }, "echo", { rows });
  assert.ok(done.outcome.ok && done.outcome.value.kind === "json");
  assert.deepEqual(decodePayload(done.outcome.value), { rows });
});

Deno.test("serveStep() answers a large output that JSON would change as it is", async () => {
  const output = { rows, when: new Date(0), bytes: new Uint8Array(50_000) };
  const done = await callOnce({ make: () => output }, "make", {});
  assert.ok(done.outcome.ok && done.outcome.value.kind === "clone");
  assert.deepEqual(decodePayload(done.outcome.value), output);
});

Deno.test("serveStep() answers an output that cannot leave the worker with the error", async () => {
  const done = await callOnce(
    { make: () => ({ rows, handler: { call: () => 1 } }) },
    "make",
    {},
  );
  assert.ok(!done.outcome.ok);
  assert.equal(done.outcome.error.name, "OutputNotCloneableError");
  assert.equal(done.outcome.error.props.keyPath, "handler.call");
});
