/**
 * The `--help` text of every command.
 *
 * @module
 */

import type { HelpCliOptions } from "./args.ts";

const HELP: Record<HelpCliOptions["topic"], string> = {
  stepbox:
    `stepbox: run YAML-defined steps, each in its own permission-restricted worker

Usage:
  stepbox <command> [options]

Commands:
  run [FILE]        Run the steps of a step file (default ./stepbox.yaml, else ./prefect.yaml)
  validate [FILE]   Check a step file without running anything
  variable          Manage variables in the embedded store (set, get, ls, rm)
  block             Manage blocks (secrets) in the embedded store (set, get, ls, rm)

Options:
  -h, --help        Show help (also after any command: stepbox run --help)
  -V, --version     Show the version

Examples:
  deno task run-steps examples/hello.yaml
  deno task stepbox validate prefect.yaml
  deno task stepbox variable set region eu-west-3
  deno task stepbox block set secret/api-token --value s3cr3t

The store is .stepbox/ in the directory the command runs in, or the directory in
STEPBOX_STORE. With PREFECT_API_URL set (and PREFECT_API_KEY), runs read variables
and blocks from that Prefect server instead.
`,
  run: `Run the steps of a step file.

Usage:
  stepbox run [FILE] [options]          (deno task run-steps [FILE] [options])

FILE is a YAML or JSON file: a list of steps, or a prefect.yaml mapping with build,
push and pull sections, run in that order with outputs flowing through. Default:
./stepbox.yaml, else ./prefect.yaml, in the directory the command was started from.
Progress goes to stderr; the outputs are printed as JSON on stdout.

Options:
  --section build|push|pull   Run only this section
  --set KEY=VALUE             Seed an upstream output (repeatable; the value stays a string)
  --vars-file FILE            Seed upstream outputs from a YAML/JSON mapping (types kept)
  --import-map FILE           Add import-map entries ({"imports": {...}})
  --isolation step|pool|inline
                              step: a fresh worker per step (default); pool: warm workers
                              reused per module; inline: no sandbox at all
  --allow-read[=PATHS]        Permission ceiling: what steps may be granted at most.
  --allow-write[=PATHS]       Given any --allow-* flag, the flags replace the default
  --allow-net[=HOSTS]         ceiling, which is what the file's steps ask for in their
  --allow-env[=NAMES]         "permissions" plus what its built-in steps declare.
  --allow-run[=PROGRAMS]
  --allow-sys[=NAMES]
  --allow-ffi[=PATHS]
  --allow-import[=HOSTS]
  -A, --allow-all             Allow every permission
  --allow-unenforced          With --isolation inline: run steps that request
                              permissions although nothing can enforce them
  --timeout SECONDS           Default timeout of a step without its own "timeout"
  --events FILE               Write step events as JSON Lines
  --dry-run                   Print each step's reference, module, permissions and
                              unresolved inputs; run nothing
  -h, --help                  Show this help

Exit codes: 0 success, 1 a step failed, 2 bad usage or a bad file.

Examples:
  deno task run-steps examples/hello.yaml
  deno task run-steps prefect.yaml --section pull --set repository=https://github.com/org/repo
  deno task run-steps flow.yaml --vars-file vars.yaml --events events.jsonl
  deno task run-steps flow.yaml --allow-net=api.example.com --timeout 60
  deno task run-steps flow.yaml --dry-run
`,
  validate:
    `Check a step file: YAML syntax, sections and the shape of every step.
Errors are printed as FILE:LINE:COLUMN: reason. Nothing runs.

Usage:
  stepbox validate [FILE]

Exit codes: 0 valid, 2 invalid or unreadable.

Examples:
  deno task stepbox validate prefect.yaml
  deno task stepbox validate examples/hello.yaml
`,
  variable: `Manage variables in the embedded store; steps read them as
{{ prefect.variables.NAME }} (or {{ stepbox.variables.NAME }}).

Usage:
  stepbox variable set NAME VALUE [--json]   Store VALUE (a string; with --json, a JSON value)
  stepbox variable get NAME                  Print the value as JSON
  stepbox variable ls                        List the variables
  stepbox variable rm NAME                   Remove a variable

Names use letters, digits, "_" and "-". The store is .stepbox/ in the current
directory, or STEPBOX_STORE.

Examples:
  deno task stepbox variable set region eu-west-3
  deno task stepbox variable set replicas 3 --json
  deno task stepbox variable get region
`,
  block:
    `Manage blocks in the embedded store. Block data are secrets: runs mask them
as *** in everything they print or write. Steps read them as
{{ prefect.blocks.TYPE-SLUG.NAME }} (a block whose data is {"value": ...} gives the value)
or {{ prefect.blocks.TYPE-SLUG.NAME.KEY }}.

Usage:
  stepbox block set TYPE-SLUG/NAME --value TEXT     Store {"value": TEXT} (--value - reads stdin)
  stepbox block set TYPE-SLUG/NAME --json '{...}'   Store a JSON object
  stepbox block get TYPE-SLUG/NAME [--reveal]       Print the block (data masked unless --reveal)
  stepbox block ls                                  List the blocks (no data)
  stepbox block rm TYPE-SLUG/NAME                   Remove a block

Examples:
  deno task stepbox block set secret/api-token --value s3cr3t
  deno task stepbox block set aws-credentials/prod --json '{"aws_access_key_id": "AKIA...", "aws_secret_access_key": "..."}'
  deno task stepbox block ls
`,
};

/**
 * The `--help` text of a command.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { helpText } from "./help.ts";
 * assert.match(helpText("run"), /--section build\|push\|pull/);
 * ```
 */
export function helpText(topic: HelpCliOptions["topic"]): string {
  return HELP[topic];
}
