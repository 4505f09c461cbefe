// The bundles synth writes, run as Lambda runs them, through the whole lifecycle; then every AWS call they made,
// replayed through an IAM evaluator against the synthesized policies.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '../../functions/adapters/aws-clients.ts';
import { parseConfig } from '../../functions/config.ts';
import type { PublicJob } from '../../functions/core/results.ts';
import {
  type AsDeployedStack,
  type FunctionId,
  startAsDeployedStack,
} from '../../local/as-deployed/index.ts';
import { LOCAL_BUCKET, LOCAL_ENDPOINT_ID, LOCAL_TABLE } from '../../local/stack.ts';
import { ArchiverApi, download, fingerprint } from '../support/e2e-api.ts';
import { callEmulator, FAST_EMULATOR, removeTempDirs, tempDataDir } from '../support/e2e-stack.ts';
import { type Caller, decide, distinctAuthorizations, replay } from '../support/iam-replay/evaluate.ts';
import {
  grantsOf,
  identityPolicies,
  resourcePolicies,
  withoutGrant,
} from '../support/iam-replay/policies.ts';
import {
  alarmDeliveries,
  routeDeliveries,
  ruleDeliveries,
} from '../support/iam-replay/service-deliveries.ts';

const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
const FUNCTION_IDS: FunctionId[] = ['Submit', 'Webhook', 'Sweeper', 'Results', 'Browser'];

/** Why a finding is no defect of the replay: the call is real but not one a function makes through the SDK. */
const LAMBDA_WRITES_LOGS = 'Lambda itself writes the function log with the role; no SDK call to record';
const ONLY_ON_FAILED_MULTIPART =
  'aborts a multipart upload (bodies over 8 MiB) that failed midway; no failure here';
const UNANNOUNCED_TRAIL =
  'reads the trail of a job its writer left unannounced (a crash between settling and announcing); none here';

/**
 * Grants that no call of this suite needs, each reviewed (`Function action resource`): paths only a crash or a
 * refusal reaches. A grant no call needs that is missing here fails the test (new and unreviewed); so does one
 * listed here that a call needs (stale). Grants no code path needs are not granted (lib/constructs/archiver-function.ts
 * TABLE_ACCESS, GetSecretValue only).
 */
const UNNEEDED_GRANTS: Record<string, string> = {
  ...Object.fromEntries(
    FUNCTION_IDS.flatMap((id) => [
      [`${id} logs:CreateLogStream own log group`, LAMBDA_WRITES_LOGS],
      [`${id} logs:PutLogEvents own log group`, LAMBDA_WRITES_LOGS],
    ]),
  ),
  ...Object.fromEntries(
    (['Submit', 'Webhook', 'Sweeper'] as const).map((id) => [
      `${id} s3:AbortMultipartUpload archive jobs/*`,
      ONLY_ON_FAILED_MULTIPART,
    ]),
  ),
  'Submit dynamodb:DeleteItem jobs table':
    'releases an Idempotency-Key after a submit the upstream certainly refused; not exercised here',
  'Submit dynamodb:Query jobs table':
    'reads the trail of a job a crashed request recorded but never sent, when its retry resumes it; none here',
  'Sweeper dynamodb:GetItem jobs table':
    'reads an item back when a conditional write fails: its own write landed with the answer lost, or a tally retried; none here',
  'Sweeper dynamodb:Query jobs table': UNANNOUNCED_TRAIL,
  // The replay has no SQS: queued submission and its recovery are proven in local mode (submit-queue*,
  // queue-recovery tests), the grants themselves by test/infra/constructs/submit-queue.test.ts.
  'Submit sqs:SendMessage submit queue': 'sends "queue": true jobs and batches; the replay submits none',
  'Sweeper sqs:SendMessage submit queue': 're-sends the message of a job left QUEUED; none here',
  // Sending a keyed job its requests left unsent (core/submit.ts sendRecorded) needs a store fault between the
  // run claim and /run; proven by test/unit/core/submit-chaos-fix.test.ts and the chaos suite.
  'Sweeper s3:GetObject archive jobs/*/input.json':
    'reads back the input of a job its requests left unsent; none here',
  'Sweeper secretsmanager:GetSecretValue webhook secret':
    'signs the callback of a job its requests left unsent, which it sends; none here',
};

/**
 * Grants a call needs only when timing says so: used in some runs, not in others, so either way is right.
 * A webhook that beats Submit's own write finds its job still SUBMITTING and confirms it with /status.
 */
