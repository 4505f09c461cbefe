// Job events: a dedicated EventBridge bus that only the capturing functions may put events on.
import { describe, expect, it } from 'vitest';
import { defaultSynth } from '../support/synth.ts';
import { FUNCTION_IDS, grantsOf, logicalId } from '../support/template-queries.ts';

describe('job events', () => {
  const { template } = defaultSynth();

  it('is one custom bus, output by name', () => {
    template.resourceCountIs('AWS::Events::EventBus', 1);
    template.hasOutput('EventBusName', {
      Value: { Ref: logicalId(template, 'AWS::Events::EventBus', 'EventsBus') },
    });
  });

  it('is written by submit, the submitter, webhook and sweeper, never by results', () => {
    const bus = `<${logicalId(template, 'AWS::Events::EventBus', 'EventsBus')}.Arn>`;
    const writers = FUNCTION_IDS.filter((id) => grantsOf(template, id).has('events:PutEvents'));
    expect(writers).toEqual(['Submit', 'Submitter', 'Webhook', 'Sweeper']);
    for (const id of writers) expect(grantsOf(template, id).get('events:PutEvents')).toEqual([bus]);
  });
});
