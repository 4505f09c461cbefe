// The EventBridge bus that carries job lifecycle events (Job Archived, Job Expired, Job Rejected) to subscribers.
import { EventBus } from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';

/** detail-type values the runtime publishes; subscribers match on these. */
export const JOB_EVENT_TYPES = ['Job Archived', 'Job Expired', 'Job Rejected'] as const;

export class JobEvents extends Construct {
  readonly bus: EventBus;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    // A bus of its own: consumers get a clean contract and the functions' PutEvents grant covers nothing else.
    this.bus = new EventBus(this, 'Bus', { description: `Job lifecycle: ${JOB_EVENT_TYPES.join(', ')}` });
  }
}
