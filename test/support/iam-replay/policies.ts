// The IAM policies a synthesized template puts in the account: each role's identity policies and every resource policy.
import { resolveString, resolveValue } from '../../../local/as-deployed/intrinsics.ts';
import type { LocalAccount } from '../../../local/as-deployed/local-account.ts';

export interface PolicyDocument {
  Version?: string;
  Statement: Statement[];
}

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: unknown;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

export interface NamedPolicy {
  name: string;
  policy: PolicyDocument;
}

const asList = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

function document(value: unknown, account: LocalAccount, where: string): PolicyDocument {
  const resolved = resolveValue(value, account, where) as unknown as PolicyDocument;
  return { ...resolved, Statement: asList(resolved.Statement) };
}

/** `{Ref: id}` among a list of references (Roles, Topics...). */
const refersTo = (list: unknown, logicalId: string) =>
  asList(list as unknown[]).some((item) => (item as { Ref?: string })?.Ref === logicalId);

/**
 * Every policy attached to a role: AWS::IAM::Policy and customer managed policies naming it, and its inline
 * policies. An AWS managed policy cannot be evaluated from the template, so it is refused.
 */
export function identityPolicies(account: LocalAccount, roleLogicalId: string): NamedPolicy[] {
  const policies: NamedPolicy[] = [];
  for (const [id, resource] of Object.entries(account.template.Resources)) {
    const props = resource.Properties ?? {};
    if (
      (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') &&
      refersTo(props.Roles, roleLogicalId)
    )
      policies.push({ name: id, policy: document(props.PolicyDocument, account, id) });
  }
  const role = account.resource(roleLogicalId).Properties ?? {};
  for (const inline of asList(role.Policies as { PolicyName: string; PolicyDocument: unknown }[]))
    policies.push({
      name: `${roleLogicalId}/${inline.PolicyName}`,
      policy: document(inline.PolicyDocument, account, roleLogicalId),
    });
  for (const arn of asList(role.ManagedPolicyArns as unknown[])) {
    const ref = (arn as { Ref?: string })?.Ref;
    const managed = ref ? account.template.Resources[ref] : undefined;
    if (managed?.Type !== 'AWS::IAM::ManagedPolicy')
      throw new Error(
        `${roleLogicalId}: managed policy ${resolveString(arn, account)} is not in the template`,
      );
    policies.push({
      name: ref ?? '',
      policy: document(managed.Properties?.PolicyDocument, account, ref ?? ''),
    });
  }
  return policies;
}

/** A resource policy by the resource ARN it guards. */
export type ResourcePolicies = Map<string, PolicyDocument>;

function add(policies: ResourcePolicies, arn: string, doc: PolicyDocument): void {
  const existing = policies.get(arn);
  policies.set(arn, { Version: '2012-10-17', Statement: [...(existing?.Statement ?? []), ...doc.Statement] });
}

/**
 * Bucket, topic, key, secret, bus and function policies of the template. Lambda permissions become the
 * function's policy statements, as Lambda itself assembles them.
 */
export function resourcePolicies(account: LocalAccount): ResourcePolicies {
  const policies: ResourcePolicies = new Map();
  const arnOf = (value: unknown) => resolveString(value, account);
  for (const [id, resource] of Object.entries(account.template.Resources)) {
    const props = resource.Properties ?? {};
    switch (resource.Type) {
      case 'AWS::S3::BucketPolicy':
        add(policies, `arn:aws:s3:::${arnOf(props.Bucket)}`, document(props.PolicyDocument, account, id));
        break;
      case 'AWS::SNS::TopicPolicy':
        for (const topic of asList(props.Topics as unknown[]))
          add(policies, arnOf(topic), document(props.PolicyDocument, account, id));
        break;
      case 'AWS::SNS::TopicInlinePolicy':
        add(policies, arnOf(props.TopicArn), document(props.PolicyDocument, account, id));
        break;
      case 'AWS::KMS::Key':
        add(policies, arnOf({ 'Fn::GetAtt': [id, 'Arn'] }), document(props.KeyPolicy, account, id));
        break;
      case 'AWS::SecretsManager::ResourcePolicy':
        add(policies, arnOf(props.SecretId), document(props.ResourcePolicy, account, id));
        break;
      case 'AWS::Events::EventBusPolicy': {
        const bus = arnOf(props.EventBusName ?? 'default');
        const statement = props.Statement ?? {
          Sid: props.StatementId,
          Effect: 'Allow',
          Principal: props.Principal === '*' ? '*' : { AWS: props.Principal },
          Action: props.Action,
          Resource: `arn:aws:events:${account.region}:${account.accountId}:event-bus/${bus}`,
        };
        add(policies, `arn:aws:events:${account.region}:${account.accountId}:event-bus/${bus}`, {
          Statement: [resolveValue(statement, account, id) as unknown as Statement],
        });
        break;
      }
      case 'AWS::Lambda::Permission': {
        const functionArn = arnOf(props.FunctionName);
        const principal = arnOf(props.Principal);
        const condition: Statement['Condition'] = {};
        if (props.SourceArn !== undefined) condition.ArnLike = { 'AWS:SourceArn': arnOf(props.SourceArn) };
        if (props.SourceAccount !== undefined)
          condition.StringEquals = { 'AWS:SourceAccount': arnOf(props.SourceAccount) };
        add(policies, functionArn, {
          Statement: [
            {
              Sid: id,
              Effect: 'Allow',
              Principal: principal.endsWith('.amazonaws.com') ? { Service: principal } : { AWS: principal },
              Action: arnOf(props.Action),
              Resource: functionArn,
              ...(Object.keys(condition).length > 0 && { Condition: condition }),
            },
          ],
        });
        break;
      }
      default:
        break;
    }
  }
  return policies;
}

/** The policy guarding a resource: an object's is its bucket's. */
export function resourcePolicyFor(
  policies: ResourcePolicies,
  resourceArn: string,
): PolicyDocument | undefined {
  const s3Object = /^arn:aws:s3:::([^/]+)\//.exec(resourceArn);
  return policies.get(s3Object ? `arn:aws:s3:::${s3Object[1]}` : resourceArn);
}

/** One action on one resource of one statement: the smallest thing a policy grants. */
export interface Grant {
  policy: string;
  statement: number;
  action: string;
  resource: string;
}

/** Every Allow action × resource of every statement, in order. */
export function grantsOf(policies: readonly NamedPolicy[]): Grant[] {
  return policies.flatMap((named) =>
    named.policy.Statement.flatMap((statement, index) =>
      statement.Effect !== 'Allow'
        ? []
        : asList(statement.Action).flatMap((action) =>
            asList(statement.Resource).map((resource) => ({
              policy: named.name,
              statement: index,
              action,
              resource,
            })),
          ),
    ),
  );
}

/** The policies with one grant taken out: its statement keeps every other action and, for that action, every other resource. */
export function withoutGrant(policies: readonly NamedPolicy[], grant: Grant): NamedPolicy[] {
  return policies.map((named) => {
    if (named.name !== grant.policy) return named;
    const Statement = named.policy.Statement.flatMap((statement, index) => {
      if (index !== grant.statement) return [statement];
      const otherActions = asList(statement.Action).filter((action) => action !== grant.action);
      const otherResources = asList(statement.Resource).filter((resource) => resource !== grant.resource);
      return [
        ...(otherActions.length > 0 ? [{ ...statement, Action: otherActions }] : []),
        ...(otherResources.length > 0
          ? [{ ...statement, Action: grant.action, Resource: otherResources }]
          : []),
      ];
    });
    return { name: named.name, policy: { ...named.policy, Statement } };
  });
}
