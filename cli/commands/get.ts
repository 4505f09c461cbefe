// `archiver get`: one job as a readable summary (with its audit trail on --events) or as JSON.
import { boolFlag, jobIdArg } from '../args.ts';
import type { Command } from '../command.ts';
import { EXIT } from '../errors.ts';
import { eventsJsonl, eventsTable } from '../output/events.ts';
import { jobSummary } from '../output/job-summary.ts';
import { write, writeLine } from '../output/write.ts';

const USAGE = 'get <jobId> [--events] [--json]';

export const getCommand: Command = {
  name: 'get',
  summary: 'show a job: state, times, archive keys, artifacts, tags (--events: audit trail)',
  usage: [USAGE],
  description: [
    '--json prints the API answer as is: {job, events, links} with presigned download URLs.',
    '--events --json prints the audit trail alone as JSON lines, like `archiver events`.',
  ],
  flags: {
    events: { type: 'boolean', description: "also print the job's audit trail" },
    json: { type: 'boolean', description: 'print JSON (with --events: JSON lines of the events)' },
  },
  examples: [
    'archiver get 01M8MBK7CZYSBNNNQ4WA2P5V5X',
    'archiver get 01M8MBK7CZYSBNNNQ4WA2P5V5X --events',
    'archiver get 01M8MBK7CZYSBNNNQ4WA2P5V5X --json | jq .links.result',
  ],
  async run(ctx) {
    const jobId = jobIdArg(ctx.positionals, `archiver ${USAGE}`);
    const api = ctx.api();
    const view = await api.get(jobId);
    const json = boolFlag(ctx.values, 'json');
    const events = boolFlag(ctx.values, 'events');
    const out = ctx.io.stdout;
    // The view holds the trail's first page; --events reads the rest.
    const trail = async () => {
      const all = [...view.events];
      if (view.eventsCursor !== undefined)
        for await (const page of api.eventPages(jobId, view.eventsCursor)) all.push(...page);
      return all;
    };
    if (json && events) await write(out, eventsJsonl(await trail()));
    else if (json) await writeLine(out, JSON.stringify(view, null, 2));
    else {
      for (const line of jobSummary(view)) await writeLine(out, line);
      if (events) {
        const all = await trail();
        await writeLine(out);
        await writeLine(out, `Audit trail (${all.length} events):`);
        for (const line of eventsTable(all)) await writeLine(out, `  ${line}`);
      }
    }
    return EXIT.ok;
  },
};
