// Storage faults through the AWS SDK's own middleware stack, so the real DynamoDB, S3 and SQS clients meet them.
import { DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { SQSServiceException } from '@aws-sdk/client-sqs';
import type {
  DeserializeMiddleware,
  HandlerExecutionContext,
  InitializeMiddleware,
  MetadataBearer,
  MiddlewareStack,
} from '@smithy/types';
import { BROWNOUT, STORAGE_FAULT_RATES } from './options.ts';
import { Dice } from './rng.ts';

export type StorageService = 'dynamodb' | 's3' | 'sqs';

/** The order brownouts take the services in. */
const BROWNOUT_TURNS: readonly StorageService[] = ['dynamodb', 's3', 'sqs'];

export interface StorageFaultCounters {
  /** SDK attempts made (each try of each call). */
  attempts: number;
  /** Attempts answered with a throttling error before reaching the store. */
  throttle: number;
  /** Attempts answered with a 500/503 before reaching the store. */
  serverError: number;
  /** Attempts that reached the store, were applied, and still answered 500. */
  appliedThenError: number;
  /** Calls whose every attempt failed, so the error outlasted the SDK's retries. */
  outlastsRetries: number;
  /** The attempts of those calls. */
  outlastsAttempts: number;
  /** Attempts failed inside a brownout window. */
  brownout: number;
  /** Calls that ended in an error the chaos caused (what the application saw). */
  escaped: number;
  /** Of those, calls whose attempt was applied before the error (a retried conditional write then fails). */
  escapedAfterApplied: number;
}

const emptyCounters = (): StorageFaultCounters => ({
  attempts: 0,
  throttle: 0,
  serverError: 0,
  appliedThenError: 0,
  outlastsRetries: 0,
  outlastsAttempts: 0,
  brownout: 0,
  escaped: 0,
  escapedAfterApplied: 0,
});

/** Makes every call of the clients it guards hang forever from now on: a process frozen or killed. */
export class KillSwitch {
  killed = false;
  kill(): void {
    this.killed = true;
  }
}

/** Never settles: what a call looks like to code that died while it was in flight. */
export const hang = <T>(): Promise<T> => new Promise<T>(() => undefined);

/** Set on every injected error, so the outermost middleware can tell a chaos error from a real one. */
const INJECTED = Symbol('chaos-injected');

interface CallState {
  outlasts: boolean;
  applied: boolean;
}

type Kind = 'throttle' | 'serverError';

/** Error names and status codes as each service sends them; the SDK classifies them by these alone. */
const SHAPES: Record<StorageService, Record<Kind, readonly { name: string; status: number }[]>> = {
  dynamodb: {
    throttle: [
      { name: 'ProvisionedThroughputExceededException', status: 400 },
      { name: 'ThrottlingException', status: 400 },
    ],
    serverError: [
      { name: 'InternalServerError', status: 500 },
      { name: 'ServiceUnavailable', status: 503 },
    ],
  },
  s3: {
    throttle: [{ name: 'SlowDown', status: 503 }],
    serverError: [
      { name: 'InternalError', status: 500 },
      { name: 'ServiceUnavailable', status: 503 },
    ],
  },
  sqs: {
    throttle: [{ name: 'RequestThrottled', status: 400 }],
    serverError: [
      { name: 'InternalError', status: 500 },
      { name: 'ServiceUnavailable', status: 503 },
    ],
  },
};

export interface StorageFaultOptions {
  seed: number;
  rates?: typeof STORAGE_FAULT_RATES;
  brownout?: typeof BROWNOUT;
  /** Start of the brownout schedule (epoch ms). Default: construction time. */
  startedAt?: number;
}

/** A guarded client: anything with the SDK's middleware stack. */
export interface StackHolder {
  middlewareStack: MiddlewareStack<object, MetadataBearer>;
}

export class StorageFaults {
  readonly counters: Record<StorageService, StorageFaultCounters> = {
    dynamodb: emptyCounters(),
    s3: emptyCounters(),
    sqs: emptyCounters(),
  };
  /** Off: calls pass untouched (the clean clients used to verify share nothing with this). */
  enabled = true;
  private readonly dice: Dice;
  private readonly rates: typeof STORAGE_FAULT_RATES;
  private readonly brownout: typeof BROWNOUT;
  private readonly startedAt: number;
  private readonly calls = new WeakMap<HandlerExecutionContext, CallState>();

  constructor(options: StorageFaultOptions) {
    this.dice = new Dice(options.seed, 'storage-faults');
    this.rates = options.rates ?? STORAGE_FAULT_RATES;
    this.brownout = options.brownout ?? BROWNOUT;
    this.startedAt = options.startedAt ?? Date.now();
  }

  /** Brownouts take the stores in turn: the n-th window hits DynamoDB, S3, SQS, DynamoDB... */
  inBrownout(service: StorageService, nowMs = Date.now()): boolean {
    const { everyMs, lastsMs } = this.brownout;
    const since = nowMs - this.startedAt - everyMs / 2;
    if (since < 0) return false;
    const window = Math.floor(since / everyMs);
    const within = since - window * everyMs < lastsMs;
    return within && BROWNOUT_TURNS[window % BROWNOUT_TURNS.length] === service;
  }

  /**
   * Adds the fault middleware to a client: an observer around the whole call (initialize step, outside the
   * SDK's retries) and the injector on each attempt (deserialize step, inside them).
   */
  attach(client: StackHolder, service: StorageService, kill?: KillSwitch): void {
    client.middlewareStack.add(this.observer(service, kill), {
      step: 'initialize',
      name: 'chaosObserver',
      priority: 'high',
    });
    client.middlewareStack.add(this.injector(service, kill), {
      step: 'deserialize',
      name: 'chaosInjector',
      priority: 'high',
    });
  }

  private observer(service: StorageService, kill?: KillSwitch): InitializeMiddleware<object, MetadataBearer> {
    return (next, context) => async (args) => {
      if (kill?.killed) return hang();
      const state: CallState = {
        outlasts: this.enabled && this.dice.chance(this.rates.outlastsRetries),
        applied: false,
      };
      this.calls.set(context, state);
      if (state.outlasts) this.counters[service].outlastsRetries++;
      try {
        return await next(args);
      } catch (error) {
        const counters = this.counters[service];
        if (isInjected(error)) counters.escaped++;
        else if (state.applied) {
          counters.escaped++;
          counters.escapedAfterApplied++;
        }
        throw error;
      }
    };
  }

  private injector(
    service: StorageService,
    kill?: KillSwitch,
  ): DeserializeMiddleware<object, MetadataBearer> {
    return (next, context) => async (args) => {
      if (kill?.killed) return hang();
      const counters = this.counters[service];
      counters.attempts++;
      const state = this.calls.get(context);
      if (this.enabled) {
        if (this.inBrownout(service)) {
          counters.brownout++;
          throw this.error(service, this.dice.chance(0.5) ? 'throttle' : 'serverError');
        }
        if (state?.outlasts) {
          counters.outlastsAttempts++;
          throw this.error(service, 'serverError');
        }
        if (this.dice.chance(this.rates.throttle)) {
          counters.throttle++;
          throw this.error(service, 'throttle');
        }
        if (this.dice.chance(this.rates.serverError)) {
          counters.serverError++;
          throw this.error(service, 'serverError');
        }
      }
      let out: Awaited<ReturnType<typeof next>>;
      try {
        out = await next(args);
      } catch (error) {
        // A dead process never sees the answer, not even a failed one.
        if (kill?.killed) return hang();
        throw error;
      }
      if (kill?.killed) return hang();
      if (this.enabled && this.dice.chance(this.rates.appliedThenError)) {
        counters.appliedThenError++;
        if (state) state.applied = true;
        throw this.error(service, 'serverError');
      }
      return out;
    };
  }

  private error(service: StorageService, kind: Kind): Error {
    const shape = this.dice.pick(SHAPES[service][kind]);
    const options = {
      name: shape.name,
      $fault: shape.status >= 500 ? ('server' as const) : ('client' as const),
      $metadata: { httpStatusCode: shape.status, requestId: `chaos-${this.dice.int(1, 1e9)}` },
      message: `chaos: injected ${shape.name} (${shape.status})`,
    };
    const error =
      service === 'dynamodb'
        ? new DynamoDBServiceException(options)
        : service === 's3'
          ? new S3ServiceException(options)
          : new SQSServiceException(options);
    Object.defineProperty(error, INJECTED, { value: true });
    return error;
  }
}

function isInjected(error: unknown): boolean {
  return typeof error === 'object' && error !== null && INJECTED in error;
}

/** Attempts of one store that failed because of the chaos, of every kind. */
export function totalStorageFaults(counters: StorageFaultCounters): number {
  return (
    counters.throttle +
    counters.serverError +
    counters.appliedThenError +
    counters.brownout +
    counters.outlastsAttempts
  );
}
