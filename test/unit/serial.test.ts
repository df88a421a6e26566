import { describe, expect, it } from 'vitest';
import { Serial } from '../../src/monitor/serial.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('Serial', () => {
  it('runs sections one at a time, in the order asked, each to its end before the next begins', async () => {
    const serial = new Serial();
    const log: string[] = [];
    const section = (name: string, steps: number) => async () => {
      for (let i = 0; i < steps; i++) {
        log.push(`${name}${i}`);
        await tick();
      }
      return name;
    };
    const results = await Promise.all([serial.run(section('check', 3)), serial.run(section('click', 2)), serial.run(section('check', 1))]);
    expect(results).toEqual(['check', 'click', 'check']);
    expect(log).toEqual(['check0', 'check1', 'check2', 'click0', 'click1', 'check0']);
  });

  it('hands a section its own failure and still runs the next', async () => {
    const serial = new Serial();
    const failed = serial.run(async () => {
      await tick();
      throw new Error('store unreachable');
    });
    const next = serial.run(async () => 'ran');
    await expect(failed).rejects.toThrow('store unreachable');
    await expect(next).resolves.toBe('ran');
  });
});
