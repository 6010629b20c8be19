import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type Server } from "node:http";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { copyFileSync } from "node:fs";
import {
  candidateDirs, locateDataset, ensureDataset, downloadFile, loadDataset, DatasetNotFoundError, DownloadError, bundledDir,
} from "../../src/data/index.js";
import { tmp } from "./helpers.js";

const FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"];

function fakeDataset(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const f of FILES) copyFileSync(join(bundledDir(), f), join(dir, f));
}

describe("dataset lookup order", () => {
  it("explicit path, then SPIKECUT_DATA, then the cache, then the system location", () => {
    const root = tmp();
    const explicit = join(root, "explicit");
    const env = join(root, "env");
    const cache = join(root, "cache");
    const system = join(root, "system");
    const opts = { path: explicit, env: { SPIKECUT_DATA: env }, cacheRoot: cache, systemDirs: [system] };
    expect(candidateDirs("fashion-mnist", opts).map((c) => c.origin)).toEqual(["path", "env", "env", "cache", "system"]);
    expect(locateDataset("fashion-mnist", opts)).toBeNull();
    fakeDataset(system);
    expect(locateDataset("fashion-mnist", opts)).toEqual({ dir: system, origin: "system" });
    fakeDataset(join(cache, "fashion-mnist"));
    expect(locateDataset("fashion-mnist", opts)).toEqual({ dir: join(cache, "fashion-mnist"), origin: "cache" });
    fakeDataset(join(env, "fashion-mnist"));
    expect(locateDataset("fashion-mnist", opts)!.origin).toBe("env");
    fakeDataset(explicit);
    expect(locateDataset("fashion-mnist", opts)).toEqual({ dir: explicit, origin: "path" });
  });

  it("accepts un-gzipped files and loads a split", async () => {
    const root = tmp();
    fakeDataset(root);
    const ds = await loadDataset("fashion-mnist", "test", { path: root, download: false, cacheRoot: join(root, "c"), systemDirs: [] });
    expect(ds.count).toBe(1000);
  });

  it("offline: a clear error naming the files and where to put them", async () => {
    const root = tmp();
    const err = await ensureDataset("fashion-mnist", { env: {}, cacheRoot: join(root, "cache"), systemDirs: [join(root, "none")], mirror: "http://127.0.0.1:9", progress: false }).catch((e) => e);
    expect(err).toBeInstanceOf(DatasetNotFoundError);
    const msg = String(err.message);
    expect(msg).toMatch(/Fashion-MNIST was not found and could not be downloaded \(http:\/\/127\.0\.0\.1:9\/train-images-idx3-ubyte\.gz: cannot connect/);
    expect(msg).toContain(`Place these files in ${join(root, "cache", "fashion-mnist")}/`);
    for (const f of FILES) expect(msg).toContain(f);
    expect(msg).toContain("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-images-idx3-ubyte.gz");
    expect(existsSync(join(root, "cache", "fashion-mnist", "train-images-idx3-ubyte.gz"))).toBe(false);
    const cifar = await ensureDataset("cifar10", { env: {}, cacheRoot: join(root, "cache"), systemDirs: [], download: false }).catch((e) => e);
    expect(String(cifar.message)).toMatch(/data_batch_1\.bin.*test_batch\.bin.*cifar-10-binary\.tar\.gz/s);
  });
});

describe("downloader (local HTTP server)", () => {
  const payload = new Uint8Array(300_000).map((_, i) => (i * 7919) % 256);
  const sha = createHash("sha256").update(payload).digest("hex");
  let server: Server;
  let base = "";
  const log: { range?: string }[] = [];
  let ignoreRange = false;
  beforeAll(async () => {
    server = createServer((req, res) => {
      log.push({ range: req.headers.range });
      if (req.url === "/missing") {
        res.writeHead(404, { Connection: "close" });
        return res.end();
      }
      const m = /bytes=(\d+)-/.exec(req.headers.range ?? "");
      if (m && !ignoreRange) {
        const start = Number(m[1]);
        res.writeHead(206, { Connection: "close", "Content-Length": payload.length - start, "Content-Range": `bytes ${start}-${payload.length - 1}/${payload.length}` });
        return res.end(Buffer.from(payload.subarray(start)));
      }
      res.writeHead(200, { "Content-Length": payload.length, Connection: "close" });
      res.end(Buffer.from(payload));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("downloads, verifies SHA-256 and reports progress", async () => {
    const d = tmp();
    let last = 0;
    await downloadFile(`${base}/f`, join(d, "f"), { sha256: sha, onProgress: (p) => (last = p.received) });
    expect(new Uint8Array(readFileSync(join(d, "f")))).toEqual(payload);
    expect(last).toBe(payload.length);
    expect(readdirSync(d)).toEqual(["f"]);
  });

  it("resumes a partial download with an HTTP Range request", async () => {
    const d = tmp();
    writeFileSync(join(d, "f.part"), payload.subarray(0, 123_456));
    log.length = 0;
    await downloadFile(`${base}/f`, join(d, "f"), { sha256: sha });
    expect(log[0]!.range).toBe("bytes=123456-");
    expect(new Uint8Array(readFileSync(join(d, "f")))).toEqual(payload);
  });

  it("restarts when the server ignores the Range", async () => {
    const d = tmp();
    writeFileSync(join(d, "f.part"), new Uint8Array(1000).fill(9));
    ignoreRange = true;
    try {
      await downloadFile(`${base}/f`, join(d, "f"), { sha256: sha });
    } finally {
      ignoreRange = false;
    }
    expect(new Uint8Array(readFileSync(join(d, "f")))).toEqual(payload);
  });

  it("deletes a file whose checksum does not match, and reports HTTP errors", async () => {
    const d = tmp();
    await expect(downloadFile(`${base}/f`, join(d, "f"), { sha256: "0".repeat(64) })).rejects.toThrow(/SHA-256 mismatch: expected 0{64}/);
    expect(readdirSync(d)).toEqual([]);
    await expect(downloadFile(`${base}/missing`, join(d, "g"))).rejects.toThrow(DownloadError);
    await expect(downloadFile(`${base}/missing`, join(d, "g"))).rejects.toThrow(/HTTP 404/);
  });
});
