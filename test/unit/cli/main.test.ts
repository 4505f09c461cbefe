// The CLI's top level with in-memory streams: help, command lookup around global flags, errors to exit codes.
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../cli/main.ts';

async function run(argv: string[], env: Record<string, string> = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const code = await runCli(argv, {
    stdout,
    stderr,
    stdin: Readable.from([]),
    env,
    signal: new AbortController().signal,
    now: () => Date.parse('2026-11-29T12:00:00Z'),
  });
  return { code, out, err };
}

describe('runCli', () => {
  it('prints the command list on --help and help <command> for one command', async () => {
    const main = await run(['--help']);
    expect(main.code).toBe(0);
    expect(main.out).toContain('Commands:');
    const one = await run(['help', 'export']);
    expect(one.code).toBe(0);
    expect(one.out).toContain('archiver export: ');
    expect(one.out).toContain('--max-pages N');
    const flag = await run(['--api', 'http://x:1', 'list', '--help']);
    expect(flag.code).toBe(0);
    expect(flag.out).toContain('archiver list: ');
  });

  it('exits 1 on unknown commands, unknown flags and bad values, before any request', async () => {
    expect((await run(['nope'])).code).toBe(1);
    expect((await run(['help', 'nope'])).err).toContain('unknown command "nope"');
    const badFormat = await run(['list', '--format', 'xml']);
    expect(badFormat).toMatchObject({
      code: 1,
      err: expect.stringContaining('--format must be table, json or csv'),
    });
    const badTime = await run(['list', '--from', 'last tuesday']);
    expect(badTime.err).toContain('--from: "last tuesday" is not a time');
    const badUrl = await run(['list'], { ARCHIVER_API_URL: 'nonsense' });
    expect(badUrl).toMatchObject({ code: 1, err: expect.stringContaining('is not a URL') });
    const both = await run(['submit', '--input', '{}', '--input-file', 'x.json']);
    expect(both.err).toContain('not both');
    const badJson = await run(['submit', '--input', '{oops']);
    expect(badJson).toMatchObject({ code: 1, err: expect.stringContaining('not valid JSON') });
    const extra = await run(['get', '01M8MBK7CZYSBNNNQ4WA2P5V5X', 'more']);
    expect(extra.err).toContain('unexpected argument "more"');
    const orphan = await run(['reconcile', '--upstream-id', 'x']);
    expect(orphan.err).toContain('--upstream-id needs the job id');
  });
});
