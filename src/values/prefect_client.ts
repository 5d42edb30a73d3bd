/**
 * A {@linkcode ValueSource} over a Prefect server's REST API: variables by name, block
 * documents by type slug + name and by id (with their secrets, which stay secrets here).
 *
 * @module
 */

import { ValueStoreError } from "../errors.ts";
import type { BlockDocument } from "../types.ts";
import type { ValueSource } from "./value_source.ts";

/** Options of {@linkcode PrefectClient}. */
export interface PrefectClientOptions {
  /** The API's base URL, such as `http://127.0.0.1:4200/api` (Prefect's `PREFECT_API_URL`). */
  apiUrl: string;
  /** A bearer token (Prefect's `PREFECT_API_KEY`). @default none */
  apiKey?: string;
  /** How long one request may take, in milliseconds. @default 30000 */
  timeoutMs?: number;
  /** Cancels every request. */
  signal?: AbortSignal;
  /** The fetch to use. @default globalThis.fetch */
  fetch?: typeof fetch;
}

interface PrefectBlockDocument {
  id: string;
  name: string | null;
  data: unknown;
  "block_type"?: { slug?: string } | null;
}

/**
 * Reads variables and block documents from a Prefect server.
 *
 * @example Read a variable and a block from a Prefect-shaped server
 * ```ts
 * import assert from "node:assert/strict";
 * import { PrefectClient } from "./prefect_client.ts";
 * const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
 *   const { pathname } = new URL(request.url);
 *   if (pathname === "/api/variables/name/region") {
 *     return Response.json({ id: "1", name: "region", value: "eu-west-3", tags: [] });
 *   }
 *   if (pathname === "/api/block_types/slug/secret/block_documents/name/token") {
 *     return Response.json({ id: "b1", name: "token", data: { value: "s3cr3t" }, block_type: { slug: "secret" } });
 *   }
 *   return Response.json({ detail: "Not found" }, { status: 404 });
 * });
 * try {
 *   const client = new PrefectClient({ apiUrl: `http://127.0.0.1:${server.addr.port}/api` });
 *   assert.equal(await client.variable("region"), "eu-west-3");
 *   assert.equal(await client.variable("other"), undefined);
 *   assert.deepEqual(await client.blockByName("secret", "token"), {
 *     id: "b1", blockTypeSlug: "secret", name: "token", data: { value: "s3cr3t" },
 *   });
 * } finally {
 *   await server.shutdown();
 * }
 * ```
 */
export class PrefectClient implements ValueSource {
  readonly #apiUrl: string;
  readonly #apiKey: string | undefined;
  readonly #timeoutMs: number;
  readonly #signal: AbortSignal | undefined;
  readonly #fetch: typeof fetch;

  /**
   * @param options The API URL, the key, and request limits.
   * @throws {ValueStoreError} when `apiUrl` is not an http(s) URL.
   */
  constructor(options: PrefectClientOptions) {
    let url: URL;
    try {
      url = new URL(options.apiUrl);
    } catch {
      throw new ValueStoreError(
        `Cannot use PREFECT_API_URL ${
          JSON.stringify(options.apiUrl)
        }: it is not a URL; set it to the API's address, such as "http://127.0.0.1:4200/api"`,
      );
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new ValueStoreError(
        `Cannot use PREFECT_API_URL "${url.protocol}//...": it must be an http or https URL`,
      );
    }
    this.#apiUrl = url.href.replace(/\/+$/, "");
    this.#apiKey = options.apiKey;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#signal = options.signal;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** The variable's value (`GET /variables/name/{name}`), or `undefined` on 404. */
  async variable(name: string): Promise<unknown> {
    const body = await this.#get(
      `/variables/name/${encodeURIComponent(name)}`,
      `variable "${name}"`,
    );
    if (body === undefined) return undefined;
    return (body as { value?: unknown }).value;
  }

  /**
   * The block document with this type slug and name
   * (`GET /block_types/slug/{slug}/block_documents/name/{name}?include_secrets=true`), or `undefined` on 404.
   */
  async blockByName(
    blockTypeSlug: string,
    name: string,
  ): Promise<BlockDocument | undefined> {
    const body = await this.#get(
      `/block_types/slug/${
        encodeURIComponent(blockTypeSlug)
      }/block_documents/name/${encodeURIComponent(name)}?include_secrets=true`,
      `block "${blockTypeSlug}/${name}"`,
    );
    return body === undefined
      ? undefined
      : toDocument(body as PrefectBlockDocument, blockTypeSlug);
  }

  /** The block document with this id (`GET /block_documents/{id}?include_secrets=true`), or `undefined` on 404. */
  async blockById(id: string): Promise<BlockDocument | undefined> {
    const body = await this.#get(
      `/block_documents/${encodeURIComponent(id)}?include_secrets=true`,
      `block document "${id}"`,
    );
    return body === undefined
      ? undefined
      : toDocument(body as PrefectBlockDocument, undefined);
  }

  async #get(path: string, what: string): Promise<unknown> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.#apiKey !== undefined && this.#apiKey !== "") {
      headers.authorization = `Bearer ${this.#apiKey}`;
    }
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = this.#signal === undefined
      ? timeout
      : AbortSignal.any([timeout, this.#signal]);
    const where = `the Prefect API at ${redact(this.#apiUrl)}`;
    let response: Response;
    try {
      response = await this.#fetch(this.#apiUrl + path, { headers, signal });
    } catch (error) {
      const reason = timeout.aborted
        ? `no answer within ${this.#timeoutMs} ms`
        : error instanceof Error
        ? error.message
        : String(error);
      throw new ValueStoreError(
        `Cannot read ${what} from ${where}: ${reason}; check PREFECT_API_URL and that the server is running`,
        { cause: error },
      );
    }
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    if (!response.ok) {
      await response.body?.cancel();
      const hint = response.status === 401 || response.status === 403
        ? "; check PREFECT_API_KEY"
        : "";
      throw new ValueStoreError(
        `Cannot read ${what} from ${where}: HTTP ${response.status} ${response.statusText}${hint}`,
      );
    }
    try {
      return await response.json();
    } catch (error) {
      throw new ValueStoreError(
        `Cannot read ${what} from ${where}: the answer is not JSON`,
        { cause: error },
      );
    }
  }
}

function toDocument(
  body: PrefectBlockDocument,
  slug: string | undefined,
): BlockDocument {
  return {
    id: String(body.id),
    blockTypeSlug: body["block_type"]?.slug ?? slug ?? "",
    name: body.name ?? "",
    data: body.data ?? {},
  };
}

/** Drops credentials and query from a URL shown in a message. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    parsed.search = "";
    return parsed.href.replace(/\/+$/, "");
  } catch {
    return "<invalid URL>";
  }
}
