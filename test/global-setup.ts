import fs from 'node:fs';
import { CHROMIUM_PATH, postgresUrl, redisUrl } from './helpers/services';

/** One clear line for each suite that cannot run on this machine, so nothing is skipped silently. */
export default function announceSkippedSuites(): void {
  const lines: string[] = [];
  if (!postgresUrl()) lines.push('PostgreSQL suite skipped: DATABASE_URL is not set to a postgres:// URL');
  if (!redisUrl()) lines.push('Redis suite skipped: REDIS_URL is not set');
  if (!fs.existsSync(CHROMIUM_PATH)) lines.push(`Browser suite skipped: no Chromium at ${CHROMIUM_PATH} (apt-get install chromium)`);
  if (lines.length > 0) process.stdout.write('\n' + lines.join('\n') + '\n');
}
