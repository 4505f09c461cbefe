// The as-deployed stand-ins on their own: the SDK's real clients against the local Secrets Manager and EventBridge,
// the intrinsic resolver, and the mapping of wire requests to IAM actions that the replay relies on.
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoAuthorizations, s3Authorizations } from '../../local/as-deployed/aws-calls.ts';
import {
  type EventBridgeServer,
  startEventBridgeServer,
} from '../../local/as-deployed/eventbridge-server.ts';
import { resolveValue, UnresolvedIntrinsicError } from '../../local/as-deployed/intrinsics.ts';
import { LocalAccount } from '../../local/as-deployed/local-account.ts';
import {
  type SecretsManagerServer,
  startSecretsManagerServer,
} from '../../local/as-deployed/secrets-manager-server.ts';

const credentials = { accessKeyId: 'ASIATEST', secretAccessKey: 'test', sessionToken: 'token' };
const ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:Webhook-abcdefabcdef-Xy12Zq';
const scope = { region: 'us-east-1', accountId: '000000000000', secretArn: (id: string) => id };

describe('local Secrets Manager and EventBridge, through the real SDK clients', () => {
  let secrets: SecretsManagerServer;
  let events: EventBridgeServer;
  let sm: SecretsManagerClient;
  let eb: EventBridgeClient;

  beforeAll(async () => {
    secrets = await startSecretsManagerServer([{ arn: ARN, name: 'Webhook-abcdefabcdef', value: 'first' }]);
    events = await startEventBridgeServer({
      buses: ['jobs'],
      region: 'us-east-1',
      accountId: '000000000000',
    });
    sm = new SecretsManagerClient({ endpoint: secrets.endpoint, region: 'us-east-1', credentials });
    eb = new EventBridgeClient({ endpoint: events.endpoint, region: 'us-east-1', credentials });
  });

  afterAll(async () => {
    sm.destroy();
    eb.destroy();
    await secrets.stop();
    await events.stop();
  });

  it('answers GetSecretValue by ARN, name and partial ARN, and a rotated value after put', async () => {
    for (const id of [ARN, 'Webhook-abcdefabcdef', ARN.slice(0, -7)]) {
      const out = await sm.send(new GetSecretValueCommand({ SecretId: id }));
      expect(out.ARN).toBe(ARN);
      expect(out.SecretString).toBe('first');
    }
    secrets.put(ARN, 'second');
    expect((await sm.send(new GetSecretValueCommand({ SecretId: ARN }))).SecretString).toBe('second');
  });

  it('refuses an unknown secret with the SDK’s own ResourceNotFoundException', async () => {
    await expect(sm.send(new GetSecretValueCommand({ SecretId: 'nope' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('accepts PutEvents on a known bus and fails the entry for an unknown one', async () => {
    const out = await eb.send(
      new PutEventsCommand({
        Entries: [
          { EventBusName: 'jobs', Source: 'test', DetailType: 'Job Archived', Detail: '{"jobId":"a"}' },
          { EventBusName: 'other', Source: 'test', DetailType: 'Job Archived', Detail: '{}' },
        ],
      }),
    );
    expect(out.FailedEntryCount).toBe(1);
    expect(out.Entries?.[1]?.ErrorCode).toBe('ResourceNotFoundException');
    expect(events.events.map((e) => [e.eventBusName, e.detail])).toEqual([['jobs', { jobId: 'a' }]]);
  });
});

describe('intrinsic resolution', () => {
  const account = new LocalAccount(
    {
      Resources: {
        Table: { Type: 'AWS::DynamoDB::Table' },
        Bus: { Type: 'AWS::Events::EventBus', Properties: { Name: 'jobs' } },
      },
    },
    { stackName: 'S', region: 'eu-west-1', accountId: '123456789012', names: { Table: 'jobs-table' } },
  );

  it('resolves Ref, GetAtt, Join, Sub, Select and Split to the local names', () => {
    expect(
      resolveValue(
        {
          ref: { Ref: 'Table' },
          arn: { 'Fn::GetAtt': ['Table', 'Arn'] },
          joined: { 'Fn::Join': ['/', [{ 'Fn::GetAtt': ['Table', 'Arn'] }, 'index', 'due']] },
          sub: {
            // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub's own placeholder syntax
            'Fn::Sub': ['${AWS::Region}:${Bus.Name}:${x}:${!Literal}', { x: { Ref: 'AWS::AccountId' } }],
          },
          picked: { 'Fn::Select': [1, { 'Fn::Split': [',', 'a,b,c'] }] },
        },
        account,
      ),
    ).toEqual({
      ref: 'jobs-table',
      arn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/jobs-table',
      joined: 'arn:aws:dynamodb:eu-west-1:123456789012:table/jobs-table/index/due',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: ${!Literal} resolves to this literal text
      sub: 'eu-west-1:jobs:123456789012:${Literal}',
      picked: 'b',
    });
  });

  it('refuses what it cannot resolve instead of passing it through', () => {
    expect(() => resolveValue({ Ref: 'Missing' }, account)).toThrow(UnresolvedIntrinsicError);
    expect(() => resolveValue({ 'Fn::ImportValue': 'x' }, account)).toThrow(UnresolvedIntrinsicError);
  });
});

describe('wire requests to IAM actions', () => {
  const s3 = (method: string, path: string, headers: Record<string, string> = {}, presigned = false) =>
    s3Authorizations(method, new URL(path, 'http://s3.local'), headers, presigned);

  it('maps S3 object calls, multipart included, to the action IAM checks', () => {
    const cases: [string, string, Record<string, string>, string, string][] = [
      ['PUT', '/b/jobs/k.json', {}, 'PutObject', 's3:PutObject'],
      ['POST', '/b/jobs/k.json?uploads', {}, 'CreateMultipartUpload', 's3:PutObject'],
      ['PUT', '/b/jobs/k.json?partNumber=1&uploadId=u', {}, 'UploadPart', 's3:PutObject'],
      ['POST', '/b/jobs/k.json?uploadId=u', {}, 'CompleteMultipartUpload', 's3:PutObject'],
      ['DELETE', '/b/jobs/k.json?uploadId=u', {}, 'AbortMultipartUpload', 's3:AbortMultipartUpload'],
      ['GET', '/b/jobs/k.json', {}, 'GetObject', 's3:GetObject'],
      ['GET', '/b/jobs/k.json?versionId=v', {}, 'GetObject', 's3:GetObjectVersion'],
      ['GET', '/b?list-type=2&prefix=jobs/', {}, 'ListObjects', 's3:ListBucket'],
    ];
    for (const [method, path, headers, operation, action] of cases) {
      const out = s3(method, path, headers);
      expect([out.operation, out.authorizations[0]?.action], `${method} ${path}`).toEqual([
        operation,
        action,
      ]);
    }
    expect(s3('GET', '/b/jobs/a%20b.json').authorizations[0]?.resource).toBe('arn:aws:s3:::b/jobs/a b.json');
  });

  it('adds the permissions a tagged or locked write needs, and says how a request was signed', () => {
    const out = s3(
      'PUT',
      '/b/jobs/k',
      { 'x-amz-tagging': 'a=b', 'x-amz-object-lock-mode': 'GOVERNANCE' },
      true,
    );
    expect(out.authorizations.map((a) => a.action)).toEqual([
      's3:PutObject',
      's3:PutObjectTagging',
      's3:PutObjectRetention',
    ]);
    expect(out.authorizations[0]?.context['s3:authType']).toBe('REST-QUERY-STRING');
    expect(out.authorizations[0]?.context['s3:object-lock-mode']).toBe('GOVERNANCE');
  });

  it('maps DynamoDB calls to the table or index they touch, transactions item by item', () => {
    const call = (target: string, body: unknown) =>
      dynamoAuthorizations(
        { 'x-amz-target': `DynamoDB_20120810.${target}` },
        Buffer.from(JSON.stringify(body)),
        scope,
      );
    expect(call('Query', { TableName: 't', IndexName: 'due' }).authorizations[0]?.resource).toBe(
      'arn:aws:dynamodb:us-east-1:000000000000:table/t/index/due',
    );
    expect(
      call('TransactWriteItems', {
        TransactItems: [{ Put: { TableName: 't' } }, { ConditionCheck: { TableName: 't' } }],
      }).authorizations.map((a) => a.action),
    ).toEqual(['dynamodb:PutItem', 'dynamodb:ConditionCheckItem']);
    expect(
      call('GetItem', { TableName: 't', Key: { pk: { S: 'JOB#1' } } }).authorizations[0]?.context,
    ).toMatchObject({ 'dynamodb:LeadingKeys': ['JOB#1'] });
  });
});
