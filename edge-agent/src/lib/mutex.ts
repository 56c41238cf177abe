/**
 * Runs async sections one at a time, in the order they were asked for. A section that fails does not stop the ones
 * after it; its caller gets the error.
 */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }

  /** Resolves once every section asked for so far has finished. */
  idle(): Promise<void> {
    return this.run(async () => undefined);
  }
}
