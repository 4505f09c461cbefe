// Structured JSON logs, one line per entry, with secrets redacted (core/redaction.ts) before they are written.
import type { Logger } from '../core/ports.ts';
import { redactValue } from '../core/redaction.ts';

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;

export interface JsonLoggerOptions {
  level: LogLevel;
  service: string;
  write?: (line: string) => void;
}

/** A Logger writing JSON lines; `child` adds fields (the job id, the request id) to every line. */
export class JsonLogger implements Logger {
  constructor(
    private readonly options: JsonLoggerOptions,
    private readonly fields: Record<string, unknown> = {},
  ) {}

  child(fields: Record<string, unknown>): JsonLogger {
    return new JsonLogger(this.options, { ...this.fields, ...fields });
  }

  debug(message: string, fields?: Record<string, unknown>) {
    this.log('debug', message, fields);
  }
  info(message: string, fields?: Record<string, unknown>) {
    this.log('info', message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>) {
    this.log('warn', message, fields);
  }
  error(message: string, fields?: Record<string, unknown>) {
    this.log('error', message, fields);
  }

  private log(level: Exclude<LogLevel, 'silent'>, message: string, fields?: Record<string, unknown>) {
    if (LEVELS[level] < LEVELS[this.options.level]) return;
    const entry = redactValue({
      level: level.toUpperCase(),
      timestamp: new Date().toISOString(),
      service: this.options.service,
      message,
      ...this.fields,
      ...fields,
    });
    (this.options.write ?? ((line: string) => process.stdout.write(`${line}\n`)))(JSON.stringify(entry));
  }
}
