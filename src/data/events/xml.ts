/** A small XML reader/writer for the AEDAT 4 info node (elements, attributes, text; no DTDs). */
export interface XmlElement {
  tag: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function unescape(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (m, e: string) => {
    if (e[0] === "#") return String.fromCodePoint(e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return ENTITIES[e] ?? m;
  });
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Parses a document and returns its root element; throws Error with the position on malformed input. */
export function parseXml(src: string): XmlElement {
  let i = 0;
  const fail = (msg: string): never => {
    throw new Error(`malformed XML at character ${i}: ${msg}`);
  };
  const skipMisc = () => {
    for (;;) {
      while (i < src.length && /\s/.test(src[i]!)) i++;
      if (src.startsWith("<?", i)) {
        const e = src.indexOf("?>", i);
        if (e < 0) fail("unterminated <?");
        i = e + 2;
      } else if (src.startsWith("<!--", i)) {
        const e = src.indexOf("-->", i);
        if (e < 0) fail("unterminated comment");
        i = e + 3;
      } else if (src.startsWith("<!", i)) {
        const e = src.indexOf(">", i);
        if (e < 0) fail("unterminated <!");
        i = e + 1;
      } else return;
    }
  };
  const parseElement = (): XmlElement => {
    if (src[i] !== "<") fail("expected '<'");
    i++;
    const m = /^[A-Za-z_:][\w:.-]*/.exec(src.slice(i, i + 200));
    if (!m) fail("expected a tag name");
    const tag = m![0];
    i += tag.length;
    const attrs: Record<string, string> = {};
    for (;;) {
      while (i < src.length && /\s/.test(src[i]!)) i++;
      if (src.startsWith("/>", i)) {
        i += 2;
        return { tag, attrs, children: [], text: "" };
      }
      if (src[i] === ">") {
        i++;
        break;
      }
      const am = /^([A-Za-z_:][\w:.-]*)\s*=\s*("([^"]*)"|'([^']*)')/.exec(src.slice(i, i + 4096));
      if (!am) fail(`bad attribute in <${tag}>`);
      attrs[am![1]!] = unescape(am![3] ?? am![4] ?? "");
      i += am![0].length;
    }
    const children: XmlElement[] = [];
    let text = "";
    for (;;) {
      if (i >= src.length) fail(`<${tag}> is not closed`);
      if (src.startsWith("</", i)) {
        const e = src.indexOf(">", i);
        if (e < 0) fail("unterminated end tag");
        const close = src.slice(i + 2, e).trim();
        if (close !== tag) fail(`</${close}> closes <${tag}>`);
        i = e + 1;
        return { tag, attrs, children, text: unescape(text) };
      }
      if (src.startsWith("<!--", i)) {
        const e = src.indexOf("-->", i);
        if (e < 0) fail("unterminated comment");
        i = e + 3;
      } else if (src.startsWith("<![CDATA[", i)) {
        const e = src.indexOf("]]>", i);
        if (e < 0) fail("unterminated CDATA");
        text += src.slice(i + 9, e);
        i = e + 3;
      } else if (src[i] === "<") children.push(parseElement());
      else {
        const e = src.indexOf("<", i);
        text += src.slice(i, e < 0 ? src.length : e);
        i = e < 0 ? src.length : e;
      }
    }
  };
  skipMisc();
  const root = parseElement();
  skipMisc();
  if (i < src.length) fail("content after the root element");
  return root;
}
