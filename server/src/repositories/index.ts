import type { Db } from '../db/connect.ts';
import { agentCommandRepository } from './agent-command.repository.ts';
import { agentRepository } from './agent.repository.ts';
import { auditRepository } from './audit.repository.ts';
import { callRepository } from './call.repository.ts';
import { fleetRepository } from './fleet.repository.ts';
import { cameraRepository } from './camera.repository.ts';
import { disclosureRepository } from './disclosure.repository.ts';
import { incidentRepository } from './incident.repository.ts';
import { linkingRepository } from './linking.repository.ts';
import { loginThrottleRepository } from './login-throttle.repository.ts';
import { recordingRepository } from './recording.repository.ts';
import { retentionRepository } from './retention.repository.ts';
import { segmentRepository } from './segment.repository.ts';
import { sessionRepository } from './session.repository.ts';
import { siteRepository } from './site.repository.ts';
import { userRepository } from './user.repository.ts';

/** Every repository over one connection pool or one transaction. */
export function createRepositories(db: Db) {
  return {
    sites: siteRepository(db),
    agents: agentRepository(db),
    cameras: cameraRepository(db),
    segments: segmentRepository(db),
    calls: callRepository(db),
    recordings: recordingRepository(db),
    users: userRepository(db),
    sessions: sessionRepository(db),
    throttle: loginThrottleRepository(db),
    audit: auditRepository(db),
    incidents: incidentRepository(db),
    linking: linkingRepository(db),
    agentCommands: agentCommandRepository(db),
    retention: retentionRepository(db),
    fleet: fleetRepository(db),
    disclosures: disclosureRepository(db),
  };
}
export type Repositories = ReturnType<typeof createRepositories>;

/** Runs `fn` with repositories bound to one transaction: all of its writes commit together or not at all. */
export type Transactor = <T>(fn: (r: Repositories) => Promise<T>) => Promise<T>;

export function transactor(db: Db): Transactor {
  return (fn) => db.transaction().execute((trx) => fn(createRepositories(trx)));
}
