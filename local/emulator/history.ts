// Snapshots of jobs that left memory, kept for inspection within a count and byte budget (oldest evicted first).
import type { JobSnapshot } from './jobs.ts';

export class History {
  private readonly entries = new Map<string, { snap: JobSnapshot; bytes: number }>();
  private bytes = 0;

  constructor(
    private readonly maxJobs: number,
    private readonly maxBytes: number,
  ) {}

  add(snap: JobSnapshot, bytes: number): void {
    this.entries.set(snap.id, { snap, bytes });
    this.bytes += bytes;
    for (const [id, entry] of this.entries) {
      if (this.entries.size <= this.maxJobs && this.bytes <= this.maxBytes) break;
      this.entries.delete(id);
      this.bytes -= entry.bytes;
    }
  }

  get(id: string): JobSnapshot | undefined {
    return this.entries.get(id)?.snap;
  }
}
