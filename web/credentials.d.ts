// Types of web/credentials.js for the unit tests (the page itself is plain JavaScript).

export interface StoredCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  region?: string;
  /** ISO time, from the pasted CLI output. */
  expiration?: string;
}

export function regionFromHost(host: string | undefined): string;
export function parseCredentialText(text: string | undefined): Partial<StoredCredentials>;
export function credentialProblem(credentials: Partial<StoredCredentials> | undefined): string;
export function isExpired(credentials: Partial<StoredCredentials> | undefined, now?: number): boolean;
export function maskKeyId(accessKeyId: string | undefined): string;
export function loadCredentials(): StoredCredentials | undefined;
export function saveCredentials(credentials: StoredCredentials): void;
export function clearCredentials(): void;
