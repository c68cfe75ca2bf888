/**
 * Every container carries the labels that tie it to reprorom, its run and the process that
 * created it (`reprorom.owner=HOST:PID`): the orphan sweep and the integration tests' count of
 * one CLI's leftovers (test/helpers/containers.ts) both filter on the owner label.
 */
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { createOptions } from '../../src/engine/hardening.js';
import { ENGINE_LABEL, OWNER_LABEL, ownerId, RUN_LABEL } from '../../src/engine/port.js';

describe('container labels', () => {
  it('name this process as the owner, with the run and the caller’s own labels', () => {
    const options = createOptions(
      { image: 'sha256:abc', cmd: ['true'], labels: { 'reprorom.board': 'rom', 'reprorom.index': '2' } },
      'run-1',
    );
    expect(options.Labels).toEqual({
      'reprorom.board': 'rom',
      'reprorom.index': '2',
      [ENGINE_LABEL]: '1',
      [RUN_LABEL]: 'run-1',
      [OWNER_LABEL]: `${hostname()}:${process.pid}`,
    });
    expect(OWNER_LABEL).toBe('reprorom.owner');
  });

  it('a caller cannot replace the owner, engine or run label', () => {
    const options = createOptions(
      {
        image: 'x',
        cmd: ['true'],
        labels: { [OWNER_LABEL]: 'elsewhere:1', [ENGINE_LABEL]: '0', [RUN_LABEL]: 'other' },
      },
      'run-2',
    );
    expect(options.Labels?.[OWNER_LABEL]).toBe(ownerId());
    expect(options.Labels?.[ENGINE_LABEL]).toBe('1');
    expect(options.Labels?.[RUN_LABEL]).toBe('run-2');
  });

  it('ownerId is HOST:PID for any process id', () => {
    expect(ownerId(4242)).toBe(`${hostname()}:4242`);
    expect(ownerId()).toBe(`${hostname()}:${process.pid}`);
  });
});

describe('the local socket agent', () => {
  it('reads as one short line where docker-modem formats request options for its debug log', async () => {
    const { inspect } = await import('node:util');
    const { createServer } = await import('node:net');
    const { localSocketAgent } = await import('../../src/engine/connection.js');
    const agent = localSocketAgent();
    // A live socket in the agent, as during an attached run, is what made the walk expensive.
    const server = createServer((s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const { request } = await import('node:http');
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, agent, path: '/' }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
    const text = inspect({ path: '/containers/create', agent }, { showHidden: true, depth: null });
    server.close();
    agent.destroy();
    expect(text).toContain('[Agent: local engine socket]');
    expect(text.length).toBeLessThan(200);
  });
});
