// Local mode as deployed: the bundles synth wrote, each in its own process with its synthesized environment.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import type { CfnBucket } from 'aws-cdk-lib/aws-s3';
import { EMULATOR_DEFAULT_REGION } from '../../functions/adapters/aws-clients.ts';
import { type Emulator, type EmulatorOptions, startEmulator } from '../emulator/index.ts';
import {
  allSchedules,
  createGateway,
  type Gateway,
  type GatewayRoute,
  type HttpMethod,
  type Schedule,
  startSchedule,
} from '../gateway/index.ts';
import { LOCAL_BUCKET, LOCAL_ENDPOINT_ID, LOCAL_TABLE } from '../stack.ts';
import { type LocalStores, startLocalStores } from '../stores/index.ts';
import { allowBrowserReads } from '../web-server.ts';
import { type EventBridgeServer, type PutEvent, startEventBridgeServer } from './eventbridge-server.ts';
import { FunctionPool } from './function-pool.ts';
import { resolveString, resolveValue } from './intrinsics.ts';
import { LocalAccount } from './local-account.ts';
import { CallRecorder, type RecordingProxy, startRecordingProxy } from './recording-proxy.ts';
import {
  generatedSecret,
  type SecretsManagerServer,
  startSecretsManagerServer,
} from './secrets-manager-server.ts';
import { type FunctionId, type SynthesizedApp, type SynthesizedFunction, synthesizeApp } from './synth.ts';
import { LOOPBACK_CERT_FILE, startTlsFront, type TlsFront } from './tls-front.ts';
import { templateRoutes, templateSchedules } from './wiring.ts';

export { CallRecorder } from './recording-proxy.ts';
export type { FunctionId, SynthesizedApp } from './synth.ts';

/** The account the local deploy pretends to be (the gateway's events carry the same id). */
export const LOCAL_ACCOUNT_ID = '000000000000';

export interface AsDeployedOptions {
  /** Gateway port; 0 (default) picks a free one. */
  port?: number;
  dataDir: string;
  emulator?: EmulatorOptions;
  /** Stack configuration besides the endpoint, e.g. {firstLookSeconds: 0, logLevel: 'warn'}. */
  context?: Record<string, unknown>;
  /** Scheduled rules fire this often instead of their rate; 0 = never by themselves (runNow() only). Default 2 s. */
  scheduleIntervalMs?: number;
  /** Bearer token for the AWS_IAM routes (IAM signs them in AWS). */
  authToken?: string;
  /** Each line a function logs. */
  onLog?: (functionId: FunctionId, line: string) => void;
  /** Each event put on the bus. */
  onEvent?: (event: PutEvent) => void;
  /** Where cdk.out goes (inside the project by default, see synth.ts). */
  cdkOutParent?: string;
}

/** One deployed function, locally. */
export interface DeployedFunction {
  spec: SynthesizedFunction;
  functionName: string;
  roleArn: string;
  /** The environment from the template, intrinsics resolved: exactly the variables CloudFormation would set. */
  environment: Record<string, string>;
  /** The key the function's requests are signed with (its role session). */
  accessKeyId: string;
  pool: FunctionPool;
}

export interface AsDeployedStack {
  url: string;
  app: SynthesizedApp;
  account: LocalAccount;
  emulator: Emulator;
  stores: LocalStores;
  gateway: Gateway;
  functions: Record<FunctionId, DeployedFunction>;
  /** Scheduled rules by logical id; `sweeper` is the one that starts the Sweeper. */
  schedules: Record<string, Schedule<unknown>>;
  sweeper: Schedule<unknown>;
  recorder: CallRecorder;
  secrets: SecretsManagerServer;
  eventBridge: EventBridgeServer;
  /** Handler errors the gateway turned into 5xx. */
  gatewayErrors: string[];
  stop(): Promise<void>;
}

/** Variables that stand in for AWS locally and that Lambda does not set; nothing else differs from the template. */
function localOnlyEnvironment(endpoints: Record<string, string>): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb ?? '',
    AWS_ENDPOINT_URL_S3: endpoints.s3 ?? '',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoints.secretsmanager ?? '',
    AWS_ENDPOINT_URL_EVENTBRIDGE: endpoints.events ?? '',
    // The emulator is served over TLS with a loopback certificate the function must trust.
    NODE_EXTRA_CA_CERTS: LOOPBACK_CERT_FILE,
    // Node 20 here, Node 22 in Lambda: the SDK's end-of-support notice is noise.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** s3rver verifies SigV4 against its account's keys: give it each function's key, so every signature is checked. */
function trustInS3rver(accessKeyId: string, secretAccessKey: string): void {
  const require = createRequire(import.meta.url);
  const account = require('s3rver/lib/models/account.js') as {
    DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void };
  };
  account.DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);
}

/** A role session key: ASIA + the function id, so a recorded call names its caller at a glance. */
const accessKeyFor = (id: FunctionId) => `ASIA${id.toUpperCase()}`.padEnd(20, 'X');

