/**
 * Builds the npm package in `dist/`: ES modules bundled from `src/mod.ts` with the npm packages
 * it uses, split where the library loads parts on demand (the sandbox client, js-yaml, the
 * position-keeping YAML parser), so that Node imports `stepbox` without TypeScript or Deno; and
 * in `dist/types/` a declaration file for every module of `src/`, for TypeScript on Node.
 * `package.json` exports `dist/mod.js` with the types of `dist/types/mod.d.ts`.
 *
 * Usage: `deno task build-npm [OUT_DIR]` (default `dist/`)
 *
 * @module
 */

import { listFiles } from "./_list_files.ts";

const ROOT = new URL("../", import.meta.url);

/**
 * Bundles `src/mod.ts` into `outDir` (emptied first) with `deno bundle`, and writes the
 * declarations in `outDir/types/` (see {@linkcode emitDeclarations}).
 *
 * @param outDir Where the modules go.
 * @throws {Error} with the bundler's output when it fails, or what a declaration lacks.
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
  await emitDeclarations(`${outDir}/types`);
}

/**
 * Writes a `.d.ts` beside the path of every module of `src/` into `typesDir`, each from its own
 * source alone (`isolatedDeclarations`: exported functions and constants carry their types), so
 * no type checking of Deno-only code is needed. Relative imports name the `.js` twin that
 * TypeScript resolves to the `.d.ts`; comlink's `npm:` specifier becomes the package's name, a
 * dependency of the package.
 *
 * @param typesDir Where the declarations go.
 * @throws {Error} naming the file and line of a declaration that cannot be written on its own,
 *   or of an import that Node could not resolve.
 *
 * @example
 * ```ts ignore
 * await emitDeclarations("dist/types");
 * ```
 */
export async function emitDeclarations(typesDir: string): Promise<void> {
  const { default: ts } = await import("typescript");
  const problems: string[] = [];
  for (const path of listFiles(ROOT, "src/")) {
    const fileName = new URL(path, ROOT).pathname;
    const { outputText, diagnostics = [] } = ts.transpileDeclaration(
      await Deno.readTextFile(fileName),
      {
        fileName,
        reportDiagnostics: true,
        compilerOptions: {
          isolatedDeclarations: true,
          allowImportingTsExtensions: true,
          strict: true,
          target: ts.ScriptTarget.ESNext,
          module: ts.ModuleKind.ESNext,
        },
      },
    );
    for (const diagnostic of diagnostics) {
      const where = diagnostic.file && diagnostic.start !== undefined
        ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start)
        : undefined;
      problems.push(
        `${path}${where ? `:${where.line + 1}:${where.character + 1}` : ""}: ${
          ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n")
        }`,
      );
    }
    const lines = outputText.split("\n").map((line, index) => {
      // Comments (the JSDoc examples) keep their specifiers as written.
      if (/^\s*(\/\/|\/\*|\*)/.test(line)) return line;
      return line.replace(
        /(\bfrom\s*|\bimport\s*\(\s*)(["'])([^"']+)\2/g,
        (whole, lead: string, quote: string, specifier: string) => {
          const node = nodeSpecifier(specifier);
          if (node === undefined) {
            problems.push(
              `${path} (declaration line ${
                index + 1
              }): cannot import "${specifier}" from Node`,
            );
            return whole;
          }
          return `${lead}${quote}${node}${quote}`;
        },
      );
    });
    const target = `${typesDir}/${
      path.slice("src/".length).replace(/\.ts$/, ".d.ts")
    }`;
    await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), {
      recursive: true,
    });
    await Deno.writeTextFile(target, lines.join("\n"));
  }
  if (problems.length > 0) {
    throw new Error(
      `Cannot write the declarations:\n${
        problems.join("\n")
      }\nGive the exported names explicit types, and import only relative modules, node: built-ins or comlink`,
    );
  }
}

// What a source module's import is called from the package's declarations, if Node can see it.
function nodeSpecifier(specifier: string): string | undefined {
  if (/^\.{1,2}\//.test(specifier)) return specifier.replace(/\.ts$/, ".js");
  if (specifier.startsWith("node:")) return specifier;
  if (/^npm:comlink@[^/]*$/.test(specifier)) return "comlink";
  return undefined;
}

if (import.meta.main) {
  const outDir = Deno.args[0] ?? new URL("dist/", ROOT).pathname;
  await buildNpm(outDir);
  await Deno.stdout.write(new TextEncoder().encode(`Built ${outDir}\n`));
}
