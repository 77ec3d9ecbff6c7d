// `npm run bench -- --gc`: Lectern runs under `node --trace-gc`. Its collector's lines are kept
// here instead of echoed, stamped as they arrive, and each Lectern scenario is given the pauses of
// its measured seconds. A tail that the p50 does not explain is often the collector; this shows
// how often each kind ran and how long it stopped the server.

/** One kind of collection during a window: how many, and their pauses. */
export interface GcPauses {
  count: number;
  totalMs: number;
  maxMs: number;
}

export interface GcSummary {
  /** Young-generation collections (Scavenge, or a minor mark-compact/sweep where V8 uses one). */
  young: GcPauses;
  /** Full collections of the old generation (Mark-Compact, Mark-Sweep). */
  full: GcPauses;
}

// `[pid:isolate]  1234 ms: Scavenge 50.1 (60.2) -> 48.3 (61.2) MB, [pooled: 0 MB, ]1.50 / 0.00 ms …`
// (Node 20 to 24); the first figure after the sizes is the pause
const LINE =
  /^\[\d+:0x[0-9a-f]+\]\s+\d+ ms: (Scavenge|Minor Mark-Compact|Minor Mark-Sweep|Mark-Compact|Mark-Sweep)\b.*?MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ [\d.]+ ms/;

interface GcEvent {
  at: number;
  full: boolean;
  pauseMs: number;
}

export class GcTrace {
  private readonly events: GcEvent[] = [];

  /** Keep `line` when it is one of V8's `--trace-gc` lines (true); false for any other output. */
  take(line: string, at = Date.now()): boolean {
    const m = LINE.exec(line);
    if (!m) return false;
    this.events.push({ at, full: !m[1]?.startsWith('Minor') && m[1] !== 'Scavenge', pauseMs: Number(m[2]) });
    return true;
  }

  /** The collections whose lines arrived from `from` to `to` (ms since the epoch). */
  between(from: number, to: number): GcSummary {
    const empty = (): GcPauses => ({ count: 0, totalMs: 0, maxMs: 0 });
    const summary: GcSummary = { young: empty(), full: empty() };
    for (const e of this.events) {
      if (e.at < from || e.at > to) continue;
      const kind = e.full ? summary.full : summary.young;
      kind.count++;
      kind.totalMs += e.pauseMs;
      kind.maxMs = Math.max(kind.maxMs, e.pauseMs);
    }
    for (const kind of [summary.young, summary.full]) kind.totalMs = Math.round(kind.totalMs * 10) / 10;
    return summary;
  }
}

/** `young 31/s, mean 2.4 ms, max 8.7 ms; full 6, mean 10.2 ms, max 14.3 ms; 8.9 % of the time stopped` */
export function gcText(summary: GcSummary, seconds: number): string {
  const part = (name: string, p: GcPauses, perSecond: boolean) =>
    p.count === 0
      ? `${name} none`
      : `${name} ${perSecond ? `${Math.round(p.count / seconds)}/s` : p.count}, ` +
        `mean ${(p.totalMs / p.count).toFixed(1)} ms, max ${p.maxMs.toFixed(1)} ms`;
  const stopped = (summary.young.totalMs + summary.full.totalMs) / (seconds * 1000);
  return (
    `${part('young', summary.young, true)}; ${part('full', summary.full, false)}; ` +
    `${(stopped * 100).toFixed(1)} % of the time stopped`
  );
}
