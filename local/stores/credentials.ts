// The key pair local mode's stores accept: made once per data folder, kept there (mode 0600), never printed.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AwsCredentials } from '../../functions/adapters/aws-clients.ts';

export const STORE_CREDENTIALS_FILE = 'store-credentials.json';

function isCredentials(value: unknown): value is AwsCredentials {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.accessKeyId === 'string' && typeof v.secretAccessKey === 'string';
}

/** Reads `${dataDir}/store-credentials.json`, creating it with a fresh random pair when missing or unreadable. */
export function dataFolderCredentials(dataDir: string): AwsCredentials {
  const file = join(dataDir, STORE_CREDENTIALS_FILE);
  if (existsSync(file)) {
    try {
      const saved: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (isCredentials(saved))
        return { accessKeyId: saved.accessKeyId, secretAccessKey: saved.secretAccessKey };
    } catch {
      // rewritten below: a broken file must not lock the owner out of their own data
    }
  }
  mkdirSync(dataDir, { recursive: true });
  const credentials = {
    accessKeyId: `LOCAL${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64url'),
  };
  writeFileSync(file, `${JSON.stringify(credentials)}\n`, { mode: 0o600 });
  return credentials;
}
