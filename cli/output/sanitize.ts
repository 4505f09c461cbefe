// The one place CLI output is made safe for a terminal: control and direction-changing characters become visible escapes.

/**
 * C0 controls but newline, tab and CSV's CRLF (ESC starts terminal sequences, a lone CR rewrites a line), DEL, C1 controls
 * (U+009B is a one-byte CSI), line/paragraph separators and the bidirectional overrides and isolates
 * (text that reads differently from what it is).
 */
const UNSAFE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this module's purpose
  /\r(?!\n)|[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Upstream-controlled text (reasons, artifact names, metadata) reaches the terminal only through here.
 * Each unsafe character becomes `\uXXXX`: visible to a person, and still the same value inside JSON
 * strings (JSON.stringify leaves C1 and bidi characters raw, and they occur only inside strings).
 */
export function sanitize(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * For one cell or one value of human output (tables, summaries): also turns line breaks into escapes, so a
 * value cannot start a fake line of its own. Data output (JSON, CSV) keeps its own quoting instead.
 */
export function oneLine(text: string): string {
  return sanitize(text).replace(/\r?\n/g, (m) => (m === '\n' ? '\\u000a' : '\\u000d\\u000a'));
}
