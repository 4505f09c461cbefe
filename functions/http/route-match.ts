// Matching HTTP API route paths ('/jobs/{jobId}/cancel', '/{proxy+}') as API Gateway does: the functions' router and the local gateway share it.

export type Segment =
  | { kind: 'static'; value: string }
  | { kind: 'param'; name: string }
  | { kind: 'greedy'; name: string };

function parseSegment(text: string, isLast: boolean, path: string): Segment {
  const param = /^\{([A-Za-z0-9_.-]+)(\+?)\}$/.exec(text);
  if (param === null) {
    if (text.includes('{') || text.includes('}')) throw new Error(`bad path segment '${text}' in ${path}`);
    return { kind: 'static', value: text };
  }
  const name = param[1] ?? '';
  if (param[2] === '+') {
    if (!isLast) throw new Error(`greedy {${name}+} must be the last segment in ${path}`);
    return { kind: 'greedy', name };
  }
  return { kind: 'param', name };
}

/** The segments of a route path; throws on a malformed one (a greedy segment that is not last, a stray brace). */
export function parseRoutePath(path: string): Segment[] {
  if (!path.startsWith('/')) throw new Error(`route path must start with '/': ${path}`);
  const parts = path.split('/').slice(1);
  return parts.map((part, i) => parseSegment(part, i === parts.length - 1, path));
}

/** Percent-decoding that leaves a malformed escape as it is. */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * The path parameters when `rawPath` (undecoded, without query) matches, else undefined. A path variable
 * never matches an empty segment ('/jobs/' is not '/jobs/{jobId}'). `decode` is applied to what the
 * parameters receive and to what static segments are compared with.
 */
export function matchPath(
  segments: readonly Segment[],
  rawPath: string,
  decode: (segment: string) => string = decodeSegment,
): Record<string, string> | undefined {
  const parts = rawPath.split('/').slice(1);
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    const part = parts[i];
    if (segment === undefined || part === undefined) return undefined;
    if (segment.kind === 'greedy') {
      const rest = parts.slice(i);
      if (rest.join('') === '') return undefined;
      params[segment.name] = rest.map(decode).join('/');
      return params;
    }
    if (segment.kind === 'static') {
      if (decode(part) !== segment.value) return undefined;
    } else {
      if (part === '') return undefined;
      params[segment.name] = decode(part);
    }
  }
  return parts.length === segments.length ? params : undefined;
}

const rank = { static: 0, param: 1, greedy: 2 } as const;

/** Negative when `a` is more specific: static beats {param} beats {greedy+} at the first difference. */
export function comparePaths(a: readonly Segment[], b: readonly Segment[]): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const diff = rank[a[i]?.kind ?? 'greedy'] - rank[b[i]?.kind ?? 'greedy'];
    if (diff !== 0) return diff;
  }
  return 0;
}
