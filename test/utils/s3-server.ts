import { CreateBucketCommand, S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';

/**
 * A real S3-compatible server for the tests: a single-node OpenStack Swift with its `s3api`
 * middleware (Debian's swift-proxy, swift-object, swift-container, swift-account and memcached),
 * on free ports of 127.0.0.1, with its data in a temporary directory. It checks SigV4 signatures,
 * so wrong credentials are refused as on AWS. Path-style addressing only, region `us-east-1`.
 */
export interface S3TestServer {
  /** `http://127.0.0.1:<port>` of the proxy. */
  endpoint: string;
  /** A bucket created at start. */
  bucket: string;
  /** Client settings that work with this server (tempauth user `test:tester`, key `testing`). */
  clientConfig: S3ClientConfig;
  /** A client with `clientConfig`. */
  client: S3Client;
  /** Stops every process of the server and removes its data. */
  stop(): Promise<void>;
  /** Kills the proxy only (requests then fail with ECONNREFUSED); the data stays. */
  stopProxy(): Promise<void>;
  /** Starts the proxy again on the same port, and resolves once it answers. */
  startProxy(): Promise<void>;
  /** Freezes the proxy (SIGSTOP): connections are accepted, nothing is answered. */
  freezeProxy(): void;
  /** Lets a frozen proxy go on (SIGCONT). */
  thawProxy(): void;
}

const SWIFT_SERVERS = ['account', 'container', 'object'] as const;
const ACCESS_KEY = 'test:tester';
const SECRET_KEY = 'testing';

/** Debian's Python, the one with the `swift` module (a pyenv one earlier on PATH has none). */
function swiftPython(): string {
  const shebang = readFileSync('/usr/bin/swift-proxy-server', 'utf8').split('\n')[0];
  return shebang.replace(/^#!\s*/, '').trim().split(/\s+/)[0];
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function serverConf(dir: string, user: string, port: number, kind: string, extra = ''): string {
  return `[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
workers = 0
user = ${user}
swift_dir = ${dir}
devices = ${dir}/srv
mount_check = false
log_level = WARNING

[pipeline:main]
pipeline = ${kind}-server

[app:${kind}-server]
use = egg:swift#${kind}
${extra}`;
}

function proxyConf(dir: string, user: string, port: number, memcachedPort: number): string {
  return `[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
workers = 0
user = ${user}
swift_dir = ${dir}
log_level = WARNING

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true

[filter:s3api]
use = egg:swift#s3api
location = us-east-1

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = ${SECRET_KEY} .admin

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:${memcachedPort}

[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
`;
}

/** The three 1-device rings, built in one Python process (nine CLI calls take far longer). */
function buildRings(python: string, dir: string, ports: Record<(typeof SWIFT_SERVERS)[number], number>): void {
  const script = `
import sys
from swift.common.ring import RingBuilder
d = sys.argv[1]
for kind, port in (('account', ${ports.account}), ('container', ${ports.container}), ('object', ${ports.object})):
    b = RingBuilder(6, 1, 1)
    b.add_dev({'id': 0, 'region': 1, 'zone': 1, 'ip': '127.0.0.1', 'port': port, 'device': 'd1', 'weight': 100})
    b.rebalance()
    b.get_ring().save('%s/%s.ring.gz' % (d, kind))
`;
  execFileSync(python, ['-c', script, dir], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Starts the server and creates a bucket; resolves once S3 requests succeed (a few seconds).
 * `stop()` kills every process and removes the data directory.
 */
export async function startS3Server(bucket = 'exports'): Promise<S3TestServer> {
  const python = swiftPython();
  // Swift keeps object metadata in xattrs: the directory must be on a file system with them
  // (ext4 here; not an old tmpfs).
  const dir = mkdtempSync('/var/tmp/data-export-swift-');
  mkdirSync(join(dir, 'srv', 'd1'), { recursive: true });
  const user = userInfo().username;
  const [memcachedPort, proxyPort, account, container, object] = await Promise.all([1, 2, 3, 4, 5].map(() => freePort()));
  const ports = { account, container, object };
  writeFileSync(
    join(dir, 'swift.conf'),
    '[swift-hash]\nswift_hash_path_suffix = data-export-tests\nswift_hash_path_prefix = data-export-tests\n\n[storage-policy:0]\nname = Policy-0\ndefault = yes\n',
  );
  for (const kind of SWIFT_SERVERS) writeFileSync(join(dir, `${kind}-server.conf`), serverConf(dir, user, ports[kind], kind));
  writeFileSync(join(dir, 'proxy-server.conf'), proxyConf(dir, user, proxyPort, memcachedPort));
  buildRings(python, dir, ports);

  const log = openSync(join(dir, 'server.log'), 'a');
  // Each process is spawned directly: Swift's servers call setsid(), so a process group would
  // not hold them; every one is killed by its own pid.
  const children = new Set<ChildProcess>();
  let failed: string | undefined;
  const daemon = (command: string, args: string[]): ChildProcess => {
    const child = spawn(command, args, { stdio: ['ignore', log, log] });
    children.add(child);
    child.once('exit', (code, signal) => {
      children.delete(child);
      if (!child.killed) failed ??= `${args.at(-1) ?? command} exited (${code ?? signal})`;
    });
    return child;
  };
  // A test process that dies without afterAll still ends its servers.
  const killAll = () => children.forEach((c) => c.kill('SIGKILL'));
  process.once('exit', killAll);
  daemon('memcached', ['-l', '127.0.0.1', '-p', String(memcachedPort), '-U', '0', '-m', '16', '-u', user]);
  for (const kind of SWIFT_SERVERS) daemon(python, [`/usr/bin/swift-${kind}-server`, join(dir, `${kind}-server.conf`)]);
  const startProxyProcess = () => daemon(python, ['/usr/bin/swift-proxy-server', join(dir, 'proxy-server.conf')]);
  let proxy = startProxyProcess();
  const end = async (child: ChildProcess): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  };

  const endpoint = `http://127.0.0.1:${proxyPort}`;
  const clientConfig: S3ClientConfig = {
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    // With the defaults, a PutObject with a stream body is sent aws-chunked, which Swift refuses.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
  const client = new S3Client({ ...clientConfig, maxAttempts: 1 });
  const stop = async (): Promise<void> => {
    client.destroy();
    await Promise.all([...children].map(end));
    process.off('exit', killAll);
    closeSync(log);
    rmSync(dir, { recursive: true, force: true });
  };
  const stopProxy = () => end(proxy);
  const startProxy = async (): Promise<void> => {
    proxy = startProxyProcess();
    await until(() => fetch(`${endpoint}/healthcheck`).then((r) => r.ok));
  };
  /** Retries `check` until it resolves true, or fails with the servers' log. */
  const until = async (check: () => Promise<boolean>): Promise<void> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      let reason = 'not ready';
      try {
        if (await check()) return;
      } catch (err) {
        reason = `${(err as Error).name}: ${(err as Error).message}`;
      }
      if (failed || Date.now() > deadline) {
        const output = readFileSync(join(dir, 'server.log'), 'utf8').slice(-4000);
        throw new Error(`Swift did not start (${failed ?? reason}):\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  try {
    await until(() => client.send(new CreateBucketCommand({ Bucket: bucket })).then(() => true));
  } catch (err) {
    await stop();
    throw err;
  }
  const freezeProxy = () => void proxy.kill('SIGSTOP');
  const thawProxy = () => void proxy.kill('SIGCONT');
  return { endpoint, bucket, clientConfig, client, stop, stopProxy, startProxy, freezeProxy, thawProxy };
}
