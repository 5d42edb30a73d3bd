/**
 * Builders of tar, tar.gz and zip archives for the tests, including entries that a safe
 * extractor must refuse (written byte by byte, so nothing sanitises them on the way).
 *
 * @module
 */

const encoder = new TextEncoder();

/** One entry to put into a test archive. */
export type TestEntry =
  | {
    type: "file";
    path: string;
    content: string;
    mode?: number;
    /** Zip only: deflated (in stored deflate blocks) and declared this size, true or not. */
    deflated?: { declaredSize: number };
  }
  | { type: "directory"; path: string }
  | { type: "symlink"; path: string; target: string }
  | { type: "hardlink"; path: string; target: string };

function field(
  header: Uint8Array,
  offset: number,
  length: number,
  value: string,
) {
  header.set(encoder.encode(value).subarray(0, length), offset);
}

function octal(value: number, length: number): string {
  return value.toString(8).padStart(length - 1, "0") + "\0";
}

/** A ustar archive of `entries`, names as given (even `../x` or `/abs`). */
export function tar(entries: readonly TestEntry[]): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const entry of entries) {
    const data = entry.type === "file"
      ? encoder.encode(entry.content)
      : new Uint8Array();
    const header = new Uint8Array(512);
    field(header, 0, 100, entry.path);
    const mode = entry.type === "file"
      ? entry.mode ?? 0o644
      : entry.type === "directory"
      ? 0o755
      : 0o777;
    field(header, 100, 8, octal(mode, 8));
    field(header, 108, 8, octal(0, 8));
    field(header, 116, 8, octal(0, 8));
    field(header, 124, 12, octal(data.length, 12));
    field(header, 136, 12, octal(0, 12));
    field(
      header,
      156,
      1,
      { file: "0", directory: "5", symlink: "2", hardlink: "1" }[entry.type],
    );
    if (entry.type === "symlink" || entry.type === "hardlink") {
      field(header, 157, 100, entry.target);
    }
    field(header, 257, 6, "ustar\0");
    field(header, 263, 2, "00");
    header.fill(32, 148, 156);
    const sum = header.reduce((a, b) => a + b, 0);
    field(header, 148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
    blocks.push(header);
    if (data.length > 0) {
      const padded = new Uint8Array(Math.ceil(data.length / 512) * 512);
      padded.set(data);
      blocks.push(padded);
    }
  }
  blocks.push(new Uint8Array(1024));
  return concat(blocks);
}

/** `bytes` compressed with gzip. */
export async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function crc(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** A zip archive of stored entries, names as given; symlinks carry Unix mode bits. */
export function zip(entries: readonly TestEntry[]): Uint8Array {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = encoder.encode(
      entry.type === "directory"
        ? `${entry.path.replace(/\/$/, "")}/`
        : entry.path,
    );
    let data: Uint8Array = entry.type === "file"
      ? encoder.encode(entry.content)
      : entry.type === "symlink" || entry.type === "hardlink"
      ? encoder.encode(entry.target)
      : new Uint8Array();
    const mode = entry.type === "symlink"
      ? 0o120777
      : entry.type === "directory"
      ? 0o040755
      : 0o100000 | (entry.type === "file" ? entry.mode ?? 0o644 : 0o644);
    const checksum = crc(data);
    const deflated = entry.type === "file" ? entry.deflated : undefined;
    const size = deflated?.declaredSize ?? data.length;
    if (deflated !== undefined) data = deflateStored(data);
    const method = deflated === undefined ? 0 : 8;
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, method, true);
    lv.setUint32(14, checksum, true);
    lv.setUint32(18, data.length, true);
    lv.setUint32(22, size, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const central = new Uint8Array(46 + name.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, (3 << 8) | 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(10, method, true);
    cv.setUint32(16, checksum, true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, size, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(38, (mode << 16) >>> 0, true);
    cv.setUint32(42, offset, true);
    central.set(name, 46);
    locals.push(local, data);
    centrals.push(central);
    offset += local.length + data.length;
  }
  const directory = concat(centrals);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, directory.length, true);
  ev.setUint32(16, offset, true);
  return concat([...locals, directory, end]);
}

// `data` as a raw deflate stream of stored blocks (no compression, at most 65,535 bytes each).
function deflateStored(data: Uint8Array): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (let start = 0; start === 0 || start < data.length; start += 0xffff) {
    const part = data.subarray(start, start + 0xffff);
    const block = new Uint8Array(5 + part.length);
    block[0] = start + 0xffff >= data.length ? 1 : 0;
    new DataView(block.buffer).setUint16(1, part.length, true);
    new DataView(block.buffer).setUint16(3, ~part.length & 0xffff, true);
    block.set(part, 5);
    blocks.push(block);
  }
  return concat(blocks);
}

/** A served set of files on 127.0.0.1 with a random port; records request headers. */
export interface TestServer extends AsyncDisposable {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** `127.0.0.1:<port>` */
  host: string;
  /** The requests seen, with their headers. */
  requests: { path: string; headers: Headers }[];
}

/** Serves `files` (path -> bytes); anything else is a 404. */
export function serve(files: Record<string, Uint8Array>): TestServer {
  const requests: { path: string; headers: Headers }[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => {
      const path = new URL(request.url).pathname;
      requests.push({ path, headers: request.headers });
      const body = files[path];
      return body === undefined
        ? new Response("not found", { status: 404 })
        : new Response(body as Uint8Array<ArrayBuffer>, {
          headers: { "content-type": "application/octet-stream" },
        });
    },
  );
  const host = `127.0.0.1:${server.addr.port}`;
  return {
    origin: `http://${host}`,
    host,
    requests,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

/** Every path under `root`, relative, sorted (symlinks not followed). */
export async function listTree(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string, prefix: string) {
    for await (const entry of Deno.readDir(dir)) {
      const path = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
      out.push(
        entry.isSymlink
          ? `${path} -> ${await Deno.readLink(`${dir}/${entry.name}`)}`
          : entry.isDirectory
          ? `${path}/`
          : path,
      );
      if (entry.isDirectory && !entry.isSymlink) {
        await walk(`${dir}/${entry.name}`, path);
      }
    }
  }
  await walk(root, "");
  return out.sort();
}
