// Every command of the CLI, in the order `archiver --help` lists them.
import type { Command } from '../command.ts';
import { cancelCommand } from './cancel.ts';
import { downloadCommand } from './download.ts';
import { eventsCommand } from './events.ts';
import { exportCommand } from './export.ts';
import { getCommand } from './get.ts';
import { listCommand } from './list.ts';
import { reconcileCommand } from './reconcile.ts';
import { submitCommand } from './submit.ts';
import { trackCommand } from './track.ts';

export const COMMANDS: readonly Command[] = [
  submitCommand,
  trackCommand,
  getCommand,
  eventsCommand,
  downloadCommand,
  listCommand,
  exportCommand,
  cancelCommand,
  reconcileCommand,
];

export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}
