import fs from 'node:fs';
import { systemClock } from 'vf-login-bridge';
import { createUserStore } from '../store/user-store';
import { ConfigError, loadConfig } from '../config';
import { StartupError, underSetting } from '../startup-errors';
import { openDatabase } from '../store/database';
import { ADMIN_USAGE, parseAdminCommand, runAdminCommand, type AdminCommand } from './commands';

/**
 * `npm run admin -- grant EMAIL | revoke EMAIL | list`: the administrator role stored with the
 * account (docs/accounts.md#roles). Reads DATABASE_URL (and `.env`) as the site does.
 */
async function main(argv: string[]): Promise<number> {
  const command = parseAdminCommand(argv);
  if (!command) {
    process.stderr.write(`${ADMIN_USAGE}\n`);
    return 64; // EX_USAGE
  }
  if (fs.existsSync('.env')) process.loadEnvFile('.env');
  const databaseUrl = readDatabaseUrl();
  return databaseUrl === undefined ? 78 : run(command, databaseUrl);
}

/** DATABASE_URL as the site reads it; undefined (the problems printed) when the configuration is refused. */
function readDatabaseUrl(): string | undefined {
  try {
    return loadConfig(process.env).databaseUrl;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) process.stderr.write(`Configuration error: ${problem}\n`);
    return undefined;
  }
}

async function run(command: AdminCommand, databaseUrl: string): Promise<number> {
  const database = await underSetting({ setting: 'DATABASE_URL', url: databaseUrl }, () => openDatabase(databaseUrl, { applicationName: 'vf-login-bridge-admin' }));
  try {
    const outcome = await runAdminCommand(command, createUserStore(database.db, systemClock));
    for (const line of outcome.out) process.stdout.write(`${line}\n`);
    for (const line of outcome.err) process.stderr.write(`${line}\n`);
    return outcome.exitCode;
  } finally {
    await database.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    // A StartupError's message names the setting and what to do, without a URL's password.
    process.stderr.write(`${error instanceof StartupError ? error.message : error instanceof Error ? error.message.split('\n')[0] : String(error)}\n`);
    process.exit(1);
  },
);
