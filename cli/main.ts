// The CLI's top level: find the command, parse its flags, run it, and turn every error into a message and an exit code.
import { GLOBAL_FLAGS, parseCommandArgs } from './args.ts';
import { COMMANDS, findCommand } from './commands/index.ts';
import { createContext, type Io } from './context.ts';
import { CliError, EXIT } from './errors.ts';
import { commandHelp, mainHelp } from './help.ts';
import { say } from './output/write.ts';

/** Global string flags take a value, so `--api URL list` has its command at index 2, not 1. */
function splitCommand(argv: readonly string[]): { name?: string; rest: string[] } {
  const valueFlags = new Set(
    Object.entries(GLOBAL_FLAGS)
      .filter(([, spec]) => spec.type === 'string')
      .map(([name]) => `--${name}`),
  );
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') break;
    if (valueFlags.has(arg)) {
      i++;
      continue;
    }
    if (!arg.startsWith('-')) return { name: arg, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { rest: [...argv] };
}

export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  try {
    const { name, rest } = splitCommand(argv);
    if (name === undefined || name === 'help') {
      const topic = name === 'help' ? splitCommand(rest).name : undefined;
      const command = topic === undefined ? undefined : findCommand(topic);
      if (topic !== undefined && !command) return unknownCommand(io, topic);
      const asked = name === 'help' || rest.includes('--help') || rest.includes('-h');
      (asked ? io.stdout : io.stderr).write(command ? commandHelp(command) : mainHelp(COMMANDS));
      return asked ? EXIT.ok : EXIT.usage;
    }
    const command = findCommand(name);
    if (!command) return unknownCommand(io, name);
    const { values, positionals } = parseCommandArgs(rest, command.flags);
    if (values.help === true) {
      io.stdout.write(commandHelp(command));
      return EXIT.ok;
    }
    return await command.run(createContext(io, values, positionals));
  } catch (err) {
    return reportError(io, err);
  }
}

function unknownCommand(io: Io, name: string): number {
  say(io.stderr, `archiver: unknown command "${name}"`);
  say(io.stderr, `  commands: ${COMMANDS.map((c) => c.name).join(', ')}; see archiver --help`);
  return EXIT.usage;
}

function reportError(io: Io, err: unknown): number {
  if (err instanceof CliError) {
    say(io.stderr, `archiver: ${err.message}`);
    for (const hint of err.hints) say(io.stderr, `  ${hint}`);
    return err.exitCode;
  }
  // A bug, not the user's doing: show the stack so it can be reported.
  say(
    io.stderr,
    `archiver: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
  );
  return EXIT.usage;
}
