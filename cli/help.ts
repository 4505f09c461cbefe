// Help text: the command list (`archiver --help`) and one command's usage, flags and examples (`archiver <cmd> --help`).
import { type FlagSpecs, GLOBAL_FLAGS } from './args.ts';
import type { Command } from './command.ts';

function flagLines(flags: FlagSpecs): string[] {
  const entries = Object.entries(flags).map(([name, spec]) => {
    const short = spec.short ? `-${spec.short}, ` : '    ';
    const value = spec.type === 'string' ? ` ${spec.value ?? 'VALUE'}` : '';
    const repeat = spec.multiple ? ' (repeatable)' : '';
    return [`${short}--${name}${value}`, `${spec.description}${repeat}`] as const;
  });
  const width = Math.max(0, ...entries.map(([left]) => left.length));
  return entries.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
}

export function mainHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'archiver: submit jobs to SubModel/RunPod endpoints through submodel-archiver and read back what it archived.',
    '',
    'Usage: archiver <command> [flags]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Global flags:',
    ...flagLines(GLOBAL_FLAGS),
    '',
    'Exit codes: 0 ok, 1 usage, 2 API error, 3 not found, 4 unreachable, 5 auth/credentials,',
    '            6 job ended other than COMPLETED (--wait), 130 interrupted.',
    '',
    'Run `archiver <command> --help` for a command; docs/cli.md has the details.',
    '',
  ].join('\n');
}

export function commandHelp(command: Command): string {
  return [
    `archiver ${command.name}: ${command.summary}`,
    '',
    'Usage:',
    ...command.usage.map((u) => `  archiver ${u}`),
    ...(command.description?.length ? ['', ...command.description] : []),
    '',
    ...(Object.keys(command.flags).length ? ['Flags:', ...flagLines(command.flags), ''] : []),
    'Global flags:',
    ...flagLines(GLOBAL_FLAGS),
    '',
    'Examples:',
    ...command.examples.map((e) => `  ${e}`),
    '',
  ].join('\n');
}
