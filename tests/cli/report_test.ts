import assert from "node:assert/strict";
import {
  formatDuration,
  Masker,
  Reporter,
  type ReportSink,
} from "../../src/cli/report.ts";
import type { StepEvent } from "../../src/types.ts";

function sink(live = false): ReportSink & { out: string; err: string } {
  const result = {
    out: "",
    err: "",
    live,
    color: false,
    stdout(text: string) {
      result.out += text;
    },
    stderr(text: string) {
      result.err += text;
    },
  };
  return result;
}

const BASE = {
  index: 0,
  reference: "./s.ts#deploy",
  name: "deploy",
  inputs: { token: "{{ prefect.blocks.secret.t }}" },
  time: 1,
};

Deno.test("Masker masks plain, JSON-escaped and per-line forms, longest first", () => {
  const masker = new Masker();
  masker.add("");
  assert.equal(masker.active, false);
  masker.add("abc");
  masker.add("abcdef");
  masker.add('multi\n"line" secret');
  assert.equal(masker.mask("x abcdef y abc"), "x *** y ***");
  assert.equal(
    masker.mask(JSON.stringify({ v: 'multi\n"line" secret' })),
    '{"v":"***"}',
  );
  assert.equal(masker.mask('printed: "line" secret'), "printed: ***");
  assert.equal(masker.mask("a.c"), "a.c");
});

Deno.test("Reporter writes plain progress lines when not on a terminal", () => {
  const out = sink();
  const reporter = new Reporter(out);
  reporter.event({ ...BASE, type: "step.started" });
  reporter.event({
    ...BASE,
    type: "step.failed",
    durationMs: 1500,
    error: { name: "Error", message: "x" },
  });
  reporter.close();
  assert.equal(
    out.err,
    " > Running deploy step...\n ✗ deploy failed after 1.5 s\n",
  );
});

Deno.test("Reporter masks secrets in events, output, warnings, errors and outputs", () => {
  const out = sink();
  const lines: string[] = [];
  const reporter = new Reporter(out, {
    writeEvent: (line) => lines.push(line),
  });
  reporter.secret("hunter2");
  reporter.event({ ...BASE, type: "step.started" });
  reporter.output({ stream: "stdout", text: "token=hun" });
  reporter.output({ stream: "stdout", text: "ter2\nnext " });
  reporter.output({ stream: "stderr", text: "err hunter2\n" });
  const failed: StepEvent = {
    ...BASE,
    type: "step.failed",
    durationMs: 3,
    error: { name: "Error", message: "bad hunter2" },
  };
  reporter.event(failed);
  reporter.warn("w hunter2");
  reporter.error(["error: hunter2", "  caused by: hunter2"]);
  reporter.outputs({ token: "hunter2", list: ["x hunter2"] });
  reporter.close();
  const everything = out.out + out.err + lines.join("");
  assert.doesNotMatch(everything, /hunter2/);
  assert.match(out.err, /token=\*\*\*\n/);
  assert.match(out.err, /next \n/);
  assert.match(lines[1] ?? "", /"message":"bad \*\*\*"/);
  assert.equal(lines.length, 2);
  assert.deepEqual(JSON.parse(out.out), { token: "***", list: ["x ***"] });
});

Deno.test("Reporter draws a live line on a terminal and clears it", () => {
  const out = sink(true);
  const reporter = new Reporter(out);
  reporter.event({ ...BASE, type: "step.started" });
  reporter.output({ stream: "stdout", text: "hello\n" });
  reporter.event({
    ...BASE,
    type: "step.completed",
    durationMs: 5,
    outputKeys: [],
  });
  reporter.close();
  assert.match(out.err, /Running deploy step\.\.\./);
  assert.ok(out.err.includes("\r\x1b[2Khello\n"), JSON.stringify(out.err));
  assert.match(out.err, / ✓ deploy completed in 5 ms\n$/);
});

Deno.test("Reporter prints outputs JSON can not hold", () => {
  const out = sink();
  new Reporter(out).outputs({ big: 10n, set: new Set([1]) });
  assert.deepEqual(JSON.parse(out.out), { big: "10", set: [1] });
});

Deno.test("formatDuration() picks a readable unit", () => {
  assert.equal(formatDuration(12.4), "12 ms");
  assert.equal(formatDuration(1500), "1.5 s");
  assert.equal(formatDuration(125_000), "2 min 5 s");
});
