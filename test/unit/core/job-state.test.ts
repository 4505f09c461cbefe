import { describe, expect, it } from 'vitest';
import { canTransition, isTerminal, JOB_STATES, statesLeadingTo } from '../../../functions/core/job-state.ts';

describe('job state machine', () => {
  it('lets a job reach ARCHIVED from SUBMITTING (runsync, early webhook) and PENDING only', () => {
    expect(statesLeadingTo('ARCHIVED')).toEqual(['SUBMITTING', 'PENDING']);
  });

  it('never leaves a terminal state', () => {
    for (const terminal of ['ARCHIVED', 'EXPIRED', 'REJECTED'] as const) {
      expect(isTerminal(terminal)).toBe(true);
      for (const to of JOB_STATES) expect(canTransition(terminal, to)).toBe(false);
    }
  });

  it('only rejects jobs that never got past submitting', () => {
    expect(statesLeadingTo('REJECTED')).toEqual(['QUEUED', 'SUBMITTING']);
    expect(canTransition('PENDING', 'REJECTED')).toBe(false);
  });

  it('sends a queued job only through SUBMITTING, and puts it back only from there (a 429)', () => {
    expect(statesLeadingTo('SUBMITTING')).toEqual(['QUEUED', 'SUBMITTING']);
    expect(statesLeadingTo('QUEUED')).toEqual(['QUEUED', 'SUBMITTING']);
    expect(canTransition('QUEUED', 'PENDING')).toBe(false);
    expect(canTransition('QUEUED', 'ARCHIVED')).toBe(false);
    expect(isTerminal('QUEUED')).toBe(false);
  });

  it('expires watched jobs only', () => {
    expect(statesLeadingTo('EXPIRED')).toEqual(['SUBMITTING', 'PENDING']);
  });
});
