import { describe, expect, it } from 'vitest';
import { MODULE_NAMES } from './registry.js';
import { loadModuleSettings } from './settings.js';
import { sharingWarnings } from './sharing-warnings.js';

const secrets = {
  ASSET_URL_SECRET: 'a'.repeat(32),
  LEARNING_CONTENT_URL_SECRET: 'b'.repeat(32),
  SANDBOX_NOTIFY_SECRET: 'c'.repeat(32),
};
const unset = loadModuleSettings({});
const set = loadModuleSettings(secrets);
const nats = 'nats://127.0.0.1:4222';

describe('what a process of several must share', () => {
  it('asks nothing of the embedded default: one process runs every module, events stay inside', () => {
    expect(sharingWarnings({ natsUrl: undefined, s3Bucket: undefined }, MODULE_NAMES, unset)).toEqual([]);
  });

  it('names the files and every per-instance secret of the modules a split service runs', () => {
    const warnings = sharingWarnings({ natsUrl: nats, s3Bucket: undefined }, ['catalog', 'commerce'], unset);
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(/^S3_BUCKET is unset/);
    expect(warnings.slice(1).map((w) => w.split(' ')[0])).toEqual([
      'ASSET_URL_SECRET',
      'SANDBOX_NOTIFY_SECRET',
    ]);
  });

  it('counts a process on a shared bus as one of several, and is quiet once everything is set', () => {
    const all = sharingWarnings({ natsUrl: nats, s3Bucket: undefined }, MODULE_NAMES, unset);
    expect(all.map((w) => w.split(' ')[0]).sort()).toEqual(['S3_BUCKET', ...Object.keys(secrets)].sort());
    expect(sharingWarnings({ natsUrl: nats, s3Bucket: 'lectern-files' }, MODULE_NAMES, set)).toEqual([]);
  });
});
