/**
 * The fault matrix's figures: each fault test reports how its export ended and how long that
 * took, as one line on stdout (`fault-matrix: <fault> | <database> | <outcome> | <ms>`), so that
 * a run of the suite gives the table in docs/reliability.md.
 */
export function recordFault(fault: string, database: string, outcome: string, ms: number): void {
  process.stdout.write(`fault-matrix: ${fault} | ${database} | ${outcome} | ${Math.round(ms)} ms\n`);
}
