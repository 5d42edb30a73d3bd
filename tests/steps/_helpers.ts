/**
 * Shared pieces of the built-in step tests: contexts, temp dirs and a real git repository.
 *
 * @module
 */

import type { StepContext } from "../../src/types.ts";

/** The PATH the tests' commands use. */
export const PATH = Deno.env.get("PATH") ?? "/usr/bin:/bin";

/** A context whose live output is recorded in `chunks`. */
export function createContext(
  workingDirectory: string,
  env: Record<string, string> = {},
): StepContext & { chunks: { stream: string; text: string }[] } {
  const chunks: { stream: string; text: string }[] = [];
  return {
    workingDirectory,
    env: { PATH, HOME: workingDirectory, ...env },
    write(stream, text) {
      chunks.push({ stream, text });
    },
    chunks,
  };
}

export { tempDir } from "../_temp_dir.ts";

/** Runs git in `cwd` with a fixed identity; fails loudly. */
export async function git(cwd: string, ...args: string[]): Promise<string> {
  const output = await new Deno.Command("git", {
    args,
    cwd,
    clearEnv: true,
    env: {
      PATH,
      HOME: cwd,
      GIT_AUTHOR_NAME: "Test",
      GIT_AUTHOR_EMAIL: "test@example.com",
      GIT_COMMITTER_NAME: "Test",
      GIT_COMMITTER_EMAIL: "test@example.com",
      GIT_CONFIG_NOSYSTEM: "1",
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  if (!output.success) {
    throw new Error(
      `git ${args.join(" ")} failed: ${decoder.decode(output.stderr)}`,
    );
  }
  return decoder.decode(output.stdout).trim();
}

/** A bare repository `<root>/repos/project.git` with two commits on `main` and one more on `release`. */
export interface TestRepository {
  /** `file://` URL of the bare repository. */
  url: string;
  /** The first commit (on both branches). */
  first: string;
  /** The tip of `main`. */
  main: string;
  /** The tip of `release`. */
  release: string;
}

/** Creates {@linkcode TestRepository} under `root`. */
export async function createRepository(root: string): Promise<TestRepository> {
  const bare = `${root}/repos/project.git`;
  const work = `${root}/work`;
  await Deno.mkdir(bare, { recursive: true });
  await Deno.mkdir(work, { recursive: true });
  await git(bare, "init", "--bare", "--initial-branch=main");
  await git(work, "init", "--initial-branch=main");
  await Deno.mkdir(`${work}/app`);
  await Deno.mkdir(`${work}/docs`);
  await Deno.writeTextFile(`${work}/README.md`, "first\n");
  await Deno.writeTextFile(`${work}/app/main.txt`, "app\n");
  await Deno.writeTextFile(`${work}/docs/guide.txt`, "docs\n");
  await git(work, "add", ".");
  await git(work, "commit", "-m", "first");
  const first = await git(work, "rev-parse", "HEAD");
  await Deno.writeTextFile(`${work}/README.md`, "second\n");
  await git(work, "commit", "-am", "second");
  const main = await git(work, "rev-parse", "HEAD");
  await git(work, "checkout", "-b", "release", first);
  await Deno.writeTextFile(`${work}/release.txt`, "release\n");
  await git(work, "add", ".");
  await git(work, "commit", "-m", "release");
  const release = await git(work, "rev-parse", "HEAD");
  await git(work, "push", bare, "main", "release");
  await Deno.remove(work, { recursive: true });
  return { url: `file://${bare}`, first, main, release };
}
