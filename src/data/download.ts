/**
 * Resumable HTTP(S) download with SHA-256 verification. The file is written to `<dest>.part`; when a
 * `.part` exists, the download resumes with an HTTP Range request (a server answering 200 instead of 206
 * restarts it). Only a complete file whose SHA-256 matches is renamed to `dest`.
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Transform } from "node:stream";
import { DownloadError } from "./errors.js";

export interface DownloadProgress {
  url: string;
  received: number;
  total: number | null;
}

export interface DownloadOptions {
  /** Expected SHA-256 (hex). When given, a mismatch deletes the file and throws. */
  sha256?: string;
  /** Called as bytes arrive. */
  onProgress?: (p: DownloadProgress) => void;
  /** Abort after this many ms without completing (default 10 min). */
  timeoutMs?: number;
  /** Retries after a connection reset or interrupted transfer (default 2). */
  retries?: number;
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  await pipeline(createReadStream(path), h);
  return h.digest("hex");
}

export async function downloadFile(url: string, dest: string, opts: DownloadOptions = {}): Promise<void> {
  // connection resets (a reused keep-alive socket closed by the server, a flaky network) are retried,
  // resuming from what was received so far
  const attempts = 1 + (opts.retries ?? 2);
  for (let a = 1; ; a++) {
    try {
      return await downloadOnce(url, dest, opts);
    } catch (e) {
      const retriable = e instanceof DownloadError && /ECONNRESET|EPIPE|ETIMEDOUT|socket|interrupted/.test(e.message);
      if (!retriable || a >= attempts) throw e;
    }
  }
}

async function downloadOnce(url: string, dest: string, opts: DownloadOptions): Promise<void> {
  mkdirSync(dirname(dest), { recursive: true });
  const part = `${dest}.part`;
  let offset = existsSync(part) ? statSync(part).size : 0;
  const headers: Record<string, string> = {};
  if (offset > 0) headers.Range = `bytes=${offset}-`;
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: AbortSignal.timeout(opts.timeoutMs ?? 600_000), redirect: "follow" });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new DownloadError(url, `cannot connect (${cause?.code ?? cause?.message ?? (e as Error).message})`);
  }
  if (res.status === 416 && offset > 0) {
    // the .part is already complete (or longer than the file): verify below
    await res.body?.cancel();
  } else {
    if (res.status !== 200 && res.status !== 206) {
      await res.body?.cancel();
      throw new DownloadError(url, `HTTP ${res.status} ${res.statusText}`);
    }
    if (res.status === 200 && offset > 0) offset = 0; // server ignored the Range: start over
    const len = res.headers.get("content-length");
    const total = len !== null ? offset + Number(len) : null;
    if (!res.body) throw new DownloadError(url, "empty response body");
    let received = offset;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        received += chunk.length;
        opts.onProgress?.({ url, received, total });
        cb(null, chunk);
      },
    });
    try {
      await pipeline(
        Readable.fromWeb(res.body as import("node:stream/web").ReadableStream),
        counter,
        createWriteStream(part, { flags: offset > 0 ? "a" : "w" }),
      );
    } catch (e) {
      throw new DownloadError(url, `transfer interrupted after ${received} bytes (${(e as Error).message}); run again to resume`);
    }
    if (total !== null && received !== total) {
      throw new DownloadError(url, `transfer ended after ${received} of ${total} bytes; run again to resume`);
    }
  }
  if (opts.sha256) {
    const got = await sha256File(part);
    if (got !== opts.sha256.toLowerCase()) {
      rmSync(part, { force: true });
      throw new DownloadError(url, `SHA-256 mismatch: expected ${opts.sha256}, got ${got} (the partial file was deleted)`);
    }
  }
  renameSync(part, dest);
}
