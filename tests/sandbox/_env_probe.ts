/**
 * Run by host_client_test.ts in a child process whose environment holds a secret: prints, as
 * JSON, the environment that a step granted `env: true` sees.
 *
 * @module
 */

import { createSandboxExecutor } from "../../src/sandbox/host_client.ts";
import { callOptions, fixtureTarget } from "./executor_suite.ts";

await using executor = createSandboxExecutor({ isolation: "step" });
const output = await executor.call(
  fixtureTarget("reads_env.ts", "readsEnv"),
  {},
  callOptions({
    permissions: { env: true },
    policy: {
      allow: { env: true },
      env: { STEPBOX_PASSED: Deno.env.get("STEPBOX_PASSED") ?? "" },
    },
  }),
) as { env: Record<string, string> };
// deno-lint-ignore no-console -- this script reports to its parent test through stdout
console.log(JSON.stringify(output.env));
