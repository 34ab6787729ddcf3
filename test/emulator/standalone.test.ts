import { spawn } from 'node:child_process';
import path from 'node:path';
import { emulatorOptionsFromEnv } from '../../packages/emulator/src/main';
import { curlBasicAuth, emulatorHttp, formPost } from '../helpers/emulator';
import { fromSource } from '../helpers/ts-source';

const ROOT = path.join(__dirname, '..', '..');

describe('emulator: standalone program (npm run emulator)', () => {
  it('defaults to demo credentials on 127.0.0.1:4010', () => {
    expect(emulatorOptionsFromEnv({})).toEqual({ siteId: 'demo-site', apiKey: 'demo-key', host: '127.0.0.1', port: 4010 });
  });

  it('takes its settings from VF_SITE_ID, VF_API_KEY, EMULATOR_HOST and EMULATOR_PORT', () => {
    const options = emulatorOptionsFromEnv({ VF_SITE_ID: 's', VF_API_KEY: 'k', EMULATOR_HOST: '0.0.0.0', EMULATOR_PORT: '5000' });
    expect(options).toEqual({ siteId: 's', apiKey: 'k', host: '0.0.0.0', port: 5000 });
  });

  it.each(['http', '-1', '70000', '40.5'])('refuses EMULATOR_PORT=%s with one line naming the variable', (port) => {
    expect(() => emulatorOptionsFromEnv({ EMULATOR_PORT: port })).toThrow(/^EMULATOR_PORT /);
  });

  it('prints its URL, answers with the configured credentials, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, fromSource(path.join(ROOT, 'packages/emulator/src/main.ts')), {
      env: { ...process.env, EMULATOR_PORT: '0', VF_SITE_ID: 'standalone-site', VF_API_KEY: 'secret+key/=' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });

    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL printed: ${output}`)), 15000);
        child.stdout.on('data', () => {
          const match = /(http:\/\/127\.0\.0\.1:\d+)\n/.exec(output);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        });
      });
      expect(output.trim().split('\n')).toHaveLength(1);
      expect(output).not.toContain('secret+key/=');

      const answer = await formPost(emulatorHttp({ url }), '/oauth2/token', 'grant_type=client_credentials&scope=accounts', {
        Authorization: curlBasicAuth('standalone-site', 'secret+key/='),
      });
      expect(answer.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    await expect(exited).resolves.toBe(0);
  });
});
