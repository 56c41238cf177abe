import { type Principal, readableSites } from '../domain/principal.ts';
import { notFound } from '../domain/errors.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { AuditService } from './audit.service.ts';

/**
 * Background job state for operators. Jobs span sites, so only a principal that reads every site sees them; a
 * recording's derivation state is also on the recording itself (call detail), scoped like the call.
 */
export function jobStatusService(deps: { jobs: Pick<JobQueue, 'get'>; audit: AuditService }) {
  return {
    async get(p: Principal, id: string) {
      if (readableSites(p) !== 'all') throw notFound('job_not_found', 'job not found');
      const job = await deps.jobs.get(id);
      if (!job) throw notFound('job_not_found', 'job not found');
      await deps.audit.record(p, { action: 'job.view', targetType: 'job', targetId: id, details: { name: job.name, state: job.state } });
      return job;
    },
  };
}
export type JobStatusService = ReturnType<typeof jobStatusService>;
