// Reads the synthesized template the way the tests ask about it: a function's role policy, flattened references.
import type { Template } from 'aws-cdk-lib/assertions';

export type FunctionId = 'Submit' | 'Submitter' | 'Webhook' | 'Sweeper' | 'Results' | 'Browser';
export const FUNCTION_IDS: readonly FunctionId[] = [
  'Submit',
  'Submitter',
  'Webhook',
  'Sweeper',
  'Results',
  'Browser',
];
/** The functions that run the archiver's services and parse functions/config.ts (the page's function does not). */
export const SERVICE_FUNCTION_IDS: readonly FunctionId[] = FUNCTION_IDS.filter((id) => id !== 'Browser');

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** CloudFormation references as readable strings: Ref → <Id>, GetAtt → <Id.Attr>, Fn::Join joined. */
export function flat(node: unknown): string {
  if (typeof node === 'string') return node;
  if (Array.isArray(node)) return node.map(flat).join(',');
  if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    const join = o['Fn::Join'];
    if (Array.isArray(join)) return (join[1] as unknown[]).map(flat).join(String(join[0]));
    const getAtt = o['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `<${getAtt.map(flat).join('.')}>`;
    if ('Ref' in o) return `<${flat(o.Ref)}>`;
  }
  return JSON.stringify(node);
}

export function resourcesOfType(template: Template, type: string): Record<string, Resource> {
  return template.findResources(type) as Record<string, Resource>;
}

/** The one resource of `type`; throws when there are none or several. */
export function onlyResource(template: Template, type: string): Resource {
  const all = Object.values(resourcesOfType(template, type));
  if (all.length !== 1 || !all[0]) throw new Error(`expected one ${type}, found ${all.length}`);
  return all[0];
}

/**
 * Logical id of the single resource of `type` whose id starts with `prefix`; among several, the one that is
 * `prefix` plus CDK's 8-digit hash (`FunctionsSubmit`, not `FunctionsSubmitter…`).
 */
export function logicalId(template: Template, type: string, prefix: string): string {
  let ids = Object.keys(resourcesOfType(template, type)).filter((id) => id.startsWith(prefix));
  if (ids.length > 1) ids = ids.filter((id) => /^[0-9A-F]{8}$/.test(id.slice(prefix.length)));
  if (ids.length !== 1 || !ids[0])
    throw new Error(`expected one ${type} ${prefix}*, found ${ids.join(', ')}`);
  return ids[0];
}

export function lambdaFunction(
  template: Template,
  id: FunctionId,
): { logicalId: string; resource: Resource } {
  const logical = logicalId(template, 'AWS::Lambda::Function', `Functions${id}`);
  const resource = resourcesOfType(template, 'AWS::Lambda::Function')[logical];
  if (!resource) throw new Error(`no function ${logical}`);
  return { logicalId: logical, resource };
}

export function environmentOf(template: Template, id: FunctionId): Record<string, unknown> {
  const env = lambdaFunction(template, id).resource.Properties.Environment as {
    Variables: Record<string, unknown>;
  };
  return env.Variables;
}

/** The role's logical id and every statement attached to it (inline policies and managed policy ARNs). */
export function roleOf(
  template: Template,
  id: FunctionId,
): { roleId: string; managedPolicies: unknown[]; statements: Statement[] } {
  const roleRef = lambdaFunction(template, id).resource.Properties.Role as { 'Fn::GetAtt': [string, string] };
  const roleId = roleRef['Fn::GetAtt'][0];
  const role = resourcesOfType(template, 'AWS::IAM::Role')[roleId];
  const statements: Statement[] = [];
  for (const policy of Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))) {
    const roles = policy.Properties.Roles as { Ref: string }[];
    if (!roles.some((r) => r.Ref === roleId)) continue;
    statements.push(...(policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
  }
  return { roleId, managedPolicies: (role?.Properties.ManagedPolicyArns as unknown[]) ?? [], statements };
}

/** action → sorted flattened resources, over every Allow statement of the function's role. */
export function grantsOf(template: Template, id: FunctionId): Map<string, string[]> {
  const grants = new Map<string, Set<string>>();
  for (const s of roleOf(template, id).statements) {
    if (s.Effect !== 'Allow') continue;
    const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
    const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
    for (const action of actions) {
      const set = grants.get(action) ?? new Set<string>();
      for (const r of resources) set.add(flat(r));
      grants.set(action, set);
    }
  }
  return new Map([...grants].map(([a, r]) => [a, [...r].sort()]));
}
