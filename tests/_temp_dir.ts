/**
 * A fresh temporary directory for one test, removed when the test's `await using` ends.
 *
 * @module
 */

/**
 * Creates a temporary directory (its real path: macOS and some CI runners put temp dirs behind
 * a symlink), removed with everything in it on dispose.
 *
 * @example
 * ```ts ignore
 * await using dir = await tempDir();
 * await Deno.writeTextFile(`${dir.path}/a.txt`, "a");
 * ```
 */
export async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "stepbox_test_" }),
  );
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}
