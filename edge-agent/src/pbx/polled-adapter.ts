/**
 * What both PBX adapters share: their state (in `<stateDir>/pbx/<id>/`) is opened once, on the first start() or
 * tick(); start() runs a pass every `pollSeconds` on a PollLoop; stop() lets the pass under way finish, then closes
 * the files. A subclass supplies open(), pass() and close().
 */
import { join, resolve } from 'node:path';
import type { Logger } from '../lib/logger.ts';
import { PollLoop } from '../lib/poll-loop.ts';
import type { AdapterDeps, PbxAdapter } from './index.ts';
import { type Clock, systemClock } from './payload.ts';

export abstract class PolledAdapter implements PbxAdapter {
  /** This adapter's state folder. */
  protected readonly dir: string;
  protected readonly log: Logger;
  protected readonly clock: Clock;
  private opened: Promise<void> | null = null;
  private readonly poller: PollLoop;

  /** `name`: how a failed pass is logged (`<name> pass failed; will retry`). */
  constructor(
    cfg: { id: string; pollSeconds: number },
    protected readonly deps: AdapterDeps,
    name: string,
  ) {
    this.dir = join(resolve(deps.stateDir), 'pbx', cfg.id);
    this.log = deps.log;
    this.clock = deps.clock ?? systemClock;
    this.poller = new PollLoop(
      () => this.tick(),
      () => cfg.pollSeconds * 1000,
      (err) => this.log.error(`${name} pass failed; will retry`, { pbx: cfg.id, error: String((err as Error)?.stack ?? err) }),
    );
  }

  /** Opens (or creates) the state; called once. */
  protected abstract open(): Promise<void>;
  /** One pass over the PBX's files, with the state open. */
  protected abstract pass(): Promise<void>;
  /** Closes what open() opened; called after open() settled, even if it failed part-way. */
  protected abstract close(): Promise<void>;

  private ensureOpen(): Promise<void> {
    this.opened ??= this.open();
    return this.opened;
  }

  async start(): Promise<void> {
    await this.ensureOpen();
    this.poller.start();
  }

  async stop(): Promise<void> {
    await this.poller.stop();
    if (this.opened) {
      await this.opened.catch(() => undefined);
      await this.close();
      this.opened = null;
    }
  }

  async tick(): Promise<void> {
    await this.ensureOpen();
    await this.pass();
  }
}
