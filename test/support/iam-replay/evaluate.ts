// Replays recorded AWS calls through a real IAM policy evaluator (@cloud-copilot/iam-simulate).
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { Authorization, RecordedCall } from '../../../local/as-deployed/aws-calls.ts';
import {
  type NamedPolicy,
  type PolicyDocument,
  type ResourcePolicies,
  resourcePolicyFor,
} from './policies.ts';

export type Decision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';

export interface Request {
  /** A role session ARN, or a service principal such as `cloudwatch.amazonaws.com`. */
  principal: string;
  action: string;
  resource: string;
  accountId: string;
  context: Record<string, string | string[]>;
  identityPolicies: readonly NamedPolicy[];
  resourcePolicy?: PolicyDocument | undefined;
}

/** Evaluates one request; a request the evaluator cannot even run (bad policy, unknown action) throws. */
export async function decide(request: Request): Promise<Decision> {
  const result = await runSimulation(
    {
      request: {
        principal: request.principal,
        action: request.action,
        resource: { resource: request.resource, accountId: request.accountId },
        contextVariables: request.context,
      },
      identityPolicies: request.identityPolicies.map((p) => ({ name: p.name, policy: p.policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(request.resourcePolicy && { resourcePolicy: request.resourcePolicy }),
    },
    { simulationMode: 'Strict' },
  );
  if (result.resultType === 'error')
    throw new Error(
      `cannot evaluate ${request.action} on ${request.resource}: ${JSON.stringify(result.errors)}`,
    );
  return result.overallResult;
}

/** A function's identity as IAM sees its calls: the role session Lambda assumes for it. */
export interface Caller {
  roleArn: string;
  functionName: string;
  accountId: string;
  identityPolicies: readonly NamedPolicy[];
}

export function sessionArn(caller: Pick<Caller, 'roleArn' | 'functionName' | 'accountId'>): string {
  const roleName = caller.roleArn.split('/').pop();
  return `arn:aws:sts::${caller.accountId}:assumed-role/${roleName}/${caller.functionName}`;
}

export interface ReplayedAuthorization extends Authorization {
  operation: string;
  decision: Decision;
}

/** The distinct authorizations among recorded calls (the same request made twice is judged once). */
export function distinctAuthorizations(
  calls: readonly RecordedCall[],
): (Authorization & { operation: string })[] {
  const seen = new Map<string, Authorization & { operation: string }>();
  for (const call of calls) {
    for (const authorization of call.authorizations) {
      const key = JSON.stringify([authorization.action, authorization.resource, authorization.context]);
      if (!seen.has(key)) seen.set(key, { ...authorization, operation: call.operation });
    }
  }
  return [...seen.values()];
}

/** Judges each authorization under the caller's identity policies and the resource's policy. */
export async function replay(
  caller: Caller,
  authorizations: readonly (Authorization & { operation: string })[],
  resourcePolicies: ResourcePolicies,
  identityPolicies: readonly NamedPolicy[] = caller.identityPolicies,
): Promise<ReplayedAuthorization[]> {
  const principal = sessionArn(caller);
  return Promise.all(
    authorizations.map(async (authorization) => ({
      ...authorization,
      decision: await decide({
        principal,
        action: authorization.action,
        resource: authorization.resource,
        accountId: caller.accountId,
        context: {
          ...authorization.context,
          'aws:PrincipalArn': caller.roleArn,
          'aws:PrincipalAccount': caller.accountId,
        },
        identityPolicies,
        resourcePolicy: resourcePolicyFor(resourcePolicies, authorization.resource),
      }),
    })),
  );
}
