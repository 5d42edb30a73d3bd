// A temporary directory for one test, removed after it.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Runs `fn` with a fresh directory, and removes the directory after it. */
export async function withTempDir(fn) {
  const dir = await mkdtemp(join(tmpdir(), "stepbox-node-"));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
