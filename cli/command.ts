// What every command file exports: its name, help text, flags, and run().
import type { FlagSpecs } from './args.ts';
import type { CommandContext } from './context.ts';
import type { ExitCode } from './errors.ts';

export interface Command {
  name: string;
  /** One line for `archiver --help`. */
  summary: string;
  /** Usage lines without the leading `archiver `. */
  usage: string[];
  /** Paragraphs shown under the usage in `archiver <cmd> --help`. */
  description?: string[];
  flags: FlagSpecs;
  examples: string[];
  run(ctx: CommandContext): Promise<ExitCode>;
}
