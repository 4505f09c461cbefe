// What AWS services must be allowed to do for the stack to work: alarms publishing, rules and routes invoking.
import { resolveString } from '../../../local/as-deployed/intrinsics.ts';
import type { LocalAccount } from '../../../local/as-deployed/local-account.ts';
import type { Request } from './evaluate.ts';
import { type ResourcePolicies, resourcePolicyFor } from './policies.ts';

/** A request a service principal makes on the stack's behalf, and why it is needed. */
export interface ServiceDelivery extends Request {
  why: string;
}

const asList = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/**
 * CloudWatch publishing each alarm's actions to its topic (and using the topic's KMS key), as CloudWatch
 * sends it: service principal, aws:SourceArn of the alarm, aws:SourceAccount, over TLS.
 */
export function alarmDeliveries(account: LocalAccount, policies: ResourcePolicies): ServiceDelivery[] {
  const deliveries: ServiceDelivery[] = [];
  for (const alarmId of account.logicalIdsOf('AWS::CloudWatch::Alarm')) {
    const props = account.resource(alarmId).Properties ?? {};
    const alarmArn = resolveString({ 'Fn::GetAtt': [alarmId, 'Arn'] }, account);
    const topics = new Set(
      [
        ...asList(props.AlarmActions),
        ...asList(props.OKActions),
        ...asList(props.InsufficientDataActions),
      ].map((a) => resolveString(a, account)),
    );
    for (const topicArn of topics) {
      if (!topicArn.startsWith('arn:aws:sns:')) continue;
      const context = {
        'aws:SourceArn': alarmArn,
        'aws:SourceAccount': account.accountId,
        'aws:SecureTransport': 'true',
      };
      const base = {
        principal: 'cloudwatch.amazonaws.com',
        accountId: account.accountId,
        identityPolicies: [],
        context,
      };
      deliveries.push({
        ...base,
        why: `alarm ${alarmId} notifies ${topicArn}`,
        action: 'sns:Publish',
        resource: topicArn,
        resourcePolicy: resourcePolicyFor(policies, topicArn),
      });
      const topicId = account
        .logicalIdsOf('AWS::SNS::Topic')
        .find((id) => resolveString({ Ref: id }, account) === topicArn);
      const keyRef = topicId ? account.resource(topicId).Properties?.KmsMasterKeyId : undefined;
      if (keyRef === undefined) continue;
      const keyId = account
        .logicalIdsOf('AWS::KMS::Key')
        .find((id) => JSON.stringify(keyRef).includes(`"${id}"`));
      if (keyId === undefined) throw new Error(`topic ${topicArn}: its key is not in the template`);
      const keyArn = resolveString({ 'Fn::GetAtt': [keyId, 'Arn'] }, account);
      for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) {
        deliveries.push({
          ...base,
          why: `alarm ${alarmId} publishes to the encrypted topic with key ${keyId}`,
          action,
          resource: keyArn,
          resourcePolicy: resourcePolicyFor(policies, keyArn),
        });
      }
    }
  }
  return deliveries;
}

/** EventBridge invoking each rule target (Lambda functions: the function's policy must let the rule in). */
export function ruleDeliveries(account: LocalAccount, policies: ResourcePolicies): ServiceDelivery[] {
  return account.logicalIdsOf('AWS::Events::Rule').flatMap((ruleId) => {
    const props = account.resource(ruleId).Properties ?? {};
    const ruleArn = resolveString({ 'Fn::GetAtt': [ruleId, 'Arn'] }, account);
    return (asList(props.Targets) as { Arn: unknown; RoleArn?: unknown }[]).map((target) => {
      const targetArn = resolveString(target.Arn, account);
      if (target.RoleArn !== undefined || !targetArn.startsWith('arn:aws:lambda:'))
        throw new Error(`rule ${ruleId}: no evaluation for target ${targetArn} yet; add one here`);
      return {
        why: `rule ${ruleId} invokes ${targetArn}`,
        principal: 'events.amazonaws.com',
        action: 'lambda:InvokeFunction',
        resource: targetArn,
        accountId: account.accountId,
        identityPolicies: [],
        context: {
          'aws:SourceArn': ruleArn,
          'aws:SourceAccount': account.accountId,
          'aws:SecureTransport': 'true',
        },
        resourcePolicy: resourcePolicyFor(policies, targetArn),
      };
    });
  });
}

/** API Gateway invoking each route's function, with the route's execute-api source ARN. */
export function routeDeliveries(account: LocalAccount, policies: ResourcePolicies): ServiceDelivery[] {
  const [apiId] = account.logicalIdsOf('AWS::ApiGatewayV2::Api');
  if (apiId === undefined) return [];
  const api = resolveString({ Ref: apiId }, account);
  return account.logicalIdsOf('AWS::ApiGatewayV2::Route').map((routeId) => {
    const props = account.resource(routeId).Properties ?? {};
    const routeKey = String(props.RouteKey);
    // API Gateway names a $default route's invocations `{api}/{stage}/$default`, others `{stage}/{METHOD}{path}`.
    const [method, path] = routeKey === '$default' ? ['$default', ''] : routeKey.split(' ');
    const integrationId = JSON.stringify(props.Target).match(/"Ref":"([^"]+)"/)?.[1] ?? '';
    const functionArn = resolveString(account.resource(integrationId).Properties?.IntegrationUri, account);
    return {
      why: `route ${String(props.RouteKey)} invokes ${functionArn}`,
      principal: 'apigateway.amazonaws.com',
      action: 'lambda:InvokeFunction',
      resource: functionArn,
      accountId: account.accountId,
      identityPolicies: [],
      context: {
        'aws:SourceArn': `arn:aws:execute-api:${account.region}:${account.accountId}:${api}/$default/${method}${path}`,
        'aws:SourceAccount': account.accountId,
        'aws:SecureTransport': 'true',
      },
      resourcePolicy: resourcePolicyFor(policies, functionArn),
    };
  });
}
