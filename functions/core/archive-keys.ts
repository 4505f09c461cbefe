// The S3 key layout: jobs/{yyyy}/{mm}/{dd}/{jobId}/..., dated by creation so prefixes spread the load.

export function jobPrefix(jobId: string, createdAt: string): string {
  const d = new Date(createdAt);
  if (Number.isNaN(d.getTime())) throw new Error(`Invalid createdAt ${createdAt}`);
  const yyyy = d.getUTCFullYear().toString().padStart(4, '0');
  const mm = (d.getUTCMonth() + 1).toString().padStart(2, '0');
  const dd = d.getUTCDate().toString().padStart(2, '0');
  return `jobs/${yyyy}/${mm}/${dd}/${jobId}/`;
}

export const inputKey = (jobId: string, createdAt: string) => `${jobPrefix(jobId, createdAt)}input.json`;
export const resultKey = (jobId: string, createdAt: string) => `${jobPrefix(jobId, createdAt)}result.json`;

/** `artifacts/{n}-{name}.{ext}`, with the name reduced to safe characters. */
export function artifactKey(jobId: string, createdAt: string, n: number, name: string, ext: string): string {
  const safe =
    name
      .replace(/[^A-Za-z0-9_-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 64) || 'artifact';
  return `${jobPrefix(jobId, createdAt)}artifacts/${n}-${safe}.${ext}`;
}
