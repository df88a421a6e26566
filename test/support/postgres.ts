import { startPostgres, type PostgresServer } from '../../tools/postgres-testbed/server.js';

/**
 * The test bed's PostgreSQL for one suite: started once (beforeAll), stopped after
 * (afterAll). lagbot and the tests read the password from PGPASSWORD, as in production.
 */
export async function startTestPostgres(): Promise<PostgresServer> {
  const verbose = process.env['LAGBOT_POSTGRES_LOG'] === '1';
  const server = await startPostgres(verbose ? { log: (line) => console.log(`[postgres] ${line}`) } : {});
  process.env['PGPASSWORD'] = server.password;
  return server;
}
