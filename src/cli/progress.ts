/** The CLI's progress bars: src/io/progress.ts, shared with the trainer's data loading and the data layer. */
export { progressBar, type ProgressUpdate } from "../io/progress.js";
