/**
 * Deterministic benchmark inputs, built once outside every measured function.
 *
 * No randomness: the same bytes every run, so two runs measure the same work.
 *
 * @module
 */

/** One entry of the nested payload; its shape mixes strings, numbers, booleans, nulls, lists and maps. */
interface PayloadItem {
  id: number;
  name: string;
  enabled: boolean;
  score: number;
  tags: string[];
  owner: { login: string; team: string | null; since: string };
  metrics: { runs: number; failures: number; ratio: number; history: number[] };
}

/** A payload of about `bytes` bytes of JSON text. */
export interface Payload {
  kind: string;
  version: number;
  items: PayloadItem[];
}

const TEAMS = ["build", "deploy", "infra", null, "data"] as const;
const WORDS = [
  "alpha",
  "bravo",
  "charlie",
  "delta",
  "echo",
  "foxtrot",
  "golf",
  "hotel",
] as const;

function word(i: number): string {
  return WORDS[i % WORDS.length] as string;
}

function makeItem(i: number): PayloadItem {
  return {
    id: i,
    name: `${word(i)}-${word(i * 7 + 3)}-${i}`,
    enabled: i % 3 !== 0,
    score: (i * 37) % 1000 / 10,
    tags: [word(i), word(i + 1), `t${i % 17}`],
    owner: {
      login: `user${i % 97}`,
      team: TEAMS[i % TEAMS.length] ?? null,
      since: `2024-${String(i % 12 + 1).padStart(2, "0")}-${
        String(i % 28 + 1).padStart(2, "0")
      }`,
    },
    metrics: {
      runs: i * 13 % 5000,
      failures: i % 11,
      ratio: Math.round((i % 11) / (i * 13 % 5000 + 1) * 1e6) / 1e6,
      history: [i % 5, i % 7, i % 9, i % 13],
    },
  };
}

/**
 * Builds a nested object whose JSON text is at least `bytes` long (and less than one item more).
 *
 * @example About 10 kB
 * ```ts
 * import assert from "node:assert/strict";
 * import { makePayload } from "./_inputs.ts";
 *
 * const payload = makePayload(10_000);
 * assert.ok(JSON.stringify(payload).length >= 10_000);
 * assert.deepEqual(makePayload(10_000), payload);
 * ```
 */
export function makePayload(bytes: number): Payload {
  const payload: Payload = { kind: "bench-payload", version: 1, items: [] };
  let size = JSON.stringify(payload).length;
  for (let i = 0; size < bytes; i++) {
    const item = makeItem(i);
    payload.items.push(item);
    size += JSON.stringify(item).length + 1;
  }
  return payload;
}

/** A template built from a payload, and the upstream outputs its placeholders read. */
export interface TemplateInput {
  /** The payload with `placeholders` strings turned into `{{ }}` templates. */
  template: Payload;
  /** The values those placeholders name. */
  values: Record<string, unknown>;
  /** How many placeholders the template holds. */
  placeholders: number;
}

/**
 * Builds a ~`bytes` template with `count` placeholders spread evenly through it: a third are whole
 * strings (the value keeps its type), the rest sit inside text, and some use key paths.
 *
 * @example A small template
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeTemplate } from "./_inputs.ts";
 *
 * const { template, placeholders } = makeTemplate(20_000, 30);
 * assert.equal(placeholders, 30);
 * assert.equal(JSON.stringify(template).split("{{").length - 1, 30);
 * ```
 */
export function makeTemplate(bytes: number, count: number): TemplateInput {
  const template = makePayload(bytes);
  const values: Record<string, unknown> = {};
  const step = Math.max(1, Math.floor(template.items.length / count));
  let placeholders = 0;
  for (
    let i = 0;
    i < template.items.length && placeholders < count;
    i += step
  ) {
    const item = template.items[i] as PayloadItem;
    const key = `value_${placeholders}`;
    switch (placeholders % 3) {
      case 0:
        values[key] = {
          login: `resolved${placeholders}`,
          list: [placeholders, "x"],
        };
        item.name = `{{ ${key} }}`;
        break;
      case 1:
        values[key] = `text-${placeholders}`;
        item.owner.login = `owner {{ ${key} }} of ${item.name}`;
        break;
      default:
        values[key] = { nested: { deep: [placeholders, placeholders + 1] } };
        item.owner.since = `since {{ ${key}.nested.deep[1] }}`;
    }
    placeholders++;
  }
  return { template, values, placeholders };
}

/**
 * Builds a Prefect-style step file with `count` steps in one `pull` section: built-in steps,
 * local module references, templates over earlier outputs, reserved keywords, lists and maps.
 *
 * @example Ten steps
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeStepFileText } from "./_inputs.ts";
 *
 * const text = makeStepFileText(10);
 * assert.ok(text.startsWith("pull:\n"));
 * assert.equal(text.split("\n  - ").length - 1, 10);
 * ```
 */
export function makeStepFileText(count: number): string {
  const lines = ["pull:"];
  for (let i = 0; i < count; i++) {
    switch (i % 4) {
      case 0:
        lines.push(
          "  - prefect.deployments.steps.run_shell_script:",
          `      id: step-${i}`,
          `      script: echo "building ${word(i)} ${i}"`,
          "      stream_output: false",
        );
        break;
      case 1:
        lines.push(
          "  - prefect.deployments.steps.git_clone:",
          `      id: clone-${i}`,
          `      repository: https://example.com/${word(i)}/${
            word(i + 3)
          }-${i}.git`,
          "      branch: main",
          `      include_submodules: ${i % 2 === 0}`,
        );
        break;
      case 2:
        lines.push(
          `  - ./steps/${word(i)}.ts#${word(i)}:`,
          `      id: local-${i}`,
          `      message: "previous {{ step-${i - 2}.stdout }}"`,
          "      timeout: 30",
          "      tags:",
          `        - ${word(i)}`,
          `        - n${i}`,
          "      settings:",
          `        retries: ${i % 5}`,
          `        label: '${word(i + 5)} ${i}'`,
        );
        break;
      default:
        lines.push(
          "  - prefect.deployments.steps.set_working_directory:",
          `      directory: /srv/${word(i)}/{{ clone-${i - 2}.directory }}`,
        );
    }
  }
  return lines.join("\n") + "\n";
}
