/** A V8 CPU profile, as `Profiler.stop` returns it (the `.cpuprofile` format). */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** Where a function comes from: a package, a file of lib/ or bench/, or node itself. */
function origin(url: string): string {
  if (!url) return '';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  const own = /\/(lib|bench)\/(.+)$/.exec(url);
  if (own) return `${own[1]}/${own[2]}`;
  if (url.startsWith('node:')) return url;
  return url.replace(/^file:\/\//, '');
}

/**
 * Self time per function and per origin (package or file), and inclusive time of the
 * functions that matter, as text. Times come from the samples' time deltas.
 */
export function summarizeProfile(profile: CpuProfile, top = 22): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    // A sample's time is the delta to the next sample.
    const dt = deltas[i + 1] ?? 0;
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + dt);
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0) || 1;
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const label = (id: number): string => {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const o = origin(url);
    return `${functionName || '(anonymous)'}${o ? ` ${o}:${lineNumber + 1}` : ''}`;
  };
  const selfByFn = new Map<string, number>();
  const selfByOrigin = new Map<string, number>();
  const inclusiveByFn = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const l = label(id);
    selfByFn.set(l, (selfByFn.get(l) ?? 0) + us);
    const { url, functionName } = byId.get(id)!.callFrame;
    const o = origin(url) || functionName;
    selfByOrigin.set(o, (selfByOrigin.get(o) ?? 0) + us);
    // Inclusive: charge every distinct function on the stack once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const name = label(cur);
      if (seen.has(name)) continue;
      seen.add(name);
      inclusiveByFn.set(name, (inclusiveByFn.get(name) ?? 0) + us);
    }
  }
  // Native functions (no script) say little by themselves: name their callers.
  const nativeCallers = new Map<string, Map<string, number>>();
  for (const [id, us] of selfUs) {
    const { url, functionName } = byId.get(id)!.callFrame;
    if (url || !functionName || functionName.startsWith('(')) continue;
    const p = parent.get(id);
    const caller = p === undefined ? '?' : label(p);
    const m = nativeCallers.get(functionName) ?? new Map<string, number>();
    m.set(caller, (m.get(caller) ?? 0) + us);
    nativeCallers.set(functionName, m);
  }
  const fmt = (entries: [string, number][], n: number): string =>
    entries
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => `    ${(us / 1000).toFixed(0).padStart(7)} ms ${((us / total) * 100).toFixed(1).padStart(5)} %  ${k}`)
      .join('\n');
  const interesting = [...inclusiveByFn.entries()].filter(([k]) => /(lib|bench)\//.test(k) || /^(parseRow|handleDataRow|parse|_transform|push|stringify|flush|append|update|digest|crc32|buf)\b/.test(k));
  return [
    `  main thread, ${(total / 1000).toFixed(0)} ms sampled`,
    `  self time by origin:`,
    fmt([...selfByOrigin.entries()], 14),
    `  self time by function:`,
    fmt([...selfByFn.entries()], top),
    `  inclusive time (lib/bench functions and hot library entry points):`,
    fmt(interesting, 16),
    `  callers of the busiest native functions:`,
    ...[...nativeCallers.entries()]
      .map(([fn, callers]) => [fn, [...callers.entries()].sort((a, b) => b[1] - a[1]), [...callers.values()].reduce((a, b) => a + b, 0)] as const)
      .sort((a, b) => b[2] - a[2])
      .slice(0, 5)
      .map(([fn, callers, us]) => `    ${fn} (${(us / 1000).toFixed(0)} ms) ← ${callers.slice(0, 3).map(([c, t]) => `${c} ${(t / 1000).toFixed(0)} ms`).join('; ')}`),
  ].join('\n');
}
