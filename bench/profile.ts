// `npm run bench -- --profile`: the Lectern child runs under `node --cpu-prof`; this reads the
// profile it writes on exit and lists where the CPU went, by self time, so a change to the hot
// path can be judged by what it removed rather than by req/s alone.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  /** `function (file:line)`, the file relative to node_modules or the project. */
  frame: string;
  /** Share of all samples spent in this function itself. */
  selfShare: number;
  selfMs: number;
}

function shortUrl(url: string): string {
  if (!url) return '';
  const clean = url.replace(/^file:\/\//, '');
  const nm = clean.lastIndexOf('node_modules/');
  if (nm >= 0) return clean.slice(nm + 'node_modules/'.length);
  const src = clean.search(/\/(src|bench)\//);
  return src >= 0 ? clean.slice(src + 1) : clean;
}

/**
 * The main thread's `.cpuprofile` in `dir`: the largest one (tsx's loader thread writes a small
 * profile of its own beside it), or undefined.
 */
export function mainThreadProfile(dir: string): string | undefined {
  let best: { file: string; size: number } | undefined;
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.cpuprofile')) continue;
    const file = path.join(dir, name);
    const size = statSync(file).size;
    if (!best || size > best.size) best = { file, size };
  }
  return best?.file;
}

/** Functions by self time, merged across call sites; idle time is left out of the shares. */
export function topFunctions(file: string, count = 20): ProfileEntry[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const delta = profile.timeDeltas[i] ?? 0;
    if (!node || node.callFrame.functionName === '(idle)') return;
    total += delta;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = shortUrl(url);
    const frame = `${functionName || '(anonymous)'}${where ? ` (${where}:${lineNumber + 1})` : ''}`;
    selfUs.set(frame, (selfUs.get(frame) ?? 0) + delta);
  });
  return [...selfUs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([frame, us]) => ({
      frame,
      selfShare: total > 0 ? us / total : 0,
      selfMs: Math.round(us / 1000),
    }));
}

export function profileTable(entries: ProfileEntry[]): string {
  return entries
    .map(
      (e) =>
        `${(e.selfShare * 100).toFixed(1).padStart(5)} %  ${String(e.selfMs).padStart(7)} ms  ${e.frame}`,
    )
    .join('\n');
}
