// The HTTP API: every route, its authorization and its function; no CORS; throttling, access logs, the client policy.
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../../lib/constructs/archiver-api.ts';
import { defaultSynth } from '../support/synth.ts';
import {
  type FunctionId,
  flat,
  lambdaFunction,
  logicalId,
  onlyResource,
  resourcesOfType,
} from '../support/template-queries.ts';

const { template } = defaultSynth();
const apiId = logicalId(template, 'AWS::ApiGatewayV2::Api', 'ApiHttpApi');

/** route key → { authorization, function logical id } as deployed. */
function deployedRoutes(): Map<string, { auth: string; fn: string }> {
  const integrations = resourcesOfType(template, 'AWS::ApiGatewayV2::Integration');
  const routes = new Map<string, { auth: string; fn: string }>();
  for (const route of Object.values(resourcesOfType(template, 'AWS::ApiGatewayV2::Route'))) {
    const target = flat(route.Properties.Target); // integrations/<IntegrationId>
    const integrationId = target.replace(/^integrations\/<(.+)>$/, '$1');
    const uri = integrations[integrationId]?.Properties.IntegrationUri as { 'Fn::GetAtt': [string, string] };
    routes.set(String(route.Properties.RouteKey), {
      auth: String(route.Properties.AuthorizationType),
      fn: uri['Fn::GetAtt'][0],
    });
  }
  return routes;
}

const fnId = (id: FunctionId) => lambdaFunction(template, id).logicalId;

describe('routes', () => {
  it('are exactly the routes of the design, each to its function with its authorization', () => {
    expect(Object.fromEntries(deployedRoutes())).toEqual({
      'POST /jobs': { auth: 'AWS_IAM', fn: fnId('Submit') },
      'POST /jobs/track': { auth: 'AWS_IAM', fn: fnId('Submit') },
      'POST /jobs/{jobId}/cancel': { auth: 'AWS_IAM', fn: fnId('Submit') },
      'POST /jobs/{jobId}/reconcile': { auth: 'AWS_IAM', fn: fnId('Submit') },
      'GET /jobs': { auth: 'AWS_IAM', fn: fnId('Results') },
      'GET /jobs/{jobId}': { auth: 'AWS_IAM', fn: fnId('Results') },
      'GET /jobs/{jobId}/result': { auth: 'AWS_IAM', fn: fnId('Results') },
      'GET /jobs/{jobId}/events': { auth: 'AWS_IAM', fn: fnId('Results') },
      'POST /webhooks/{jobId}/{token}': { auth: 'NONE', fn: fnId('Webhook') },
      'GET /health': { auth: 'NONE', fn: fnId('Results') },
      'GET /': { auth: 'NONE', fn: fnId('Browser') },
      'GET /assets/{file}': { auth: 'NONE', fn: fnId('Browser') },
      // Anything else: the browser function's ROUTE_NOT_FOUND, the documented error shape.
      $default: { auth: 'NONE', fn: fnId('Browser') },
    });
  });

  it('puts every /jobs route under IAM and leaves only the webhook, health and the page public', () => {
    for (const [key, { auth }] of deployedRoutes()) {
      expect(auth, key).toBe(key.includes(' /jobs') ? 'AWS_IAM' : 'NONE');
    }
    expect(ROUTES.filter((r) => r.access === 'public').map((r) => r.path)).toEqual([
      '/webhooks/{jobId}/{token}',
      '/health',
      '/',
      '/assets/{file}',
    ]);
  });

  it('sends the page routes and unmatched ones to the browser function only, and nothing else to it', () => {
    const browser = [...deployedRoutes()].filter(([, { fn }]) => fn === fnId('Browser')).map(([key]) => key);
    expect(browser.sort()).toEqual(['$default', 'GET /', 'GET /assets/{file}']);
  });

  it('has no CORS configuration: the page is served by this API, so its signed requests are same-origin', () => {
    const api = onlyResource(template, 'AWS::ApiGatewayV2::Api');
    expect(api.Properties.CorsConfiguration).toBeUndefined();
    const routeKeys = Object.values(resourcesOfType(template, 'AWS::ApiGatewayV2::Route')).map((r) =>
      String(r.Properties.RouteKey),
    );
    expect(routeKeys.filter((key) => key.startsWith('OPTIONS ') || key.startsWith('ANY '))).toEqual([]);
  });

  it('uses Lambda proxy integrations with payload format 2.0', () => {
    const integrations = Object.values(resourcesOfType(template, 'AWS::ApiGatewayV2::Integration'));
    expect(integrations).toHaveLength(4);
    for (const i of integrations) {
      expect(i.Properties).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
    }
  });

  it('lets API Gateway invoke each function only from its own routes', () => {
    const permissions = Object.values(resourcesOfType(template, 'AWS::Lambda::Permission')).filter(
      (p) => p.Properties.Principal === 'apigateway.amazonaws.com',
    );
    // One per route of the design, and one for the $default route.
    expect(permissions).toHaveLength(ROUTES.length + 1);
    for (const p of permissions) expect(flat(p.Properties.SourceArn)).toContain(`<${apiId}>/*/`);
  });
});

