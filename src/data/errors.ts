/** Errors raised by the data layer. Every message names the file (or dataset) and what was wrong. */
import { BinaryFormatError } from "../io/errors.js";

/** A file is not what its format says it should be (wrong magic, truncated record, inconsistent counts). */
export class DataFormatError extends Error {
  readonly file: string;
  readonly problem: string;
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = "DataFormatError";
    this.file = file;
    this.problem = problem;
  }
}

/** Run a low-level binary reader (src/io), rethrowing its format errors as DataFormatError(file, their sentence). */
export function asDataFormat<T>(file: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof BinaryFormatError) throw new DataFormatError(file, e.detail);
    throw e;
  }
}

/** A dataset could not be found anywhere and could not be downloaded; the message says what to place where. */
export class DatasetNotFoundError extends Error {
  readonly dataset: string;
  constructor(dataset: string, message: string) {
    super(message);
    this.name = "DatasetNotFoundError";
    this.dataset = dataset;
  }
}

/** A download failed (network error, HTTP status, checksum mismatch). */
export class DownloadError extends Error {
  readonly url: string;
  constructor(url: string, message: string) {
    super(`${url}: ${message}`);
    this.name = "DownloadError";
    this.url = url;
  }
}
