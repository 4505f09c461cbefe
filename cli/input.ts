// The job input of `submit`: JSON from --input, from --input-file, or from stdin when either is `-`.
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { UsageError } from './errors.ts';

export interface InputSources {
  inline?: string;
  file?: string;
  stdin: Readable;
}

/** The parsed JSON; its shape (an object) is the API's to judge, so its message is the one users see. */
export async function readJobInput(sources: InputSources): Promise<unknown> {
  if (sources.inline !== undefined && sources.file !== undefined)
    throw new UsageError('give the input once: --input or --input-file, not both');
  const from = sources.inline ?? sources.file;
  if (from === undefined)
    throw new UsageError('no job input', [
      `give --input '{"prompt":"..."}', --input-file FILE.json, or --input - to read stdin`,
    ]);
  let text: string;
  let where: string;
  if (from === '-') {
    text = await readAll(sources.stdin);
    where = 'stdin';
  } else if (sources.file !== undefined) {
    text = await readFile(sources.file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read --input-file ${sources.file}: ${err.code ?? err.message}`);
    });
    where = sources.file;
  } else {
    text = from;
    where = '--input';
  }
  if (text.trim() === '') throw new UsageError(`the input from ${where} is empty`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`the input from ${where} is not valid JSON: ${(err as Error).message}`);
  }
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}
