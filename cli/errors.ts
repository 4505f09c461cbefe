// Exit codes of the archiver CLI and the one error type that carries them to the top.
/** Documented in docs/cli.md; scripts depend on them, so never renumber. */
export const EXIT = {
  ok: 0,
  usage: 1,
  api: 2,
  notFound: 3,
  unreachable: 4,
  auth: 5,
  jobNotCompleted: 6,
  interrupted: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error meant for the user: its message is printed as is, with optional hint lines, then the process exits. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly hints: readonly string[] = [],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class UsageError extends CliError {
  constructor(message: string, hints: readonly string[] = []) {
    super(message, EXIT.usage, hints);
  }
}

/** The API answered with an error: status and the API's own `{error:{code,message,details}}` when it sent one. */
export class ApiError extends CliError {
  constructor(
    message: string,
    exitCode: ExitCode,
    readonly status: number,
    readonly code: string | undefined,
    readonly details: Record<string, unknown> = {},
    hints: readonly string[] = [],
    /** The answer's Retry-After header, when it had one. */
    readonly retryAfter?: string,
  ) {
    super(message, exitCode, hints);
  }
}

/** Ctrl-C: commands that stop cleanly throw this after printing how to continue. */
export class InterruptedError extends CliError {
  constructor(message = 'interrupted', hints: readonly string[] = []) {
    super(message, EXIT.interrupted, hints);
  }
}
