// Reads the API routes and the schedules out of the synthesized template: which function answers what.
import type { CfnTemplate } from './local-account.ts';

export interface TemplateRoute {
  method: string;
  path: string;
  /** AWS_IAM routes are signed in AWS; locally they take the gateway's optional bearer token. */
  iam: boolean;
  functionLogicalId: string;
  /** The target's constant input, when it has one. */
  input?: Record<string, unknown>;
}

export interface TemplateSchedule {
  ruleLogicalId: string;
  expression: string;
  functionLogicalId: string;
  /** The target's constant input, when it has one. */
  input?: Record<string, unknown>;
}

/** The logical id inside a `{Ref}` / `{Fn::GetAtt}` anywhere in a value. */
function referencedId(value: unknown, kind: 'Ref' | 'Fn::GetAtt'): string | undefined {
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = referencedId(item, kind);
      if (found) return found;
    }
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (kind in record) {
    const arg = record[kind];
    return Array.isArray(arg) ? String(arg[0]) : String(arg).split('.')[0];
  }
  return referencedId(Object.values(record), kind);
}

/** Every HTTP API route with the function its Lambda proxy integration invokes. */
export function templateRoutes(template: CfnTemplate): TemplateRoute[] {
  const routes: TemplateRoute[] = [];
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::ApiGatewayV2::Route') continue;
    const props = resource.Properties ?? {};
    // The local gateway answers unmatched routes itself, with the same ROUTE_NOT_FOUND the $default route gives.
    if (props.RouteKey === '$default') continue;
    const [method = '', path = ''] = String(props.RouteKey).split(' ');
    const integrationId = referencedId(props.Target, 'Ref');
    const integration = integrationId ? template.Resources[integrationId] : undefined;
    const functionLogicalId = referencedId(integration?.Properties?.IntegrationUri, 'Fn::GetAtt');
    if (integration?.Properties?.IntegrationType !== 'AWS_PROXY' || functionLogicalId === undefined)
      throw new Error(`route ${id} (${String(props.RouteKey)}) is not a Lambda proxy integration`);
    routes.push({ method, path, iam: props.AuthorizationType === 'AWS_IAM', functionLogicalId });
  }
  return routes;
}

/** Every scheduled rule's Lambda targets. */
export function templateSchedules(template: CfnTemplate): TemplateSchedule[] {
  return Object.entries(template.Resources).flatMap(([ruleLogicalId, resource]) => {
    if (resource.Type !== 'AWS::Events::Rule' || resource.Properties?.ScheduleExpression === undefined)
      return [];
    const targets = (resource.Properties.Targets ?? []) as { Arn: unknown; Input?: unknown }[];
    return targets.map((target) => {
      const functionLogicalId = referencedId(target.Arn, 'Fn::GetAtt');
      if (functionLogicalId === undefined)
        throw new Error(`rule ${ruleLogicalId}: a target that is not a function`);
      return {
        ruleLogicalId,
        expression: String(resource.Properties?.ScheduleExpression),
        functionLogicalId,
        // A constant input (the sweeper's group) replaces the scheduled event, as EventBridge does.
        ...(typeof target.Input === 'string' && {
          input: JSON.parse(target.Input) as Record<string, unknown>,
        }),
      };
    });
  });
}
