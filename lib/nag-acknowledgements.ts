// Every cdk-nag finding this project accepts, each with its reason. Nothing is acknowledged anywhere else.
import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { ArchiverStack } from './archiver-stack.ts';
import { ARCHIVE_PREFIX } from './constructs/archiver-function.ts';

/** Acknowledges the stack's accepted findings, each on the narrowest construct that carries it. */
export function acknowledgeNagFindings(stack: ArchiverStack): void {
  const { api, functions, secrets, storage } = stack;

  for (const route of api.publicRoutes) {
    acknowledge(route, 'AwsSolutions-APIG4', publicRouteReason(route.path));
  }

  if (api.clientPolicy) {
    for (const arn of api.clientRouteArns().map((a) => nagResource(stack, a))) {
      if (!arn.includes('*')) continue;
      acknowledge(
        api.clientPolicy,
        `AwsSolutions-IAM5[Resource::${arn}]`,
        'The * stands for the {jobId} path parameter: an execute-api ARN cannot name a parameter any other way. ' +
          'The method and the rest of the path are fixed.',
      );
    }
  }

  const archiveObjects = nagResource(stack, storage.bucket.arnForObjects(`${ARCHIVE_PREFIX}*`));
  const archiveInputs = nagResource(stack, storage.bucket.arnForObjects(`${ARCHIVE_PREFIX}*/input.json`));
  for (const fn of Object.values(functions.all)) {
    if (fn.role && fn.readsInputs) {
      acknowledge(
        fn.role,
        `AwsSolutions-IAM5[Resource::${archiveInputs}]`,
        "GetObject on the jobs' input.json only (the * is {yyyy}/{mm}/{dd}/{jobId}): the sweeper reads back the " +
          'input of a job its requests left unsent, to send it (functions/core/submit.ts sendRecorded).',
      );
    }
    if (fn.role && fn.archiveAccess) {
      acknowledge(
        fn.role,
        `AwsSolutions-IAM5[Resource::${archiveObjects}]`,
        `Object keys are per job (${ARCHIVE_PREFIX}{yyyy}/{mm}/{dd}/{jobId}/...), so the grant covers the prefix; ` +
          'the actions are PutObject and AbortMultipartUpload (writers) or GetObject (results), never List or Delete.',
      );
    }
    acknowledge(
      fn,
      'AwsSolutions-L1',
      'Node.js 22 on purpose: the runtime code is built and tested for Node 20/22 (docs/architecture.md) and Lambda ' +
        'supports Node 22 into 2027. Move to the next LTS together with the test toolchain.',
    );
  }

  for (const secret of secrets.createdApiKeys) {
    acknowledge(
      secret,
      'AwsSolutions-SMG4',
      'An upstream API key is issued by the upstream provider, not by AWS: there is no rotation function to ' +
        'call. It is replaced by hand with put-secret-value when the provider issues a new key (docs/deploy.md).',
    );
  }
  acknowledge(
    secrets.webhookSecret,
    'AwsSolutions-SMG4',
    'Rotating the webhook HMAC key invalidates the callback URL of every job in flight (up to the retention ' +
      'window), so it is rotated by hand in a quiet period (docs/deploy.md), not on a timer.',
  );
}

const PAGE_REASON =
  'Public on purpose: the archive browser page and its static files (HTML, JS, CSS, an icon), bundled into a ' +
  'function with no permissions; they hold no data. The page reads jobs through the IAM-authorized /jobs ' +
  'routes, signing with the SigV4 credentials its user enters. Route throttling bounds abuse.';

/** Why each route without authorization is public. A new public route without a reason fails synthesis. */
const PUBLIC_ROUTE_REASONS: Readonly<Record<string, string>> = {
  '/webhooks/{jobId}/{token}':
    'Public on purpose: upstream webhooks are unsigned and carry no AWS credentials, so the unguessable HMAC ' +
    'token in /webhooks/{jobId}/{token} authenticates (checked in constant time before anything is read). ' +
    'The route has its own throttling (webhookRateLimit), which bounds abuse without starving the client routes.',
  '/health':
    'Public on purpose: GET /health returns no data, only that the service is up. Route throttling bounds abuse.',
  '/': PAGE_REASON,
  '/assets/{file}': PAGE_REASON,
  $default:
    'Public on purpose: the $default route only answers 404 ROUTE_NOT_FOUND for paths no other route matches, ' +
    'from the browser function, which has no permissions; client routes keep IAM auth. Stage throttling bounds abuse.',
};

/** A route's reason, by its path; the $default route has none. */
function publicRouteReason(path: string | undefined): string {
  const reason = PUBLIC_ROUTE_REASONS[path ?? '$default'];
  if (reason === undefined) throw new Error(`public route ${path} has no AwsSolutions-APIG4 reason`);
  return reason;
}

function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/**
 * A resource ARN as cdk-nag prints it in a finding id: intrinsics flattened, Ref → <Id>, GetAtt → <Id.Attr>.
 * Computed from the same ARN the grant uses, so an acknowledgement cannot drift from its finding.
 */
function nagResource(stack: Stack, arn: string): string {
  const visit = (node: unknown): string => {
    if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
    if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      const join = o['Fn::Join'];
      if (Array.isArray(join)) {
        const [delimiter, items] = join as [string, unknown[]];
        return items.map(visit).join(delimiter);
      }
      const getAtt = o['Fn::GetAtt'];
      if (Array.isArray(getAtt)) return `<${getAtt.map(visit).join('.')}>`;
      if ('Ref' in o) return `<${visit(o.Ref)}>`;
    }
    return JSON.stringify(node);
  };
  return visit(Stack.of(stack).resolve(arn));
}
