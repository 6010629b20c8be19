/**
 * Atomic report writing: every file is rendered in memory first, written to a temporary file in the
 * target directory and renamed into place, so a failure never leaves a half-written report.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { CutoffReport } from "./schema.js";
import { renderMarkdown } from "./markdown.js";
import { renderHtml } from "./html.js";

/** Write one file atomically (temp file in the same directory + rename). */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`);
  try {
    writeFileSync(tmp, content);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Write several files so that either all are renamed into place or none is (best effort on failure). */
export function writeFilesAtomic(files: { path: string; content: string | Uint8Array }[]): void {
  const tmps: { tmp: string; path: string }[] = [];
  try {
    for (const f of files) {
      const dir = dirname(f.path);
      mkdirSync(dir, { recursive: true });
      const tmp = join(dir, `.${basename(f.path)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
      writeFileSync(tmp, f.content);
      tmps.push({ tmp, path: f.path });
    }
    for (const t of tmps) renameSync(t.tmp, t.path);
  } catch (e) {
    for (const t of tmps) rmSync(t.tmp, { force: true });
    throw e;
  }
}

export interface WrittenReport {
  json: string;
  markdown: string;
  html: string;
}

/**
 * Serialise a report as indented JSON with arrays of numbers/strings/nulls kept on one line
 * (non-finite numbers become null).
 */
export function reportToJson(r: CutoffReport): string {
  const ser = (v: unknown, ind: string): string => {
    if (typeof v === "number") return Number.isFinite(v) ? JSON.stringify(v) : "null";
    if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
    const inner = ind + "  ";
    if (Array.isArray(v)) {
      if (v.length === 0) return "[]";
      if (v.every((x) => x === null || typeof x !== "object")) return `[${v.map((x) => ser(x, inner)).join(",")}]`;
      return `[\n${v.map((x) => inner + ser(x, inner)).join(",\n")}\n${ind}]`;
    }
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    if (entries.length === 0) return "{}";
    return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${ser(x, inner)}`).join(",\n")}\n${ind}}`;
  };
  return ser(r, "") + "\n";
}

/** Render and write report.json, report.md and report.html into `dir`. */
export function writeReport(dir: string, r: CutoffReport, baseName = "report"): WrittenReport {
  const out = { json: join(dir, `${baseName}.json`), markdown: join(dir, `${baseName}.md`), html: join(dir, `${baseName}.html`) };
  const files = [
    { path: out.json, content: reportToJson(r) },
    { path: out.markdown, content: renderMarkdown(r) },
    { path: out.html, content: renderHtml(r) },
  ];
  writeFilesAtomic(files);
  return out;
}
