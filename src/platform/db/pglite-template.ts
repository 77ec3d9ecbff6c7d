import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';

/**
 * A freshly initialised PGlite cluster, kept as a tarball so that the next empty database (a new
 * DATA_DIR, every test file's in-memory database, a bench run) loads it instead of running initdb
 * again: initdb is most of a first start (measured in bench/RESULTS.md). It is made once per
 * machine and PGlite version, right after an initdb, before any migration, so it holds nothing of
 * Lectern's. A template that cannot be read or loaded is ignored and initdb runs as before.
 */
function pgliteVersion(): string {
  const entry = fileURLToPath(import.meta.resolve('@electric-sql/pglite'));
  const manifest = path.join(path.dirname(entry), '..', 'package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

export function templatePath(): string {
  const dir = process.env.LECTERN_PGLITE_TEMPLATE_DIR ?? path.join(os.tmpdir(), 'lectern-pglite');
  return path.join(dir, `initdb-${pgliteVersion()}.tgz`);
}

/** The template, or undefined when there is none yet. */
export function readTemplate(file = templatePath()): Blob | undefined {
  try {
    return new Blob([readFileSync(file)]);
  } catch {
    return undefined;
  }
}

/** Keep a just-initialised cluster as the template (written whole, then renamed into place). */
export async function saveTemplate(pglite: PGlite, file = templatePath()): Promise<void> {
  const tarball = await pglite.dumpDataDir('gzip');
  mkdirSync(path.dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.partial`;
  writeFileSync(partial, Buffer.from(await tarball.arrayBuffer()));
  renameSync(partial, file);
}
