/**
 * Runs async sections one at a time, in the order they were asked for. The store answers
 * Promises, so without it a button click could read an incident between a check's read and
 * its commit of the same incident, and one of the two steps would be lost.
 */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(section: () => Promise<T>): Promise<T> {
    const result = this.tail.then(section, section);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
