// Resolves CloudFormation intrinsics (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split...) against a local account.

/** What a reference points at: `Ref` and `Fn::GetAtt` answers for every logical id the template declares. */
export interface ReferenceTable {
  /** Pseudo parameters (AWS::Region...) and `Ref` of each logical id. */
  ref(logicalId: string): string | undefined;
  /** `Fn::GetAtt` of a logical id's attribute. */
  attribute(logicalId: string, attribute: string): string | undefined;
}

export class UnresolvedIntrinsicError extends Error {
  override name = 'UnresolvedIntrinsicError';
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Resolves a value to a string; anything that cannot be resolved throws, so nothing half-resolved slips through. */
export function resolveString(value: unknown, refs: ReferenceTable, where = 'value'): string {
  const resolved = resolveValue(value, refs, where);
  if (typeof resolved === 'string') return resolved;
  if (typeof resolved === 'number' || typeof resolved === 'boolean') return String(resolved);
  throw new UnresolvedIntrinsicError(`${where}: resolves to ${JSON.stringify(resolved)}, not a string`);
}

/** Resolves every intrinsic inside a JSON value (policy documents, environment maps, targets). */
export function resolveValue(value: unknown, refs: ReferenceTable, where = 'value'): Json {
  if (Array.isArray(value)) return value.map((item, i) => resolveValue(item, refs, `${where}[${i}]`));
  if (!isObject(value)) return value as Json;
  const keys = Object.keys(value);
  const only = keys.length === 1 ? keys[0] : undefined;
  if (only === 'Ref') return lookup(refs.ref(String(value.Ref)), `Ref ${String(value.Ref)}`, where);
  if (only === 'Fn::GetAtt') {
    const arg = value['Fn::GetAtt'];
    const [id, attribute] = Array.isArray(arg) ? arg.map(String) : String(arg).split(/\.(.*)/s);
    return lookup(refs.attribute(id ?? '', attribute ?? ''), `Fn::GetAtt ${id}.${attribute}`, where);
  }
  if (only === 'Fn::Join') {
    const [separator, parts] = value['Fn::Join'] as [string, unknown];
    const list = resolveValue(parts, refs, where);
    if (!Array.isArray(list)) throw new UnresolvedIntrinsicError(`${where}: Fn::Join of a non-list`);
    return list.map((part) => resolveString(part, refs, where)).join(separator);
  }
  if (only === 'Fn::Select') {
    const [index, list] = value['Fn::Select'] as [unknown, unknown];
    const items = resolveValue(list, refs, where);
    const at = Number(resolveValue(index, refs, where));
    if (!Array.isArray(items) || items[at] === undefined)
      throw new UnresolvedIntrinsicError(`${where}: Fn::Select ${at} out of range`);
    return items[at];
  }
  if (only === 'Fn::Split') {
    const [separator, text] = value['Fn::Split'] as [string, unknown];
    return resolveString(text, refs, where).split(separator);
  }
  if (only === 'Fn::Sub') return substitute(value['Fn::Sub'], refs, where);
  if (only?.startsWith('Fn::') || only === 'Condition')
    throw new UnresolvedIntrinsicError(`${where}: ${only} is not supported here`);
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, resolveValue(v, refs, `${where}.${k}`)]),
  );
}

function lookup(found: string | undefined, what: string, where: string): string {
  if (found === undefined) throw new UnresolvedIntrinsicError(`${where}: cannot resolve ${what}`);
  return found;
}

/** `${Name}`, `${Id.Attribute}` and `${!Literal}`, with an optional variable map. */
function substitute(arg: unknown, refs: ReferenceTable, where: string): string {
  const [template, variables] = Array.isArray(arg)
    ? (arg as [string, Record<string, unknown>])
    : [String(arg), {}];
  return template.replace(/\$\{([^}]*)\}/g, (_, name: string) => {
    if (name.startsWith('!')) return `\${${name.slice(1)}}`;
    if (Object.hasOwn(variables, name)) return resolveString(variables[name], refs, where);
    const dot = name.indexOf('.');
    return dot < 0
      ? lookup(refs.ref(name), `\${${name}}`, where)
      : lookup(refs.attribute(name.slice(0, dot), name.slice(dot + 1)), `\${${name}}`, where);
  });
}