/** Synthesizes the stack, starts the local AWS stand-ins and runs every bundle behind the gateway and schedule. */
export async function startAsDeployedStack(options: AsDeployedOptions): Promise<AsDeployedStack> {
  const region = EMULATOR_DEFAULT_REGION;
  const stopping: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stopping.splice(0).reverse()) await stop().catch(() => undefined);
  };
  try {
    const [stores, emulator] = await Promise.all([
      startLocalStores({
        dataDir: options.dataDir,
        tableName: LOCAL_TABLE,
        bucketName: LOCAL_BUCKET,
        dynamo: 'dynalite',
        dynamoInMemory: true,
      }),
      startEmulator(options.emulator ?? {}),
    ]);
    stopping.push(
      () => stores.stop(),
      () => emulator.stop(),
    );
    await allowBrowserReads(stores, LOCAL_BUCKET);
    const tls: TlsFront = await startTlsFront(emulator.url);
    stopping.push(() => tls.stop());

    const app = synthesizeApp({
      context: { ...options.context, endpoints: { default: `${tls.url}/v2/${LOCAL_ENDPOINT_ID}` } },
      ...(options.cdkOutParent && { parentDir: options.cdkOutParent }),
    });
    stopping.push(() => rm(app.directory, { recursive: true, force: true }));
    const { stack, template } = app;

    // The gateway first: its URL is the API endpoint every function's PUBLIC_BASE_URL points at.
    const byLogicalId = new Map<string, DeployedFunction>();
    const gatewayErrors: string[] = [];
    const routes: GatewayRoute[] = templateRoutes(template).map((route) => {
      const spec = Object.values(app.functions).find((f) => f.logicalId === route.functionLogicalId);
      if (spec === undefined) throw new Error(`route ${route.method} ${route.path}: unknown function`);
      return {
        method: route.method as HttpMethod,
        path: route.path,
        auth: route.iam,
        timeoutMs: spec.timeoutSeconds * 1000,
        memoryLimitMB: spec.memorySize,
        functionName: spec.id,
        handler: async (event) => {
          const fn = byLogicalId.get(route.functionLogicalId);
          if (fn === undefined) throw new Error(`${spec.id} is not running`);
          return (await fn.pool.invoke(event)) as never;
        },
      };
    });
    const gateway = await createGateway({
      routes,
      port: options.port ?? 0,
      ...(options.authToken && { authToken: options.authToken }),
      onError: (error, info) => gatewayErrors.push(`${info.routeKey}: ${String(error)}`),
      accountId: LOCAL_ACCOUNT_ID,
      region,
    });
    stopping.push(() => gateway.stop());

    const account = new LocalAccount(template, {
      stackName: app.stackName,
      region,
      accountId: LOCAL_ACCOUNT_ID,
      names: {
        [stack.getLogicalId(stack.storage.table.node.defaultChild as CfnTable)]: LOCAL_TABLE,
        [stack.getLogicalId(stack.storage.bucket.node.defaultChild as CfnBucket)]: LOCAL_BUCKET,
      },
      apiEndpoint: gateway.url,
    });

    const secrets = await startSecretsManagerServer(
      account.logicalIdsOf('AWS::SecretsManager::Secret').map((id) => {
        const props = account.resource(id).Properties ?? {};
        const generate = props.GenerateSecretString as { PasswordLength?: number } | undefined;
        return {
          arn: resolveString({ 'Fn::GetAtt': [id, 'Arn'] }, account),
          name: account.physicalName(id),
          value:
            props.SecretString !== undefined
              ? resolveString(props.SecretString, account)
              : generatedSecret(generate?.PasswordLength ?? 32),
        };
      }),
    );
    stopping.push(() => secrets.stop());
    const eventBridge = await startEventBridgeServer({
      buses: account.logicalIdsOf('AWS::Events::EventBus').map((id) => account.physicalName(id)),
      region,
      accountId: LOCAL_ACCOUNT_ID,
      ...(options.onEvent && { onEvent: options.onEvent }),
    });
    stopping.push(() => eventBridge.stop());

    const recorder = new CallRecorder();
    const scope = { region, accountId: LOCAL_ACCOUNT_ID, secretArn: (id: string) => secrets.arnOf(id) };
    const targets = {
      dynamodb: stores.dynamoEndpoint,
      s3: stores.s3Endpoint,
      secretsmanager: secrets.endpoint,
      events: eventBridge.endpoint,
    } as const;
    const proxies: Record<string, RecordingProxy> = {};
    for (const [service, target] of Object.entries(targets) as [keyof typeof targets, string][]) {
      proxies[service] = await startRecordingProxy({ service, target, recorder, scope });
      stopping.push(() => proxies[service]?.stop() ?? Promise.resolve());
    }
    const endpoints = Object.fromEntries(
      Object.entries(proxies).map(([service, p]) => [service, p.endpoint]),
    );

    const functions = {} as Record<FunctionId, DeployedFunction>;
    for (const spec of Object.values(app.functions)) {
      const resolved = resolveValue(spec.environment, account, `${spec.id}.Environment`) as Record<
        string,
        unknown
      >;
      const environment = Object.fromEntries(Object.entries(resolved).map(([k, v]) => [k, String(v)]));
      const accessKeyId = accessKeyFor(spec.id);
      const secretAccessKey = randomBytes(20).toString('hex');
      recorder.register(accessKeyId, spec.id);
      trustInS3rver(accessKeyId, secretAccessKey);
      stores.trust({ accessKeyId, secretAccessKey });
      const functionName = account.physicalName(spec.logicalId);
      const logGroup = (account.resource(spec.logicalId).Properties?.LoggingConfig as { LogGroup?: unknown })
        ?.LogGroup;
      const logGroupName =
        logGroup === undefined ? `/aws/lambda/${functionName}` : resolveString(logGroup, account);
      const lambdaEnvironment: Record<string, string> = {
        PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
        LANG: 'en_US.UTF-8',
        TZ: 'UTC',
        _HANDLER: spec.handler,
        LAMBDA_TASK_ROOT: spec.assetDir,
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
        AWS_REGION: region,
        AWS_DEFAULT_REGION: region,
        AWS_LAMBDA_FUNCTION_NAME: functionName,
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memorySize),
        AWS_LAMBDA_LOG_GROUP_NAME: logGroupName,
        AWS_LAMBDA_LOG_STREAM_NAME: `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]local`,
        AWS_ACCESS_KEY_ID: accessKeyId,
        AWS_SECRET_ACCESS_KEY: secretAccessKey,
        AWS_SESSION_TOKEN: `local-session-${spec.id}`,
      };
      const pool = new FunctionPool({
        functionName,
        functionArn: resolveString({ 'Fn::GetAtt': [spec.logicalId, 'Arn'] }, account),
        assetDir: spec.assetDir,
        env: { ...lambdaEnvironment, ...environment, ...localOnlyEnvironment(endpoints) },
        timeoutMs: spec.timeoutSeconds * 1000,
        ...(options.onLog && { onLog: (line: string) => options.onLog?.(spec.id, line) }),
      });
      stopping.push(() => pool.stop());
      functions[spec.id] = {
        spec,
        functionName,
        roleArn: resolveString({ 'Fn::GetAtt': [spec.roleLogicalId, 'Arn'] }, account),
        environment,
        accessKeyId,
        pool,
      };
      byLogicalId.set(spec.logicalId, functions[spec.id]);
    }

    // The operator's step after the first deploy (docs/deploy.md): put the upstream API key in its secret.
    for (const fn of Object.values(functions)) {
      const ids = fn.environment.UPSTREAM_API_KEY_SECRETS;
      for (const secretId of Object.values(ids ? (JSON.parse(ids) as Record<string, string>) : {}))
        secrets.put(secretId, emulator.apiKey);
    }
    // One at a time: each init duration is then that bundle's own, not five sharing two cores.
    for (const fn of Object.values(functions)) await fn.pool.warm();

    const schedules: Record<string, Schedule<unknown>> = {};
    const sweepers: Schedule<unknown>[] = [];
    for (const rule of templateSchedules(template)) {
      const fn = byLogicalId.get(rule.functionLogicalId);
      if (fn === undefined) throw new Error(`rule ${rule.ruleLogicalId}: unknown function`);
      const interval = options.scheduleIntervalMs ?? 2000;
      const schedule = startSchedule({
        // 0: the timer is as good as off (a day); runNow() still invokes.
        intervalMs: interval > 0 ? interval : 86_400_000,
        handler: (event) => fn.pool.invoke(event),
        timeoutMs: fn.spec.timeoutSeconds * 1000,
        functionName: fn.functionName,
        ruleName: account.physicalName(rule.ruleLogicalId),
        region,
        accountId: LOCAL_ACCOUNT_ID,
        onError: (error) => gatewayErrors.push(`schedule ${rule.ruleLogicalId}: ${String(error)}`),
        ...(rule.input && { input: rule.input }),
      });
      stopping.push(() => schedule.stop());
      schedules[rule.ruleLogicalId] = schedule;
      if (fn.spec.id === 'Sweeper') sweepers.push(schedule);
    }
    if (sweepers.length === 0) throw new Error('no scheduled rule starts the Sweeper');
    // One rule per group of due shards: running "the sweeper" runs every group once.
    const sweeper = allSchedules(sweepers);

    return {
      url: gateway.url,
      app,
      account,
      emulator,
      stores,
      gateway,
      functions,
      schedules,
      sweeper,
      recorder,
      secrets,
      eventBridge,
      gatewayErrors,
      stop: async () => {
        // Nothing new comes in, in-flight requests finish, then the functions and the stand-ins go.
        await Promise.all(Object.values(schedules).map((s) => s.stop()));
        await gateway.stop();
        await stopAll();
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
