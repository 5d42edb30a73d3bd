import assert from "node:assert/strict";
import { PrefectClient } from "../../src/values/prefect_client.ts";
import { ValueStoreError } from "../../src/errors.ts";

const BLOCK = {
  id: "0b5c1f4e-0000-4000-8000-000000000001",
  created: "2024-01-01T00:00:00Z",
  updated: "2024-01-01T00:00:00Z",
  name: "api-token",
  data: { value: "s3cr3t" },
  "block_schema_id": "schema-1",
  "block_schema": { id: "schema-1", fields: {}, capabilities: [] },
  "block_type_id": "type-1",
  "block_type_name": "Secret",
  "block_type": { id: "type-1", name: "Secret", slug: "secret" },
  "block_document_references": {},
  "is_anonymous": false,
};

interface Seen {
  path: string;
  search: string;
  authorization: string | null;
}

async function withServer(
  fn: (apiUrl: string, seen: Seen[]) => Promise<void>,
  handler?: (request: Request) => Response | Promise<Response>,
): Promise<void> {
  const seen: Seen[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => {
      const url = new URL(request.url);
      seen.push({
        path: url.pathname,
        search: url.search,
        authorization: request.headers.get("authorization"),
      });
      if (handler) return handler(request);
      switch (url.pathname) {
        case "/api/variables/name/region":
          return Response.json({
            id: "v1",
            name: "region",
            value: "eu-west-3",
            tags: [],
            created: "2024-01-01T00:00:00Z",
            updated: "2024-01-01T00:00:00Z",
          });
        case "/api/variables/name/count":
          return Response.json({ id: "v2", name: "count", value: 3, tags: [] });
        case "/api/block_types/slug/secret/block_documents/name/api-token":
        case `/api/block_documents/${BLOCK.id}`:
          return Response.json(BLOCK);
      }
      return Response.json({ detail: "Not Found" }, { status: 404 });
    },
  );
  try {
    await fn(`http://127.0.0.1:${server.addr.port}/api`, seen);
  } finally {
    await server.shutdown();
  }
}

Deno.test("PrefectClient.variable() reads a variable by name and sends the key as a bearer token", async () => {
  await withServer(async (apiUrl, seen) => {
    const client = new PrefectClient({
      apiUrl: `${apiUrl}/`,
      apiKey: "pnu_key",
    });
    assert.equal(await client.variable("region"), "eu-west-3");
    assert.equal(await client.variable("count"), 3);
    assert.equal(seen[0]?.path, "/api/variables/name/region");
    assert.equal(seen[0]?.authorization, "Bearer pnu_key");
  });
});

Deno.test("PrefectClient answers undefined on 404", async () => {
  await withServer(async (apiUrl) => {
    const client = new PrefectClient({ apiUrl });
    assert.equal(await client.variable("missing"), undefined);
    assert.equal(await client.blockByName("secret", "missing"), undefined);
    assert.equal(await client.blockById("missing"), undefined);
  });
});

Deno.test("PrefectClient.blockByName() and blockById() read block documents with their secrets", async () => {
  await withServer(async (apiUrl, seen) => {
    const client = new PrefectClient({ apiUrl });
    const expected = {
      id: BLOCK.id,
      blockTypeSlug: "secret",
      name: "api-token",
      data: { value: "s3cr3t" },
    };
    assert.deepEqual(await client.blockByName("secret", "api-token"), expected);
    assert.deepEqual(await client.blockById(BLOCK.id), expected);
    assert.equal(
      seen[0]?.path,
      "/api/block_types/slug/secret/block_documents/name/api-token",
    );
    assert.equal(seen[0]?.search, "?include_secrets=true");
    assert.equal(seen[1]?.search, "?include_secrets=true");
    assert.equal(seen[0]?.authorization, null);
  });
});

Deno.test("PrefectClient turns server errors into ValueStoreError without secrets", async () => {
  await withServer(
    async (apiUrl) => {
      const client = new PrefectClient({ apiUrl, apiKey: "pnu_secret_key" });
      const error = await client.variable("region").catch((e) => e);
      assert.ok(error instanceof ValueStoreError);
      assert.match(
        error.message,
        /^Cannot read variable "region" from the Prefect API at http:\/\/127\.0\.0\.1:\d+\/api: HTTP 500/,
      );
      assert.doesNotMatch(error.message, /pnu_secret_key|leaked-detail/);
    },
    () => new Response("leaked-detail", { status: 500 }),
  );
});

Deno.test("PrefectClient hints at the key on 401", async () => {
  await withServer(
    async (apiUrl) => {
      const client = new PrefectClient({ apiUrl, apiKey: "bad" });
      await assert.rejects(
        client.blockByName("secret", "x"),
        /HTTP 401 .*; check PREFECT_API_KEY/,
      );
    },
    () => Response.json({ detail: "Unauthorized" }, { status: 401 }),
  );
});

Deno.test("PrefectClient reports an unreachable server and a non-JSON answer", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const client = new PrefectClient({ apiUrl: `http://127.0.0.1:${port}/api` });
  await assert.rejects(
    client.variable("x"),
    /Cannot read variable "x" from the Prefect API .*check PREFECT_API_URL/,
  );
  await withServer(
    async (apiUrl) => {
      await assert.rejects(
        new PrefectClient({ apiUrl }).variable("x"),
        /the answer is not JSON/,
      );
    },
    () => new Response("<html>", { status: 200 }),
  );
});

Deno.test("PrefectClient rejects an API URL that is not http(s)", () => {
  assert.throws(
    () => new PrefectClient({ apiUrl: "not a url" }),
    ValueStoreError,
  );
  assert.throws(
    () => new PrefectClient({ apiUrl: "ftp://x/api" }),
    /must be an http or https URL/,
  );
});

Deno.test("PrefectClient times out a silent server", async () => {
  let release = () => {};
  const held = new Promise<void>((resolve) => release = resolve);
  await withServer(
    async (apiUrl) => {
      const client = new PrefectClient({ apiUrl, timeoutMs: 100 });
      await assert.rejects(client.variable("x"), /no answer within 100 ms/);
      release();
    },
    async () => {
      await held;
      return Response.json({});
    },
  );
});
