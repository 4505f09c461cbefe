// The HTTP API: IAM-authorized /jobs routes, the public webhook, health and page routes, throttling and access logs.
import { RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  type CfnStage,
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  HttpRoute,
  HttpRouteKey,
  type HttpStage,
  type IHttpRouteAuthorizer,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface ArchiverApiProps {
  /** Default route throttling: each client route (IAM /jobs routes, health, the page). */
  readonly rateLimit: number;
  readonly burstLimit: number;
  /** The public webhook route's own throttling, so upstream callbacks and clients never share one budget. */
  readonly webhookRateLimit: number;
  readonly webhookBurstLimit: number;
  readonly logRetention: RetentionDays;
}

export interface ApiHandlers {
  readonly submit: IFunction;
  readonly webhook: IFunction;
  readonly results: IFunction;
  readonly browser: IFunction;
}

type Access = 'iam' | 'public';

/** Every route, who may call it, and which function answers. The single source for wiring and tests. */
export const ROUTES: readonly {
  method: HttpMethod;
  path: string;
  handler: keyof ApiHandlers;
  access: Access;
}[] = [
  { method: HttpMethod.POST, path: '/jobs', handler: 'submit', access: 'iam' },
  { method: HttpMethod.POST, path: '/jobs/track', handler: 'submit', access: 'iam' },
  { method: HttpMethod.POST, path: '/jobs/{jobId}/cancel', handler: 'submit', access: 'iam' },
  { method: HttpMethod.POST, path: '/jobs/{jobId}/reconcile', handler: 'submit', access: 'iam' },
  { method: HttpMethod.GET, path: '/jobs', handler: 'results', access: 'iam' },
  { method: HttpMethod.GET, path: '/jobs/{jobId}', handler: 'results', access: 'iam' },
  { method: HttpMethod.GET, path: '/jobs/{jobId}/events', handler: 'results', access: 'iam' },
  { method: HttpMethod.GET, path: '/jobs/{jobId}/result', handler: 'results', access: 'iam' },
  // Upstream webhooks are unsigned and carry no AWS credentials: the HMAC token in the path authenticates.
  { method: HttpMethod.POST, path: '/webhooks/{jobId}/{token}', handler: 'webhook', access: 'public' },
  { method: HttpMethod.GET, path: '/health', handler: 'results', access: 'public' },
  // The archive browser's static files. No data: the page calls the IAM routes above, signing with SigV4.
  { method: HttpMethod.GET, path: '/', handler: 'browser', access: 'public' },
  { method: HttpMethod.GET, path: '/assets/{file}', handler: 'browser', access: 'public' },
];

export class ArchiverApi extends Construct {
  readonly httpApi: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;
  /** Routes without authorization, for their cdk-nag acknowledgement. */
  readonly publicRoutes: HttpRoute[] = [];
  private readonly webhookThrottle: { rateLimit: number; burstLimit: number };
  /** Attach to the users and roles that call the /jobs routes; created by connect(). */
  clientPolicy?: ManagedPolicy;

  constructor(scope: Construct, id: string, props: ArchiverApiProps) {
    super(scope, id);
    this.webhookThrottle = { rateLimit: props.webhookRateLimit, burstLimit: props.webhookBurstLimit };
    this.httpApi = new HttpApi(this, 'HttpApi', {
      description: 'submodel-archiver: submit jobs, receive upstream webhooks, read archived results',
      // The stage is added below with throttling and access logs, which the default stage cannot take.
      createDefaultStage: false,
    });
    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = this.httpApi.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimit, burstLimit: props.burstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
  }

  /** Base URL without a trailing slash; a token until deploy. */
  get url(): string {
    return this.httpApi.apiEndpoint;
  }

  /**
   * The archive browser. Served by this API, so the page and the /jobs routes share one origin: its signed
   * requests need no CORS.
   */
  get browserUrl(): string {
    return `${this.httpApi.apiEndpoint}/`;
  }

  /** Adds every route of ROUTES with its integration and authorization, and the client policy. */
  connect(handlers: ApiHandlers): void {
    const integrations = {
      submit: new HttpLambdaIntegration('Submit', handlers.submit),
      webhook: new HttpLambdaIntegration('Webhook', handlers.webhook),
      results: new HttpLambdaIntegration('Results', handlers.results),
      browser: new HttpLambdaIntegration('Browser', handlers.browser),
    };
    const authorizers: Record<Access, IHttpRouteAuthorizer> = {
      iam: new HttpIamAuthorizer(),
      public: new HttpNoneAuthorizer(),
    };
    for (const route of ROUTES) {
      const [created] = this.httpApi.addRoutes({
        path: route.path,
        methods: [route.method],
        integration: integrations[route.handler],
        authorizer: authorizers[route.access],
      });
      if (created && route.access === 'public') this.publicRoutes.push(created);
      if (created && route.handler === 'webhook') {
        this.throttleRoute(created, `${route.method} ${route.path}`, this.webhookThrottle);
      }
    }
    // Any other method and path: the browser function answers the documented ROUTE_NOT_FOUND error, as local
    // mode does, instead of API Gateway's own `{"message":"Not Found"}`. It holds no permissions at all.
    this.publicRoutes.push(
      new HttpRoute(this, 'DefaultRoute', {
        httpApi: this.httpApi,
        routeKey: HttpRouteKey.DEFAULT,
        integration: integrations.browser,
        authorizer: authorizers.public,
      }),
    );
    this.clientPolicy = new ManagedPolicy(this, 'ClientPolicy', {
      description: 'Call the submodel-archiver /jobs routes (SigV4, service execute-api)',
      statements: [
        new PolicyStatement({ actions: ['execute-api:Invoke'], resources: this.clientRouteArns() }),
      ],
    });
  }

  /** Route-level throttling for one route; the stage must be deployed after the route its settings name. */
  private throttleRoute(
    route: HttpRoute,
    routeKey: string,
    limits: { rateLimit: number; burstLimit: number },
  ): void {
    const stage = this.stage.node.defaultChild as CfnStage;
    // RouteSettings is a plain JSON map in the L1: CDK passes it through, so the keys are CloudFormation's own.
    const existing = (stage.routeSettings ?? {}) as Record<string, unknown>;
    stage.routeSettings = {
      ...existing,
      [routeKey]: { ThrottlingRateLimit: limits.rateLimit, ThrottlingBurstLimit: limits.burstLimit },
    };
    this.stage.node.addDependency(route);
  }

  /** execute-api ARNs of the IAM routes; path parameters become `*`, the only form such an ARN accepts. */
  clientRouteArns(): string[] {
    return ROUTES.filter((r) => r.access === 'iam').map((r) =>
      this.httpApi.arnForExecuteApi(r.method, r.path.replace(/\{[^}]+\}/g, '*'), '$default'),
    );
  }
}

/**
 * One JSON line per request. The route key, not the path: webhook paths carry the callback token.
 * userArn shows which IAM principal called a /jobs route.
 */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  routeKey: '$context.routeKey',
  status: '$context.status',
  sourceIp: '$context.identity.sourceIp',
  userArn: '$context.identity.userArn',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  error: '$context.error.message',
};