const SOMETIMES_NEEDED = new Set(['Webhook secretsmanager:GetSecretValue API key secret']);

let stack: AsDeployedStack;
let api: ArchiverApi;
const logs: Record<string, string[]> = {};

beforeAll(async () => {
  stack = await startAsDeployedStack({
    dataDir: await tempDataDir(),
    cdkOutParent: ARTIFACTS,
    // Sweeps only when a test asks (runNow), so which path captured a job is never a race.
    scheduleIntervalMs: 0,
    // Stack configuration, not environment overrides: the functions run on exactly what synth wrote.
    context: { firstLookSeconds: 0, lookIntervalSeconds: 1, logLevel: 'warn' },
    emulator: FAST_EMULATOR,
    onLog: (id, line) => {
      const lines = logs[id] ?? [];
      logs[id] = lines;
      lines.push(line);
      if (lines.length > 200) lines.shift();
    },
  });
  api = new ArchiverApi(stack.url);
});

afterAll(async () => {
  await stack?.stop();
  await removeTempDirs();
});

/** What a failing assertion should show: the gateway's errors and the functions' last log lines. */
const diagnostics = () =>
  JSON.stringify({ gatewayErrors: stack.gatewayErrors, logs }, null, 1).slice(0, 4000);

/** The archived object, read straight from the store (not through any function). */
async function storedObject(key: string): Promise<Buffer> {
  const s3 = createS3Client({
    endpoint: stack.stores.s3Endpoint,
    region: stack.stores.region,
    credentials: stack.stores.credentials,
  });
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: LOCAL_BUCKET, Key: key }));
    return Buffer.from((await out.Body?.transformToByteArray()) ?? []);
  } finally {
    s3.destroy();
  }
}

/**
 * Invokes the Sweeper (one scheduled invocation each) until the job is archived: a look that came too early
 * makes the job due again a second later, so keep looking, a bounded number of times.
 */
