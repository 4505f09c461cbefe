// `archiver events`: one job's audit trail as JSON lines, for jq, log stores or an audit export.
import { jobIdArg } from '../args.ts';
import type { Command } from '../command.ts';
import { EXIT } from '../errors.ts';
import { eventsJsonl } from '../output/events.ts';
import { write } from '../output/write.ts';

const USAGE = 'events <jobId>';

export const eventsCommand: Command = {
  name: 'events',
  summary: "export a job's audit trail as JSON lines (one event per line, oldest first)",
  usage: [USAGE],
  description: [
    'Reads the trail page by page (GET /jobs/{jobId}/events), so a long trail streams. Repeated events',
    'past their first five come last as one tally line each: {"type":…,"count":N,"firstAt":…,"at":…}.',
  ],
  flags: {},
  examples: [
    'archiver events 01M8MBK7CZYSBNNNQ4WA2P5V5X > trail.jsonl',
    'archiver events 01M8MBK7CZYSBNNNQ4WA2P5V5X | jq -r .type',
  ],
  async run(ctx) {
    const jobId = jobIdArg(ctx.positionals, `archiver ${USAGE}`);
    for await (const events of ctx.api().eventPages(jobId)) await write(ctx.io.stdout, eventsJsonl(events));
    return EXIT.ok;
  },
};
