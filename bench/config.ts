import { createHash } from 'node:crypto';

/** Connection settings of the benchmark; override with environment variables. */
export const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/data_export_bench';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** A fixed secret: the bench never serves links. */
export const BENCH_SECRET = 'bench-secret-0123456789-abcdefghij-klmnopqrstuvwx';

/** Bump when the seeded table's columns or contents change: the marker then forces a reseed. */
export const SHAPE_VERSION = 2;

/** Rows of other accounts, as a fraction of the exported account's rows, interleaved with them. */
export const OTHER_ACCOUNTS_FRACTION = 0.2;
export const OTHER_ACCOUNTS = 50;

/** Table holding the rows of the benchmark whose exported account has `rows` rows. */
export function tableFor(rows: number): string {
  return `bench_messages_${rows}`;
}

/** A deterministic uuid from a label (the same one PostgreSQL's `md5(label)::uuid` gives). */
export function uuidOf(label: string): string {
  const h = createHash('md5').update(label).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The exported account of a benchmark size. */
export function accountFor(rows: number): string {
  return uuidOf(`bench-account-${rows}`);
}

export interface BenchArgs {
  sizes: number[];
  batchSize?: number;
  compressionLevel: number;
  runs: number;
  profile: boolean;
  breakdown: boolean;
  /** A run during which other processes used more CPU than this (ms) is repeated. */
  maxOthersMs: number;
  /** Extra node flags for the worker (e.g. --max-semi-space-size=32). */
  nodeFlags: string[];
  explain: boolean;
  skipAnchor: boolean;
  reseed: boolean;
  keep: boolean;
  /** How the worker runs: `node` on transpiled JavaScript (default) or under ts-node. */
  runtime: 'node' | 'ts-node';
  /** `undefined`: the library's default (encrypted at rest). */
  encryption?: boolean;
  /** Give the body column an identity transformer: PostgreSQL writes the rest of each line, the serializer the body. */
  transformer: boolean;
  /** `--exporter N`: measure a custom exporter's export of N rows (against 10,000) instead. */
  exporterRows?: number;
  /** `--format csv`: the archive format of our export (the anchor stays COPY → zip of NDJSON). */
  format: 'zip' | 'csv';
}

const HELP = `npm run bench -- [options]
  --rows N          one size (default: 100000 then 1000000)
  --batch N         ExportModule batchSize (default: the library's default)
  --level N         compression level of ours and of the anchor (default 6)
  --runs N          repeat ours and the anchor N times each, alternating; medians are reported (default 1)
  --profile         CPU profile of the job in the worker (V8 inspector, like --cpu-prof): writes bench/bench-worker-N.cpuprofile, prints the top costs
  --breakdown       time the stages (fetch, serialize, deflate, crc32, sha256) in the worker
  --max-others S    repeat a run (up to 3 times) when other processes used more than S s of CPU during it (default 1; a large value turns this off)
  --node-flags "…"  extra node flags for the worker, e.g. "--max-semi-space-size=32"
  --no-explain      skip EXPLAIN of the cursor query
  --no-anchor       skip the COPY anchor
  --reseed          drop and reseed the table
  --encryption on|off  ExportModule encryption at rest (default: the library's default)
  --transformer     give the body column an identity column transformer: PostgreSQL writes the rest of
                    each line and the library's serializer the body, in Node (same bytes)
  --ts-node         run the worker under ts-node (adds ~100 MB of RSS: the TypeScript compiler)
  --format zip|csv  the format of our export (default zip; the anchor is always COPY | zip of NDJSON)
  --keep            keep the archives and their temporary directory (printed)
  --exporter N      instead: a custom exporter's export of N generated rows against one of 10,000,
                    each in a fresh process; peak RSS, wall time and CPU`;

/** Parses `process.argv`; numbers accept `_` and `k`/`m` suffixes (`--rows 1m`). */
export function parseArgs(argv: string[]): BenchArgs {
  const args: BenchArgs = {
    sizes: [100_000, 1_000_000],
    compressionLevel: 6,
    runs: 1,
    profile: false,
    breakdown: false,
    nodeFlags: [],
    maxOthersMs: 1000,
    explain: true,
    skipAnchor: false,
    reseed: false,
    keep: false,
    runtime: 'node',
    transformer: false,
    format: 'zip',
  };
  const num = (name: string, value: string | undefined): number => {
    const m = /^(\d[\d_]*)([km]?)$/i.exec(value ?? '');
    if (!m) throw new Error(`${name} expects a number, got ${JSON.stringify(value)}\n\n${HELP}`);
    const n = Number(m[1].replace(/_/g, ''));
    return m[2].toLowerCase() === 'k' ? n * 1_000 : m[2].toLowerCase() === 'm' ? n * 1_000_000 : n;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--exporter':
        args.exporterRows = num('--exporter', value());
        break;
      case '--rows':
        args.sizes = [num(flag, value())];
        break;
      case '--batch':
        args.batchSize = num(flag, value());
        break;
      case '--level':
        args.compressionLevel = num(flag, value());
        break;
      case '--runs':
        args.runs = Math.max(1, num(flag, value()));
        break;
      case '--profile':
        args.profile = true;
        break;
      case '--breakdown':
        args.breakdown = true;
        break;
      case '--max-others':
        args.maxOthersMs = Number(value()) * 1000;
        if (!Number.isFinite(args.maxOthersMs)) throw new Error(`--max-others expects seconds\n\n${HELP}`);
        break;
      case '--node-flags':
        args.nodeFlags = (value() ?? '').split(/\s+/).filter(Boolean);
        break;
      case '--no-explain':
        args.explain = false;
        break;
      case '--no-anchor':
        args.skipAnchor = true;
        break;
      case '--reseed':
        args.reseed = true;
        break;
      case '--transformer':
        args.transformer = true;
        break;
      case '--ts-node':
        args.runtime = 'ts-node';
        break;
      case '--encryption': {
        const v = value();
        if (v !== 'on' && v !== 'off') throw new Error(`--encryption expects on|off\n\n${HELP}`);
        args.encryption = v === 'on';
        break;
      }
      case '--format': {
        const v = value();
        if (v !== 'zip' && v !== 'csv') throw new Error(`--format expects zip|csv\n\n${HELP}`);
        args.format = v;
        break;
      }
      case '--keep':
        args.keep = true;
        break;
      case '--help':
      case '-h':
        console.log(HELP);
        process.exit(0);
      default:
        throw new Error(`Unknown option ${argv[i]}\n\n${HELP}`);
    }
  }
  if (args.sizes.some((n) => n < 1)) throw new Error('--rows must be at least 1');
  if (args.compressionLevel < 0 || args.compressionLevel > 9) throw new Error('--level must be 0..9');
  return args;
}
