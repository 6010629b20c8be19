/** spikecut reports: versioned JSON, Markdown and self-contained HTML with inline SVG charts. */
export * from "./schema.js";
export * from "./build.js";
export * from "./markdown.js";
export * from "./html.js";
export * from "./svg.js";
export * from "./write.js";