async function sweepUntilArchived(jobId: string): Promise<void> {
  for (let run = 0; run < 200; run++) {
    await stack.sweeper.runNow();
    if ((await api.view(jobId)).job.state === 'ARCHIVED') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function upstreamIdOf(job: PublicJob): string {
  if (!job.upstreamId) throw new Error(`job ${job.jobId} has no upstream id (${job.state})`);
  return job.upstreamId;
}

describe('the bundles as deployed', () => {
  it('gives every function that reads the configuration an environment that parses', () => {
    for (const id of FUNCTION_IDS) {
      const fn = stack.functions[id];
      const env = fn.environment;
      // Every intrinsic resolved to a plain string: no token, object or unresolved reference left.
      for (const [name, value] of Object.entries(env))
        expect(value, `${id} ${name}`).not.toMatch(/\$\{Token|Fn::|\[object/);
      const bundle = readFileSync(join(fn.spec.assetDir, 'index.mjs'), 'utf8');
      if (!bundle.includes('Invalid configuration')) {
        // A bundle without the configuration parser (the page) is given no resource to reach either.
        expect(
          Object.keys(env).filter((name) => /TABLE|BUCKET|SECRET|BUS/.test(name)),
          id,
        ).toEqual([]);
        continue;
      }
      const config = parseConfig(env);
      expect(config.JOBS_TABLE, id).toBe(LOCAL_TABLE);
      expect(config.ARCHIVE_BUCKET, id).toBe(LOCAL_BUCKET);
      expect(config.PUBLIC_BASE_URL, id).toBe(stack.url);
      expect(config.WEBHOOK_SECRET, id).toBeUndefined();
      expect(config.UPSTREAM_API_KEYS, id).toBeUndefined();
      for (const secretId of [
        config.WEBHOOK_SECRET_ID,
        ...Object.values(config.UPSTREAM_API_KEY_SECRETS ?? {}),
      ]) {
        if (secretId !== undefined) expect(stack.secrets.arnOf(secretId), `${id} secret`).toBe(secretId);
      }
    }
  });

  it('runs each function in processes of its own, started from its asset folder', () => {
    const pids = FUNCTION_IDS.flatMap((id) => stack.functions[id].pool.pids());
    expect(pids.length).toBeGreaterThanOrEqual(FUNCTION_IDS.length);
    expect(new Set(pids).size).toBe(pids.length);
    expect(new Set(FUNCTION_IDS.map((id) => stack.functions[id].spec.assetDir)).size).toBe(
      FUNCTION_IDS.length,
    );
    // Each process holds exactly the environment it was given: nothing leaks in from the test runner.
    for (const id of FUNCTION_IDS) {
      const { pool } = stack.functions[id];
      for (const pid of pool.pids()) {
        const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
        const names = environ.map((entry) => entry.slice(0, entry.indexOf('=')));
        // Node adds its IPC channel's two variables to a forked child.
        const own = names.filter((name) => !name.startsWith('NODE_CHANNEL_'));
        expect(own.sort(), id).toEqual(Object.keys(pool.options.env).sort());
      }
    }
  });

  let webhookJob: PublicJob;
  let sweptJob: PublicJob;

  it('archives a submitted job from its webhook', async () => {
    const submitted = await api.submitOk({ input: { prompt: 'as deployed, by webhook' } });
    const view = await api.archived(submitted.jobId).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${diagnostics()}`);
    });
    expect(view.job.captureSource).toBe('webhook');
    webhookJob = view.job;
    const served = stack.emulator.jobs.statusJson(upstreamIdOf(view.job));
    const { bytes } = await download(view.links.result ?? '');
    expect(bytes.toString('utf8')).toContain(served ?? 'no status served');
  });

  it('has the sweeper capture a job whose webhook was dropped', async () => {
    const submitted = await api.submitOk({
      input: { prompt: 'as deployed, by sweeper', _emulator: { webhook: { drop: true } } },
    });
    await stack.emulator.jobs.waitFor(upstreamIdOf(submitted), 'COMPLETED');
    await sweepUntilArchived(submitted.jobId);
    const view = await api.archived(submitted.jobId);
    expect(view.job.captureSource).toBe('sweeper');
    sweptJob = view.job;
  });

  it('archives a result over the multipart threshold from the Sweeper in parts', async () => {
    const submitted = await api.submitOk({
      input: { handler: 'large', bytes: 9_000_000, _emulator: { webhook: { drop: true } } },
    });
    await stack.emulator.jobs.waitFor(upstreamIdOf(submitted), 'COMPLETED');
    await sweepUntilArchived(submitted.jobId);
    const view = await api.archived(submitted.jobId);
    const operations = new Set(stack.recorder.of('Sweeper').map((c) => c.operation));
    expect([...operations]).toEqual(
      expect.arrayContaining(['CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload']),
    );
    const { bytes } = await download(view.links.result ?? '');
    expect(fingerprint(bytes)).toEqual(fingerprint(await storedObject(view.job.resultKey ?? '')));
  });

  it('answers a sync submit from the Submit bundle alone, and a retried submit with the same job', async () => {
    // Its webhook is dropped, so only the /runsync answer can capture it.
    const sync = await api.submit({
      input: { prompt: 'as deployed, sync', _emulator: { webhook: { drop: true } } },
      sync: true,
    });
    expect(sync.status).toBe(200);
    expect((await api.archived(sync.body.job.jobId)).job.captureSource).toBe('runsync');
    const first = await api.submit({ input: { prompt: 'as deployed, retried' } }, 'as-deployed-retry-1');
    const again = await api.submit({ input: { prompt: 'as deployed, retried' } }, 'as-deployed-retry-1');
    expect(again.body.job.jobId).toBe(first.body.job.jobId);
    await api.archived(first.body.job.jobId);
  });

  it('tracks a job submitted to the upstream directly, and cancels a running one', async () => {
    const direct = await callEmulator(stack.emulator, LOCAL_ENDPOINT_ID, 'run', {
      input: { prompt: 'direct' },
    });
    const upstreamId = (direct.json as { id: string }).id;
    const tracked = await api.track(upstreamId);
    expect(tracked.status).toBeLessThan(300);
    await stack.emulator.jobs.waitFor(upstreamId, 'COMPLETED');
    await sweepUntilArchived(tracked.body.job.jobId);
    await api.archived(tracked.body.job.jobId);

    const long = await api.submitOk({ input: { prompt: 'as deployed, cancelled', durationMs: 600_000 } });
    const cancelled = await api.cancel(long.jobId);
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(stack.emulator.jobs.get(upstreamIdOf(long))?.status).toBe('CANCELLED');
  });

  it('lists jobs by day and by endpoint', async () => {
    const all = await api.list({ limit: '50' });
    expect(all.status).toBe(200);
    expect(all.body.jobs.map((j) => j.jobId)).toEqual(
      expect.arrayContaining([webhookJob.jobId, sweptJob.jobId]),
    );
    const byEndpoint = await api.list({ endpoint: 'default', limit: '50' });
    expect(byEndpoint.status).toBe(200);
    expect(byEndpoint.body.jobs.map((j) => j.jobId)).toContain(webhookJob.jobId);
  });

  it('redirects GET /jobs/{jobId}/result to a presigned download of result.json, byte for byte', async () => {
    for (const job of [webhookJob, sweptJob]) {
      const res = await api.request('GET', `/jobs/${job.jobId}/result`, { redirect: 'manual' });
      expect(res.status).toBe(302);
      const location = res.headers.get('location') ?? '';
      expect(new URL(location).searchParams.get('X-Amz-Credential')).toMatch(/^ASIARESULTS/);
      const { bytes } = await download(location);
      expect(fingerprint(bytes)).toEqual(fingerprint(await storedObject(job.resultKey ?? '')));
    }
  });

  it('puts a Job Archived event on the bus for each capture', () => {
    const archived = stack.eventBridge.events.filter((e) => e.detailType === 'Job Archived');
    const ids = archived.map((e) => (e.detail as { jobId: string }).jobId);
    expect(ids).toEqual(expect.arrayContaining([webhookJob.jobId, sweptJob.jobId]));
    expect(new Set(archived.map((e) => e.source))).toEqual(new Set(['submodel-archiver']));
  });

  it('serves the archive browser page and its assets from the Browser bundle', async () => {
    const page = await fetch(`${stack.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toMatch(/<html/i);
    const asset = /(?:src|href)="(\/assets\/[^"]+)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    expect((await fetch(`${stack.url}${asset}`)).status).toBe(200);
    expect((await fetch(`${stack.url}/health`)).status).toBe(200);
  });
});

/** A resource ARN by what it is to this stack, so the reviewed list reads (and survives renamed logical ids). */
/** `https://sqs.{region}.amazonaws.com/{account}/{name}` → `arn:aws:sqs:{region}:{account}:{name}`. */
function queueArnOf(url: string): string {
  const match = /^https:\/\/sqs\.([^.]+)\.amazonaws\.com\/(\d+)\/(.+)$/.exec(url);
  if (!match) throw new Error(`not a queue URL: ${url}`);
  return `arn:aws:sqs:${match[1]}:${match[2]}:${match[3]}`;
}

function describeResource(arn: string): string {
  const envs = Object.values(stack.functions).map((fn) => fn.environment);
  const apiKeySecrets = envs.flatMap((env) =>
    Object.values(
      env.UPSTREAM_API_KEY_SECRETS
        ? (JSON.parse(env.UPSTREAM_API_KEY_SECRETS) as Record<string, string>)
        : {},
    ),
  );
  const table = /^arn:aws:dynamodb:[^:]+:\d+:table\/([^/]+)(?:\/index\/(.+))?$/.exec(arn);
  if (table?.[1] === LOCAL_TABLE) return table[2] ? `jobs table index ${table[2]}` : 'jobs table';
  if (arn.startsWith(`arn:aws:s3:::${LOCAL_BUCKET}/`))
    return `archive ${arn.slice(`arn:aws:s3:::${LOCAL_BUCKET}/`.length)}`;
  if (arn.includes(':log-group:')) return 'own log group';
  if (envs.some((env) => env.SUBMIT_QUEUE_URL?.endsWith(`/${arn.split(':').pop()}`))) return 'submit queue';
  if (envs.some((env) => env.WEBHOOK_SECRET_ID === arn)) return 'webhook secret';
  if (apiKeySecrets.includes(arn)) return 'API key secret';
  if (envs.some((env) => env.EVENT_BUS_NAME && arn.endsWith(`:event-bus/${env.EVENT_BUS_NAME}`)))
    return 'job events bus';
  return arn;
}

describe('least privilege, by replay', () => {
  const callerOf = (id: FunctionId): Caller => {
    const fn = stack.functions[id];
    return {
      roleArn: fn.roleArn,
      functionName: fn.functionName,
      accountId: stack.account.accountId,
      identityPolicies: identityPolicies(stack.account, fn.spec.roleLogicalId),
    };
  };

  it('recorded every AWS call, each signed by a function', () => {
    expect(stack.recorder.unclassified).toEqual([]);
    expect(stack.recorder.calls.filter((c) => c.caller === 'unknown')).toEqual([]);
    for (const id of ['Submit', 'Webhook', 'Sweeper', 'Results'] as const)
      expect(stack.recorder.of(id).length, id).toBeGreaterThan(0);
    // The page is static: its bundle never calls AWS.
    expect(stack.recorder.of('Browser')).toEqual([]);
    // Presigned downloads count as the Results role's GetObject.
    expect(stack.recorder.of('Results').some((c) => c.presigned && c.operation === 'GetObject')).toBe(true);
  });

  it('allows every recorded call under the synthesized role and resource policies', async () => {
    const policies = resourcePolicies(stack.account);
    for (const id of FUNCTION_IDS) {
      const replayed = await replay(callerOf(id), distinctAuthorizations(stack.recorder.of(id)), policies);
      const denied = replayed.filter((r) => r.decision !== 'Allowed');
      expect(denied.map((d) => `${id} ${d.operation}: ${d.action} ${d.resource} → ${d.decision}`)).toEqual(
        [],
      );
    }
  });

  it("allows the submitter's calls under its own role: Submit's send path (no trail reads) and the queue's", async () => {
    // The replay has no SQS event source, so the Submitter never runs here; it sends with the same code as
    // Submit (core/submit.ts sendJob) and its rate and place items are GetItem/PutItem/UpdateItem on the table.
    const sendPath = distinctAuthorizations(stack.recorder.of('Submit')).filter(
      (a) => a.action !== 'dynamodb:Query',
    );
    const context = sendPath[0]?.context ?? {};
    const queueArn = queueArnOf(stack.functions.Submitter.environment.SUBMIT_QUEUE_URL ?? '');
    const queueCalls = ['ReceiveMessage', 'DeleteMessage', 'ChangeMessageVisibility', 'SendMessage'].map(
      (op) => ({
        operation: op,
        action: `sqs:${op}`,
        resource: queueArn,
        context,
      }),
    );
    expect(sendPath.map((a) => a.action)).toEqual(
      expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 's3:PutObject']),
    );
    const replayed = await replay(
      callerOf('Submitter'),
      [...sendPath, ...queueCalls],
      resourcePolicies(stack.account),
    );
    const denied = replayed.filter((r) => r.decision !== 'Allowed');
    expect(denied.map((d) => `${d.operation}: ${d.action} ${d.resource} → ${d.decision}`)).toEqual([]);
  });

  it('weighs the resource policies too: the same archive calls over plain HTTP are refused by the bucket policy', async () => {
    const policies = resourcePolicies(stack.account);
    const overHttp = distinctAuthorizations(stack.recorder.of('Results'))
      .filter((a) => a.action.startsWith('s3:'))
      .map((a) => ({ ...a, context: { ...a.context, 'aws:SecureTransport': 'false' } }));
    expect(overHttp.length).toBeGreaterThan(0);
    const replayed = await replay(callerOf('Results'), overHttp, policies);
    expect(new Set(replayed.map((r) => r.decision))).toEqual(new Set(['ExplicitlyDenied']));
  });

  it('denies a recorded call for each grant taken away, except the reviewed unneeded ones', async () => {
    const policies = resourcePolicies(stack.account);
    const unneeded: string[] = [];
    for (const id of FUNCTION_IDS) {
      const caller = callerOf(id);
      const authorizations = distinctAuthorizations(stack.recorder.of(id));
      for (const grant of grantsOf(caller.identityPolicies)) {
        const replayed = await replay(
          caller,
          authorizations,
          policies,
          withoutGrant(caller.identityPolicies, grant),
        );
        if (replayed.every((r) => r.decision === 'Allowed'))
          unneeded.push(`${id} ${grant.action} ${describeResource(grant.resource)}`);
      }
    }
    expect(unneeded.filter((grant) => !SOMETIMES_NEEDED.has(grant)).sort()).toEqual(
      Object.keys(UNNEEDED_GRANTS).sort(),
    );
  });

  it('lets EventBridge invoke every rule target and API Gateway every route function', async () => {
    const policies = resourcePolicies(stack.account);
    const deliveries = [
      ...ruleDeliveries(stack.account, policies),
      ...routeDeliveries(stack.account, policies),
    ];
    expect(deliveries.length).toBeGreaterThan(1);
    const refused = [];
    for (const delivery of deliveries) if ((await decide(delivery)) !== 'Allowed') refused.push(delivery.why);
    expect(refused).toEqual([]);
  });

  it('lets CloudWatch publish every alarm to its topic', async () => {
    const policies = resourcePolicies(stack.account);
    const deliveries = alarmDeliveries(stack.account, policies);
    expect(deliveries.length).toBeGreaterThan(0);
    const refused = [];
    for (const delivery of deliveries)
      if ((await decide(delivery)) !== 'Allowed') refused.push(`${delivery.why}: ${delivery.action}`);
    expect(refused).toEqual([]);
  });
});
