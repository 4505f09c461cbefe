// Who is calling, locally: the same `requestContext.authorizer.iam` shape API Gateway's IAM authorization gives a Lambda.
import { createHash } from 'node:crypto';

/** API Gateway HTTP API (payload 2.0) IAM authorizer context, as recorded in real events. */
export interface IamAuthorizer {
  accessKey: string;
  accountId: string;
  callerId: string;
  cognitoIdentity: null;
  principalOrgId: null;
  userArn: string;
  userId: string;
}

export const LOCAL_ACCOUNT_ID = '000000000000';

/**
 * The token stands in for an IAM identity: one caller per token, never the token itself (a hash prefix
 * cannot be turned back into a credential, and it is the same across restarts).
 */
export function localPrincipalId(token: string | undefined): string {
  if (token === undefined) return 'local-anonymous';
  return `local-${createHash('sha256').update(token).digest('hex').slice(0, 12)}`;
}

export function localIamAuthorizer(token: string | undefined): { iam: IamAuthorizer } {
  const id = localPrincipalId(token);
  return {
    iam: {
      accessKey: 'LOCAL',
      accountId: LOCAL_ACCOUNT_ID,
      callerId: id,
      cognitoIdentity: null,
      principalOrgId: null,
      userArn: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:user/${id}`,
      userId: id,
    },
  };
}
