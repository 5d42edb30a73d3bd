/**
 * Builds the npm package's JavaScript in `dist/`: ES modules bundled from `src/mod.ts` with the
 * npm packages it uses, split where the library loads parts on demand (the sandbox client,
 * js-yaml, the position-keeping YAML parser), so that Node imports `stepbox` without TypeScript
 * or Deno. `package.json` exports `dist/mod.js`.
 *
 * Usage: `deno task build-npm [OUT_DIR]` (default `dist/`)
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url);

/**
 * Bundles `src/mod.ts` into `outDir` (emptied first) with `deno bundle`.
 *
 * @param outDir Where the modules go.
 * @throws {Error} with the bundler's output when it fails.
 *
 * @example
 * ```ts ignore
 * await buildNpm(new URL("../dist/", import.meta.url).pathname);
 * ```
 */
export async function buildNpm(outDir: string): Promise<void> {
  await Deno.remove(outDir, { recursive: true }).catch(() => {});
  const { success, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--code-splitting",
      "--format=esm",
      `--outdir=${outDir}`,
      "src/mod.ts",
    ],
    cwd: ROOT.pathname,
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  if (!success) {
    throw new Error(
      `Cannot build ${outDir}: deno bundle failed:\n${
        new TextDecoder().decode(stderr)
      }`,
    );
  }
}

if (import.meta.main) {
  const outDir = Deno.args[0] ?? new URL("dist/", ROOT).pathname;
  await buildNpm(outDir);
  await Deno.stdout.write(new TextEncoder().encode(`Built ${outDir}\n`));
}