describe('stage', () => {
  it('is the auto-deployed $default stage with throttling and JSON access logs', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: { Ref: apiId },
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: {
        DestinationArn: {
          'Fn::GetAtt': [logicalId(template, 'AWS::Logs::LogGroup', 'ApiAccessLogs'), 'Arn'],
        },
        Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"'),
      },
    });
  });

  it('throttles the public webhook route on its own budget, apart from the client routes', () => {
    const [stageId] = Object.keys(resourcesOfType(template, 'AWS::ApiGatewayV2::Stage'));
    const stage = template.toJSON().Resources[stageId ?? ''];
    expect(stage.Properties.RouteSettings).toEqual({
      'POST /webhooks/{jobId}/{token}': { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
    });
    // Route settings name a route key: the stage is deployed only once that route exists.
    const webhookRoute = Object.entries(resourcesOfType(template, 'AWS::ApiGatewayV2::Route')).find(
      ([, r]) => r.Properties.RouteKey === 'POST /webhooks/{jobId}/{token}',
    )?.[0];
    expect(stage.DependsOn).toContain(webhookRoute);
  });

  it('logs the route key, never the path that carries the webhook token', () => {
    const stage = onlyResource(template, 'AWS::ApiGatewayV2::Stage');
    const settings = stage.Properties.AccessLogSettings as { Format: string };
    const format = JSON.parse(settings.Format) as Record<string, string>;
    expect(format.routeKey).toBe('$context.routeKey');
    expect(Object.values(format).some((v) => v.includes('$context.path'))).toBe(false);
    expect(format.userArn).toBe('$context.identity.userArn');
  });

  it('keeps access logs for logRetentionDays', () => {
    const id = logicalId(template, 'AWS::Logs::LogGroup', 'ApiAccessLogs');
    expect(resourcesOfType(template, 'AWS::Logs::LogGroup')[id]?.Properties.RetentionInDays).toBe(365);
  });
});

describe('client policy', () => {
  it('allows execute-api:Invoke on the IAM routes of this API and stage only', () => {
    const policy = onlyResource(template, 'AWS::IAM::ManagedPolicy');
    const document = policy.Properties.PolicyDocument as {
      Statement: { Action: string; Resource: unknown[] }[];
    };
    expect(document.Statement).toHaveLength(1);
    const [statement] = document.Statement;
    expect(statement?.Action).toBe('execute-api:Invoke');
    const resources = (statement?.Resource ?? []).map(flat).map((arn) => arn.replace(/^.*<\w+>\//, ''));
    expect(resources.sort()).toEqual(
      [
        '$default/GET/jobs',
        '$default/GET/jobs/*',
        '$default/GET/jobs/*/result',
        '$default/GET/jobs/*/events',
        '$default/POST/jobs',
        '$default/POST/jobs/*/cancel',
        '$default/POST/jobs/*/reconcile',
        '$default/POST/jobs/track',
      ].sort(),
    );
  });

  it('is an output, next to the API URL and the archive browser URL', () => {
    template.hasOutput('ApiUrl', { Value: { 'Fn::GetAtt': [apiId, 'ApiEndpoint'] } });
    template.hasOutput('ClientPolicyArn', { Value: { Ref: Match.stringLikeRegexp('^ApiClientPolicy') } });
    const outputs = template.findOutputs('BrowserUrl');
    expect(flat(outputs.BrowserUrl?.Value)).toBe(`<${apiId}.ApiEndpoint>/`);
  });
});
