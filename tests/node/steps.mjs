// Step modules for the Node tests: plain JavaScript, as a Node project would write them.

/** Greets `name`. */
export function greet({ name }) {
  return { greeting: `Hello, ${name}!` };
}

/** Upper-cases `text`. */
export function shout({ text }) {
  return { shouted: text.toUpperCase() };
}

/** Counts the words of `text`, after a turn of the event loop. */
export async function count({ text }) {
  await new Promise((resolve) => setTimeout(resolve, 1));
  return { words: text.split(/\s+/).filter(Boolean).length };
}

/** Fails with an error that carries a code and a cause. */
export function deploy({ target }) {
  const error = new Error(`deploy to ${target} failed`, {
    cause: new TypeError("upload failed"),
  });
  error.name = "DeployError";
  error.code = "E_DEPLOY";
  throw error;
}
