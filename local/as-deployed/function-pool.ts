// Runs one function's bundle as Lambda does: execution environments in their own processes, one invocation each at a time.
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const RUNTIME = fileURLToPath(new URL('./lambda-runtime.mjs', import.meta.url));

export interface FunctionPoolOptions {
  /** The deployed function name (AWS_LAMBDA_FUNCTION_NAME). */
  functionName: string;
  functionArn: string;
  /** The unzipped code folder (LAMBDA_TASK_ROOT). */
  assetDir: string;
  /** The whole environment of the process: nothing is inherited from this one. */
  env: Record<string, string>;
  timeoutMs: number;
  /** Execution environments started at most (Lambda scales out; tests need few). Default 4. */
  maxInstances?: number;
  /** Every line the function writes to stdout or stderr (its CloudWatch log). */
  onLog?: (line: string) => void;
}

/** A function error as Lambda reports it (errorType, errorMessage). */
export class FunctionError extends Error {
  constructor(
    readonly functionName: string,
    readonly errorType: string,
    message: string,
  ) {
    super(`${functionName}: ${errorType}: ${message}`);
    this.name = 'FunctionError';
  }
}

interface RuntimeMessage {
  type: 'ready' | 'init-error' | 'result' | 'error';
  id?: string;
  result?: string;
  error?: { errorType: string; errorMessage: string };
  initMs?: number;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

class ExecutionEnvironment {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  busy = false;
  exited = false;
  /** How long the bundle took to load (Lambda's Init Duration), once ready. */
  initMs: number | undefined;
  private pending: Pending | undefined;

  constructor(
    private readonly options: FunctionPoolOptions,
    onExit: (environment: ExecutionEnvironment) => void,
  ) {
    this.child = fork(RUNTIME, [], {
      cwd: options.assetDir,
      env: options.env,
      // Never the parent's loaders (tsx, vitest): the bundle runs in plain node.
      execArgv: [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      let rest = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) options.onLog?.(line);
      });
    }
    this.ready = new Promise<void>((resolve, reject) => {
      this.child.on('message', (message: RuntimeMessage) => {
        if (message.type === 'ready') {
          this.initMs = message.initMs;
          resolve();
        } else if (message.type === 'init-error')
          reject(
            new FunctionError(options.functionName, 'Runtime.InitError', message.error?.errorMessage ?? ''),
          );
        else this.settle(message);
      });
      this.child.once('exit', (code, signal) => {
        this.exited = true;
        const error = new FunctionError(
          options.functionName,
          'Runtime.ExitError',
          `exited (${code ?? signal})`,
        );
        reject(error);
        this.fail(error);
        onExit(this);
      });
    });
    // Observed through invoke(); an environment that never starts must not be an unhandled rejection.
    this.ready.catch(() => undefined);
  }

  invoke(event: unknown): Promise<unknown> {
    this.busy = true;
    const id = randomUUID();
    return new Promise((resolve, reject) => {
      const { timeoutMs, functionName, functionArn } = this.options;
      const timer = setTimeout(() => {
        // Lambda ends the environment when a function times out; the next invocation starts a fresh one.
        this.exited = true;
        this.fail(
          new FunctionError(
            functionName,
            'Sandbox.Timedout',
            `Task timed out after ${timeoutMs / 1000} seconds`,
          ),
        );
        this.child.kill('SIGKILL');
      }, timeoutMs);
      this.pending = { resolve, reject, timer };
      this.child.send({
        type: 'invoke',
        id,
        event,
        deadlineMs: Date.now() + timeoutMs,
        awsRequestId: id,
        invokedFunctionArn: functionArn,
      });
    });
  }

  private settle(message: RuntimeMessage): void {
    const pending = this.pending;
    if (pending === undefined) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    this.busy = false;
    if (message.type === 'result') pending.resolve(JSON.parse(message.result ?? 'null'));
    else
      pending.reject(
        new FunctionError(
          this.options.functionName,
          message.error?.errorType ?? 'Error',
          message.error?.errorMessage ?? '',
        ),
      );
  }

  private fail(error: Error): void {
    const pending = this.pending;
    if (pending === undefined) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    pending.reject(error);
  }
}

/** A function's execution environments: an idle one takes the invocation, else a new one starts (cold start). */
export class FunctionPool {
  private readonly environments = new Set<ExecutionEnvironment>();
  private readonly waiting: Array<() => void> = [];
  private stopped = false;
  /** Execution environments started so far. */
  coldStarts = 0;

  constructor(readonly options: FunctionPoolOptions) {}

  /** Init durations (ms) of the environments started so far that became ready. */
  readonly initDurations: number[] = [];

  /** Process ids of the running execution environments. */
  pids(): number[] {
    return [...this.environments].flatMap((e) => (e.child.pid === undefined ? [] : [e.child.pid]));
  }

  /** Starts one environment now, so an init failure shows at start rather than on the first request. */
  async warm(): Promise<void> {
    await this.start().ready;
  }

  private track(environment: ExecutionEnvironment): void {
    environment.ready.then(
      () => environment.initMs !== undefined && this.initDurations.push(environment.initMs),
      () => undefined,
    );
  }

  async invoke(event: unknown): Promise<unknown> {
    const environment = await this.acquire();
    try {
      return await environment.invoke(event);
    } finally {
      environment.busy = false;
      this.waiting.shift()?.();
    }
  }

  private start(): ExecutionEnvironment {
    this.coldStarts++;
    const environment = new ExecutionEnvironment(this.options, (gone) => {
      this.environments.delete(gone);
      this.waiting.shift()?.();
    });
    this.environments.add(environment);
    this.track(environment);
    return environment;
  }

  private async acquire(): Promise<ExecutionEnvironment> {
    for (;;) {
      if (this.stopped) throw new FunctionError(this.options.functionName, 'Runtime.Stopped', 'stopped');
      const idle = [...this.environments].find((e) => !e.busy && !e.exited);
      const max = this.options.maxInstances ?? 4;
      const environment = idle ?? (this.environments.size < max ? this.start() : undefined);
      if (environment !== undefined) {
        environment.busy = true;
        await environment.ready;
        return environment;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const exits = [...this.environments].map(
      (e) => new Promise<void>((resolve) => (e.exited ? resolve() : e.child.once('exit', () => resolve()))),
    );
    for (const environment of this.environments) environment.child.kill('SIGTERM');
    for (const wake of this.waiting.splice(0)) wake();
    await Promise.all(exits);
  }
}
