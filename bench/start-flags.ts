// The Node flags `npm start` runs Lectern with (package.json's start script), so the bench measures
// the server as it is started, and one place sets them (test/deploy/manifests.test.ts holds the
// Dockerfile's entrypoint to the same).
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The `--flags` between `node` and the script in a `node --a --b script …` command. */
export function nodeFlagsOf(command: string): string[] {
  const words = command.trim().split(/\s+/);
  if (words[0] !== 'node') throw new Error(`not a node command: ${command}`);
  const flags: string[] = [];
  for (const word of words.slice(1)) {
    if (!word.startsWith('--')) break;
    flags.push(word);
  }
  return flags;
}

export function startFlags(): string[] {
  const pkg = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  return nodeFlagsOf(pkg.scripts.start);
}
