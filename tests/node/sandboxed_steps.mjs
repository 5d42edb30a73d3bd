// Step modules for the Node sandbox tests. They run in Deno Workers of a sandbox host, whatever
// the parent's runtime, so they may use Deno's APIs; each does what its permissions allow.

/** Reads a file. Needs `read` of it. */
export async function readText({ path }) {
  return { text: await Deno.readTextFile(path) };
}

let calls = 0;

/** Counts its calls in this module instance: a warm worker keeps counting. */
export function countCalls() {
  calls += 1;
  return { calls };
}

/** Never finishes. */
export function hang() {
  return new Promise(() => {});
}

/** Grows until its host's heap cap stops it. */
export function hoard() {
  const kept = [];
  while (true) kept.push(new Array(1_000_000).fill({ text: "x".repeat(16) }));
}
