/**
 * Step functions for the example pipelines. Each receives one object, the step's resolved
 * inputs, and returns a plain object whose keys later steps can use as `{{ key }}`.
 *
 * @module
 */

/** Builds a greeting. */
export function greet(inputs: { name?: string }): { greeting: string } {
  return { greeting: `Hello, ${inputs.name ?? "world"}!` };
}

/** Upper-cases a text. */
export function shout(inputs: { text: string }): { shouted: string } {
  return { shouted: String(inputs.text).toUpperCase() };
}

/** Counts the words and characters of a text. */
export function count(
  inputs: { text: string },
): { words: number; characters: number } {
  const text = String(inputs.text);
  return {
    words: text.split(/\s+/).filter((word) => word !== "").length,
    characters: text.length,
  };
}

/**
 * Pretends to open a connection with a region and an API token: the token is a secret
 * (a block), so the run masks it wherever it shows up.
 */
export function connect(
  inputs: { region: string; token: string },
): { endpoint: string; authorization: string; token_length: number } {
  if (!inputs.region) {
    throw new Error(
      'No region: set it with "deno task stepbox variable set region eu-west-3"',
    );
  }
  if (!inputs.token) {
    throw new Error(
      'No token: set it with "deno task stepbox block set secret/api-token --value ..."',
    );
  }
  return {
    endpoint: `https://api.${inputs.region}.example.com`,
    authorization: `Bearer ${inputs.token}`,
    token_length: inputs.token.length,
  };
}
