/**
 * Temporary directories for the tests, removed when the test file ends.
 *
 * makeTempDir creates a directory under os.tmpdir() and records it; removeTempDirs (run as an afterAll hook of
 * every test file by test/helpers/tmp-setup.ts, the vitest setupFiles entry) removes them all. The setup file
 * runs in each test file's module graph, so a directory made at module top level, in beforeAll or inside a test
 * is removed alike. Its afterAll is registered before the file's own hooks, so (after-hooks run in reverse
 * order) it runs after them.
 *
 * A child process given to trackChild that is still running at that point (a test timed out or failed before
 * awaiting it) is killed and waited for first, so nothing writes into a directory while it is being removed.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dirs = new Set<string>();
const children = new Set<ChildProcess>();
let exitHookSet = false;

/** A new empty directory os.tmpdir()/<prefix>XXXXXX, removed after the current test file. */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  if (!exitHookSet) {
    // a last resort if the file's afterAll never runs (the file failed to load): synchronous, directories only
    exitHookSet = true;
    process.once("exit", removeDirs);
  }
  return dir;
}

const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;

/** Registers a spawned child whose output goes to a temporary directory; returns it unchanged. */
export function trackChild<C extends ChildProcess>(child: C): C {
  if (!exited(child)) {
    children.add(child);
    child.once("exit", () => children.delete(child));
  }
  return child;
}

function removeDirs(): void {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  dirs.clear();
}

/** Kills and awaits the tracked children still running, then removes every directory made by makeTempDir. */
export async function removeTempDirs(): Promise<void> {
  await Promise.all(
    [...children].map(
      (c) =>
        new Promise<void>((done) => {
          if (exited(c)) return done();
          c.once("exit", () => done());
          c.kill("SIGKILL");
        }),
    ),
  );
  children.clear();
  removeDirs();
}
