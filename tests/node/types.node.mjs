// The npm package's declarations: what a TypeScript service on Node type-checks against. Run by
// `deno task test` with `node --test` against the `dist/types/` that `deno task build-npm`
// writes; TypeScript is the one the build uses (an entry of deno.json's imports).
import assert from "node:assert/strict";
import { mkdir, realpath, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { withTempDir } from "./_temp_dir.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

// A service's code: every name it uses must be typed, and misuse must not compile.
const CONSUMER = `
import {
  createExecutor,
  createInlineExecutor,
  createMemoryValueSource,
  loadStepFile,
  NotSet,
  runStep,
  runSteps,
  StepExecutionError,
  type RunOptions,
  type Step,
  type StepEvent,
} from "stepbox";

const steps: Step[] = [{ "./steps.mjs#greet": { name: "{{ who }}" } }];
const events: StepEvent[] = [];
const options: RunOptions = {
  isolation: "pool",
  values: createMemoryValueSource({ variables: { who: "Node" } }),
  onEvent: (event) => events.push(event),
};
export async function run(): Promise<string> {
  const outputs: Record<string, unknown> = await runSteps(steps, options);
  const one: unknown = await runStep(steps[0] ?? null, { executor: createInlineExecutor() });
  const executor = await createExecutor("step");
  await executor.close();
  const loaded = await loadStepFile("steps.yaml");
  try {
    await runSteps(loaded.steps);
  } catch (error) {
    if (error instanceof StepExecutionError) return error.message;
  }
  return String(outputs.greeting ?? one ?? NotSet);
}

// @ts-expect-error -- runSteps takes a list of steps
await runSteps("not a list");
// @ts-expect-error -- there is no such isolation
await createExecutor("thread");
// @ts-expect-error -- there is no such isolation
await runSteps(steps, { isolation: "thread" });
// @ts-expect-error -- an event callback gets an event, not a string
await runSteps(steps, { onEvent: (event: string) => event });
`;

test("the declarations type-check a service that uses the package, and reject its misuse", async () => {
  await withTempDir(async (dir) => {
    await mkdir(join(dir, "node_modules"));
    await symlink(ROOT, join(dir, "node_modules", "stepbox"), "dir");
    const file = join(dir, "service.ts");
    await writeFile(file, CONSUMER);
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib: ["lib.es2022.d.ts", "lib.esnext.disposable.d.ts", "lib.dom.d.ts"],
      types: [],
    });
    const problems = ts.getPreEmitDiagnostics(program).map((diagnostic) => {
      const where = diagnostic.file && diagnostic.start !== undefined
        ? `${diagnostic.file.fileName}:${
          diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start)
            .line + 1
        }: `
        : "";
      return where +
        ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n");
    });
    assert.deepEqual(problems, []);
    // The package's own declarations were the ones read, through its exports.
    const root = await realpath(ROOT);
    assert.ok(
      program.getSourceFile(join(root, "dist", "types", "mod.d.ts")),
      "dist/types/mod.d.ts was not part of the program",
    );
  });
});
