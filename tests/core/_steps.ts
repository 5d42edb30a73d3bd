/** Step functions for the run_steps tests. Every function takes one object of inputs. */

export type Inputs = Record<string, unknown>;

/** Returns a deep copy of its inputs. */
export function echo(inputs: Inputs): Inputs {
  return structuredClone(inputs);
}

/** Throws an Error carrying `message`. */
export function fail(inputs: { message?: string }): never {
  throw new Error(inputs.message ?? "step failed");
}

/** Throws an error with a code and a cause. */
export function failTyped(): never {
  class DeployError extends Error {
    code = "E_DEPLOY";
    constructor(message: string, options?: ErrorOptions) {
      super(message, options);
      this.name = "DeployError";
    }
  }
  throw new DeployError("deploy failed", { cause: new Error("disk full") });
}

const attempts = new Map<string, number>();

/** Fails until it has been called more than `failures` times for `key`. */
export function flaky(
  inputs: { key: string; failures: number },
): { attempts: number } {
  const count = (attempts.get(inputs.key) ?? 0) + 1;
  attempts.set(inputs.key, count);
  if (count <= inputs.failures) throw new Error(`attempt ${count} failed`);
  return { attempts: count };
}

/** Mutates everything it receives, to prove the caller's objects are out of its reach. */
export function mutate(inputs: Inputs): Inputs {
  for (const value of Object.values(inputs)) {
    if (typeof value === "object" && value !== null) {
      (value as Record<string, unknown>).mutated = true;
    }
  }
  inputs.added = true;
  return inputs;
}

/** Resolves after `ms` milliseconds. */
export async function slow(inputs: { ms: number }): Promise<{ slept: number }> {
  await new Promise((resolve) => setTimeout(resolve, inputs.ms));
  return { slept: inputs.ms };
}

/** Returns a function inside its output. */
export function returnsFunction(): unknown {
  return { result: { handler: () => 1 } };
}

/** Returns the secret it received inside an error message. */
export function leakInError(inputs: { token: string }): never {
  throw new Error(`bad token ${inputs.token}`);
}

/** Not a function. */
export const notAFunction = 42;

/** Joins `a` and `b` as text. */
export function concat(
  inputs: { a?: unknown; b?: unknown },
): { result: string } {
  return { result: String(inputs.a ?? "") + String(inputs.b ?? "") };
}
