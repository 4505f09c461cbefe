// Types of web/sigv4.js for the unit tests (the page itself is plain JavaScript).

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignInput {
  method: string;
  host: string;
  /** The path as sent (URI-encoded), with its query. */
  path: string;
  body?: string | Uint8Array;
  credentials: AwsCredentials;
  region: string;
  service: string;
  date?: Date;
}

export interface SignedRequest {
  /** The path to send: the query in canonical form. */
  path: string;
  headers: Record<string, string>;
  canonicalRequest: string;
  stringToSign: string;
  signature: string;
}

export const EMPTY_SHA256: string;
export function sha256Hex(data: string | Uint8Array): Promise<string>;
export function encodeRfc3986(text: string): string;
export function canonicalPath(path: string): string;
export function canonicalQuery(query: string): string;
export function amzDate(date: Date): string;
export function signRequest(input: SignInput): Promise<SignedRequest>;
