// The one place CLI output is made safe for a terminal: control and direction-changing characters become visible escapes.

/**
 * C0 controls but newline and tab (ESC starts terminal sequences, CR rewrites a line), DEL, C1 controls
 * (U+009B is a one-byte CSI), line/paragraph separators and the bidirectional overrides and isolates
 * (text that reads differently from what it is).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this module's purpose
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Upstream-controlled text (reasons, artifact names, metadata) reaches the terminal only through here.
 * Each unsafe character becomes `\uXXXX`: visible to a person, and still the same value inside JSON
 * strings (JSON.stringify leaves C1 and bidi characters raw, and they occur only inside strings).
 */
export function sanitize(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
