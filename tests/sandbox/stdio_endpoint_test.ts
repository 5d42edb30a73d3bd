import assert from "node:assert/strict";
import * as comlink from "comlink";
import {
  createStdioEndpoint,
  type StdioEndpoint,
  type StdioEndpointOptions,
} from "../../src/sandbox/stdio_endpoint.ts";

/** Two endpoints joined by in-memory pipes; `b` is made with `bOptions`. */
function pair(bOptions: StdioEndpointOptions = {}) {
  const aToB = new TransformStream<Uint8Array, Uint8Array>();
  const bToA = new TransformStream<Uint8Array, Uint8Array>();
  return {
    a: createStdioEndpoint(bToA.readable, aToB.writable),
    b: createStdioEndpoint(aToB.readable, bToA.writable, bOptions),
  };
}

/** Runs `use` with both ends of a fresh Unix socket connection, then removes the socket. */
async function withUnixSocket(
  use: (client: Deno.Conn, server: Deno.Conn) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/s`;
  const listener = Deno.listen({ transport: "unix", path });
  try {
    const [client, server] = await Promise.all([
      Deno.connect({ transport: "unix", path }),
      listener.accept(),
    ]);
    await use(client, server);
  } finally {
    listener.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** `b` echoes every value on channel 0; the returned remote calls it from `a`. */
function echoRemote(
  a: StdioEndpoint,
  b: StdioEndpoint,
): comlink.Remote<{ echo(value: unknown): unknown }> {
  comlink.expose({ echo: (value: unknown) => value }, b.channel(0));
  return comlink.wrap<{ echo(value: unknown): unknown }>(a.channel(0));
}

/** The next `count` messages `endpoint` receives on `channel`, in order. */
function messages(
  endpoint: StdioEndpoint,
  channel: number,
  count: number,
): Promise<unknown[]> {
  const received: unknown[] = [];
  return new Promise((resolve) =>
    endpoint.channel(channel).addEventListener("message", (event) => {
      received.push((event as MessageEvent).data);
      if (received.length === count) resolve(received);
    })
  );
}

/** `promise`, or a rejection once `ms` have passed without it settling. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Nothing arrived within ${ms} ms`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("createStdioEndpoint() carries comlink calls both ways on separate channels", async () => {
  const { a, b } = pair();
  try {
    comlink.expose({ add: (x: number, y: number) => x + y }, b.channel(0));
    comlink.expose({ greet: (name: string) => `hi ${name}` }, a.channel(1));
    const remoteB = comlink.wrap<{ add(x: number, y: number): number }>(
      a.channel(0),
    );
    const remoteA = comlink.wrap<{ greet(name: string): string }>(b.channel(1));
    assert.equal(await remoteB.add(2, 3), 5);
    assert.equal(await remoteA.greet("ada"), "hi ada");
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("createStdioEndpoint() reassembles frames split across chunks", async () => {
  const pipe = new TransformStream<Uint8Array, Uint8Array>();
  const sink = new TransformStream<Uint8Array, Uint8Array>();
  // A writer that re-chunks every frame into 7-byte pieces.
  const rechunk = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      for (let i = 0; i < chunk.length; i += 7) {
        controller.enqueue(chunk.slice(i, i + 7));
      }
    },
  });
  void pipe.readable.pipeTo(rechunk.writable);
  const sender = createStdioEndpoint(new ReadableStream(), pipe.writable);
  const receiver = createStdioEndpoint(rechunk.readable, sink.writable);
  try {
    const arrived = messages(receiver, 3, 3);
    const big = "y".repeat(300_000);
    sender.channel(3).postMessage({ n: 1 });
    sender.channel(3).postMessage({ big });
    sender.channel(3).postMessage(new Map([["k", new Date(5)]]));
    assert.deepEqual(await arrived, [
      { n: 1 },
      { big },
      new Map([["k", new Date(5)]]),
    ]);
  } finally {
    await sender.close();
    await receiver.close();
  }
});

Deno.test("createStdioEndpoint() resolves closed when the peer goes away", async () => {
  const { a, b } = pair();
  await a.close();
  await b.closed;
  assert.equal(b.isClosed, true);
  await b.close();
});

Deno.test("createStdioEndpoint() rejects a channel out of range", async () => {
  const { a, b } = pair();
  try {
    assert.throws(() => a.channel(256), RangeError);
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("createStdioEndpoint() carries large frames over a real Unix socket", async () => {
  await withUnixSocket(async (client, server) => {
    const a = createStdioEndpoint(client.readable, client.writable);
    const b = createStdioEndpoint(server.readable, server.writable);
    try {
      const remote = echoRemote(a, b);
      const text = "z".repeat(3_000_000);
      const bytes = new Uint8Array(200_000).map((_, i) => i % 251);
      for (let i = 0; i < 3; i++) {
        assert.deepEqual(await remote.echo({ text, bytes, i }), {
          text,
          bytes,
          i,
        });
        assert.equal(await remote.echo(i), i);
      }
    } finally {
      await a.close();
      await b.close();
    }
  });
});

Deno.test("createStdioEndpoint() carries what postMessage carries", async () => {
  const { a, b } = pair();
  try {
    const remote = echoRemote(a, b);
    class Point {
      constructor(public x: number, public y: number) {}
    }
    const error = Object.assign(new RangeError("too far", { cause: "why" }), {
      code: "E_FAR",
    });
    const values: unknown[] = [
      undefined,
      null,
      NaN,
      -0,
      Infinity,
      12n,
      "text",
      [1, , 3],
      new Date(7),
      /a+b/gi,
      new Map<unknown, unknown>([[{ k: 1 }, new Set([1, "two"])]]),
      new Uint8Array([1, 2, 255]),
      new Float64Array([1.5, -2]),
      new Uint8Array([9, 8, 7]).buffer,
      { "\u0000sbx": "u", nested: { "\u0000sbx": "d" } },
      {
        long: "é".repeat(40_000),
        other: ["x".repeat(50_000)],
        map: new Map([["k", "y".repeat(33_000)]]),
      },
      Object(5),
    ];
    for (const value of values) {
      assert.deepEqual(
        await remote.echo(value),
        value === values[7] ? [1, undefined, 3] : value,
      );
    }
    const point = await remote.echo(new Point(1, 2));
    assert.deepEqual(point, { x: 1, y: 2 });
    const copy = await remote.echo(error) as Error & { code: string };
    assert.equal(copy.message, "too far");
    assert.equal(copy.name, "RangeError");
    assert.equal(copy.code, "E_FAR");
    assert.equal(copy.cause, "why");
    assert.equal(copy.stack, error.stack);
    const proto = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}');
    const protoCopy = await remote.echo(proto) as Record<string, unknown>;
    assert.deepEqual(Object.keys(protoCopy), ["__proto__", "x"]);
    assert.equal(Object.getPrototypeOf(protoCopy), Object.prototype);
    await assert.rejects(
      remote.echo(() => 1),
      (e: Error) => e.name === "DataCloneError",
    );
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("createStdioEndpoint() sends long byte arrays raw, copied unless transferred", async () => {
  const { a, b } = pair({ ownBytes: true });
  try {
    const arrived = messages(b, 2, 2);
    const whole = new Uint8Array(100_000).map((_, i) => i % 251);
    // A view on part of a buffer: only its own bytes travel.
    const part = new Uint8Array(whole.buffer, 1_000, 40_000);
    const expected = { whole: whole.slice(), part: part.slice() };
    a.channel(2).postMessage({ whole, part, small: new Uint8Array([1, 2]) });
    // Not transferred: what was posted is what arrives, whatever the sender does next.
    whole.fill(0);
    const moved = new Uint8Array(50_000).fill(9);
    a.channel(2).postMessage({ moved }, [moved.buffer]);
    const received = await arrived as Record<string, Uint8Array>[];
    assert.deepEqual(received[0], {
      ...expected,
      small: new Uint8Array([1, 2]),
    });
    assert.deepEqual(received[1], { moved: new Uint8Array(50_000).fill(9) });
    // ownBytes: each in a buffer of its own, ready to be transferred on.
    for (const bytes of [received[0]!.whole!, received[0]!.part!]) {
      assert.equal(bytes.byteOffset, 0);
      assert.equal(bytes.buffer.byteLength, bytes.byteLength);
    }
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("createStdioEndpoint() gives views into the frame by default", async () => {
  const { a, b } = pair();
  try {
    const arrived = messages(b, 2, 1);
    const bytes = new Uint8Array(40_000).fill(3);
    a.channel(2).postMessage({ bytes });
    const [data] = await arrived as [{ bytes: Uint8Array }];
    assert.deepEqual(data.bytes, bytes);
    assert.ok(data.bytes.buffer.byteLength > data.bytes.byteLength);
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("createStdioEndpoint() keeps shared objects and cycles, as structured clone does", async () => {
  const { a, b } = pair();
  try {
    const arrived = messages(b, 2, 1);
    const shared = { name: "shared", when: new Date(5) };
    const cyclic: Record<string, unknown> = { shared };
    cyclic.self = cyclic;
    const map = new Map<unknown, unknown>([["me", null]]);
    map.set("me", map);
    const error = new Error("loop") as Error & { again?: unknown };
    error.again = error;
    error.cause = shared;
    // Small, but 2^40 nodes when each reference is written out in full.
    let doubling: unknown = { leaf: true };
    for (let level = 0; level < 40; level++) {
      doubling = { a: doubling, b: [doubling] };
    }
    a.channel(2).postMessage({
      list: [shared, shared, shared.when],
      cyclic,
      map,
      error,
      doubling,
    });
    const [data] = await arrived as [{
      list: [typeof shared, typeof shared, Date];
      cyclic: Record<string, unknown> & { shared: typeof shared };
      map: Map<string, unknown>;
      error: Error & { again: unknown };
      doubling: { a: unknown; b: unknown[] };
    }];
    assert.deepEqual(data.list[0], shared);
    assert.equal(data.list[0], data.list[1]);
    assert.equal(data.list[2], data.list[0].when);
    assert.equal(data.cyclic.self, data.cyclic);
    assert.equal(data.cyclic.shared, data.list[0]);
    assert.equal(data.map.get("me"), data.map);
    assert.equal(data.error.again, data.error);
    assert.equal(data.error.cause, data.list[0]);
    assert.equal(data.doubling.a, data.doubling.b[0]);
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("createStdioEndpoint() keeps an object shared within plain data, however far apart", async () => {
  const { a, b } = pair();
  try {
    const arrived = messages(b, 2, 2);
    const near = { name: "near" };
    const far = { name: "far" };
    const many = Array.from({ length: 40 }, (_, i) => ({ i }));
    a.channel(2).postMessage({ first: near, second: near });
    a.channel(2).postMessage({ far, many, again: [far] });
    const [close, distant] = await arrived as [
      { first: object; second: object },
      { far: object; many: { i: number }[]; again: object[] },
    ];
    assert.deepEqual(close.first, near);
    assert.equal(close.first, close.second);
    assert.deepEqual(distant.many, many);
    assert.equal(distant.again[0], distant.far);
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("createStdioEndpoint() reads and writes a socket directly, large frames included", async () => {
  await withUnixSocket(async (client, server) => {
    const a = createStdioEndpoint(client, client);
    const b = createStdioEndpoint(server, server);
    try {
      const remote = echoRemote(a, b);
      const text = "q".repeat(2_000_000);
      const calls = Array.from({ length: 20 }, (_, i) => remote.echo({ i }));
      assert.deepEqual(await remote.echo({ text }), { text });
      assert.deepEqual(
        await Promise.all(calls),
        Array.from({ length: 20 }, (_, i) => ({ i })),
      );
    } finally {
      await a.close();
      await b.close();
    }
    assert.equal(a.error, undefined);
  });
});

Deno.test("createStdioEndpoint() delivers small frames posted back to back over a socket intact and in order", async () => {
  // Many small frames share each read, and each is written from the thread's reused buffer
  // while it is free: none may arrive altered by the next one, whatever its text.
  const sent = (i: number) =>
    i % 50 === 25 ? { i, text: "z".repeat(100_000) } : {
      i,
      text: `${"é€😀".repeat(i % 7)}#${i}`,
      list: [i, { nested: i % 3 === 0 }],
    };
  await withUnixSocket(async (client, server) => {
    const a = createStdioEndpoint(client, client);
    const b = createStdioEndpoint(server, server);
    try {
      const onOne = messages(b, 1, 100);
      const onTwo = messages(b, 2, 100);
      for (let i = 0; i < 100; i++) {
        const message = sent(i);
        a.channel(1).postMessage(message);
        // Posting copies: a change made afterwards is not sent.
        message.i = -1;
        a.channel(2).postMessage(sent(1000 + i));
      }
      // A corrupted frame loses the framing and the rest never arrives: fail rather than hang.
      const [one, two] = await within(Promise.all([onOne, onTwo]), 10_000);
      assert.deepEqual(one, Array.from({ length: 100 }, (_, i) => sent(i)));
      assert.deepEqual(
        two,
        Array.from({ length: 100 }, (_, i) => sent(1000 + i)),
      );
    } finally {
      // The receiver first: a sender whose frames are no longer read would wait on them.
      await b.close();
      await a.close();
    }
    assert.equal(b.error, undefined);
  });
});

Deno.test("createStdioEndpoint() keeps large frames intact when two sockets send and receive at once", async () => {
  // Every endpoint of a thread borrows the same buffers for large frames: frames posted back to
  // back, on two connections at once, must each arrive as they were sent.
  const ascii = (seed: number) =>
    String.fromCharCode(97 + seed).repeat(300_000);
  // Three UTF-8 bytes per unit, and surrogate pairs: the most text grows when encoded.
  const wide = (seed: number) => `€${seed}😀`.repeat(60_000);
  const bytes = (seed: number) =>
    new Uint8Array(120_000).map((_, i) => (i + seed) % 251);
  const sent = (seed: number) => ({
    seed,
    ascii: ascii(seed),
    wide: wide(seed),
    bytes: bytes(seed),
  });
  await withUnixSocket(async (client1, server1) => {
    await withUnixSocket(async (client2, server2) => {
      const ends = [
        createStdioEndpoint(client1, client1),
        createStdioEndpoint(server1, server1),
        createStdioEndpoint(client2, client2),
        createStdioEndpoint(server2, server2),
      ];
      const [a1, b1, a2, b2] = ends as [
        StdioEndpoint,
        StdioEndpoint,
        StdioEndpoint,
        StdioEndpoint,
      ];
      try {
        const received1 = messages(b1, 3, 4);
        const received2 = messages(b2, 3, 4);
        for (let seed = 0; seed < 4; seed++) {
          a1.channel(3).postMessage(sent(seed));
          const moved = bytes(seed + 10);
          a2.channel(3).postMessage({ ...sent(seed + 10), bytes: moved }, [
            moved.buffer,
          ]);
        }
        const [got1, got2] = await Promise.all([received1, received2]);
        assert.deepEqual(got1, [0, 1, 2, 3].map(sent));
        assert.deepEqual(got2, [10, 11, 12, 13].map(sent));
      } finally {
        for (const end of ends) await end.close();
      }
    });
  });
});

Deno.test("createStdioEndpoint() leaves a received byte array its own bytes when the next large frame arrives", async () => {
  await withUnixSocket(async (client, server) => {
    const a = createStdioEndpoint(client, client);
    const b = createStdioEndpoint(server, server);
    try {
      const first = messages(b, 1, 1);
      a.channel(1).postMessage({ bytes: new Uint8Array(200_000).fill(1) });
      const [{ bytes }] = await first as [{ bytes: Uint8Array }];
      const next = messages(b, 1, 2);
      a.channel(1).postMessage({ text: "x".repeat(500_000) });
      a.channel(1).postMessage({ bytes: new Uint8Array(200_000).fill(2) });
      const [text, last] = await next as [
        { text: string },
        { bytes: Uint8Array },
      ];
      assert.equal(text.text, "x".repeat(500_000));
      assert.deepEqual(bytes, new Uint8Array(200_000).fill(1));
      assert.deepEqual(last.bytes, new Uint8Array(200_000).fill(2));
    } finally {
      await a.close();
      await b.close();
    }
  });
});

Deno.test("createStdioEndpoint() flushed() waits until the socket has taken every frame", async () => {
  await withUnixSocket(async (client, server) => {
    const a = createStdioEndpoint(client, client);
    let read = 0;
    const reading = (async () => {
      const buffer = new Uint8Array(64 * 1024);
      while (true) {
        const count = await server.read(buffer);
        if (count === null) return;
        read += count;
        // Slow enough that the writer must wait for the reader.
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    })();
    try {
      const text = "f".repeat(8_000_000);
      a.channel(3).postMessage({ text });
      await a.flushed();
      // Only what the socket's buffers hold can still be unread.
      assert.ok(read > text.length - 2_000_000, `read ${read} bytes`);
      await a.flushed();
    } finally {
      await a.close();
      server.close();
      await reading.catch(() => {});
    }
  });
});

Deno.test("createStdioEndpoint() reports a throwing listener and keeps reading", async () => {
  const reported: unknown[] = [];
  const { a, b } = pair({ onListenerError: (error) => reported.push(error) });
  try {
    const received: unknown[] = [];
    const done = new Promise<void>((resolve) => {
      b.channel(0).addEventListener("message", (event) => {
        const data = (event as MessageEvent).data as { n: number };
        if (data.n === 1) throw new Error("listener bug");
        received.push(data.n);
        if (data.n === 2) resolve();
      });
    });
    a.channel(0).postMessage({ n: 1 });
    a.channel(0).postMessage({ n: 2 });
    await done;
    assert.deepEqual(received, [2]);
    assert.equal(reported.length, 1);
    assert.equal((reported[0] as Error).message, "listener bug");
    assert.equal(b.isClosed, false);
  } finally {
    await a.close();
    await b.close();
  }
});
