#!/usr/bin/env node
// The benchmark peer: hubbatch's job done the way a competent user would do it
// with the official HubSpot Node SDK (@hubspot/api-client, pinned in
// package-lock.json), configured as its README recommends.
//
//   HUBSPOT_ACCESS_TOKEN=t node sdk-archive.mjs --input pairs.csv \
//       --base-url https://127.0.0.1:PORT --ca-file ca.pem [--no-limit] \
//       [--from-type contacts] [--to-type companies]
//
// - Reads the whole CSV (from_id,to_id; a header line is skipped), groups the
//   to-ids of each from-id, and cuts the inputs into chunks of 100.
// - Sends every chunk through client.crm.associations.v4.batchApi.archive.
// - Client options: limiterOptions = the SDK's exported DEFAULT_LIMITER_OPTIONS
//   (minTime 1000/9 ms, maxConcurrent 6), or {maxConcurrent: 64, minTime: 0}
//   with --no-limit; numberOfApiCallRetries = 6 (the SDK's maximum: 6 attempts
//   in total, 200 ms x n after a 5xx, 10 s x n after a TEN_SECONDLY_ROLLING
//   429, network errors not retried); a keep-alive https.Agent that trusts the
//   sandbox's CA.
// - SDK quirk (13.5.0, read in node_modules/.../codegen/*/types/ObservableAPI.js):
//   a call made without per-call options runs with an empty middleware list,
//   so the Client's own middleware (the httpAgent and the User-agent header)
//   is silently dropped and node-fetch falls back to Node's global agent. Each
//   call therefore passes {middleware: [], middlewareMergeStrategy: 'append'},
//   which makes the SDK apply the Client's middleware as configured.
// - Prints one JSON line on stdout with the counts and exits 1 when any chunk
//   failed (after the SDK's own retries), 2 on a usage error.
import fs from 'node:fs';
import https from 'node:https';
import readline from 'node:readline';
import hubspot from '@hubspot/api-client';

const { Client, DEFAULT_LIMITER_OPTIONS } = hubspot;

function usage(msg) {
  if (msg) console.error(`sdk-archive: ${msg}`);
  console.error('usage: sdk-archive.mjs --input FILE --base-url URL --ca-file PEM [--no-limit] ' +
                '[--from-type T] [--to-type T] [--chunk N]');
  process.exit(2);
}

function parse_args(argv) {
  const opts = { input: null, baseUrl: null, caFile: null, noLimit: false,
                 fromType: 'contacts', toType: 'companies', chunk: 100 };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const next = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    if (a === '--input') opts.input = next();
    else if (a === '--base-url') opts.baseUrl = next();
    else if (a === '--ca-file') opts.caFile = next();
    else if (a === '--no-limit') opts.noLimit = true;
    else if (a === '--from-type') opts.fromType = next();
    else if (a === '--to-type') opts.toType = next();
    else if (a === '--chunk') opts.chunk = Number(next());
    else usage(`unknown argument ${a}`);
  }
  if (!opts.input || !opts.baseUrl || !opts.caFile) usage('--input, --base-url and --ca-file are required');
  if (!(opts.chunk >= 1 && opts.chunk <= 100)) usage('--chunk must be 1..100');
  return opts;
}

// from-id -> array of to-ids, in input order.
async function read_pairs(path) {
  const groups = new Map();
  let pairs = 0, bad = 0, first = true;
  const rl = readline.createInterface({ input: fs.createReadStream(path), crlfDelay: Infinity });
  for await (const line of rl) {
    if (first) {
      first = false;
      if (/^\s*[A-Za-z]/.test(line)) continue;  // header
    }
    if (line.length === 0) continue;
    const comma = line.indexOf(',');
    const from = comma > 0 ? line.slice(0, comma).trim() : '';
    const to = comma > 0 ? line.slice(comma + 1).trim() : '';
    if (!/^\d+$/.test(from) || !/^\d+$/.test(to)) { ++bad; continue; }
    const list = groups.get(from);
    if (list) list.push(to); else groups.set(from, [to]);
    ++pairs;
  }
  return { groups, pairs, bad };
}

async function main() {
  const opts = parse_args(process.argv.slice(2));
  const token = process.env.HUBSPOT_ACCESS_TOKEN;
  if (!token) usage('HUBSPOT_ACCESS_TOKEN is not set');

  const t0 = process.hrtime.bigint();
  const { groups, pairs, bad } = await read_pairs(opts.input);

  const httpAgent = new https.Agent({ keepAlive: true, ca: fs.readFileSync(opts.caFile) });
  const client = new Client({
    accessToken: token,
    basePath: opts.baseUrl,
    limiterOptions: opts.noLimit ? { maxConcurrent: 64, minTime: 0 } : DEFAULT_LIMITER_OPTIONS,
    numberOfApiCallRetries: 6,
    httpAgent,
  });
  const batchApi = client.crm.associations.v4.batchApi;
  const callOptions = { middleware: [], middlewareMergeStrategy: 'append' };

  // Chunks of at most opts.chunk inputs; every chunk is handed to the SDK at
  // once and its limiter queues them.
  const chunks = [];
  let inputs = [], chunkPairs = 0;
  for (const [from, tos] of groups) {
    inputs.push({ _from: { id: from }, to: tos.map((id) => ({ id })) });
    chunkPairs += tos.length;
    if (inputs.length === opts.chunk) {
      chunks.push({ inputs, pairs: chunkPairs });
      inputs = []; chunkPairs = 0;
    }
  }
  if (inputs.length) chunks.push({ inputs, pairs: chunkPairs });
  groups.clear();

  const failuresByCode = {};
  let okChunks = 0, failedChunks = 0, okPairs = 0, failedPairs = 0;
  await Promise.all(chunks.map((c) =>
    batchApi.archive(opts.fromType, opts.toType, { inputs: c.inputs }, callOptions).then(
      () => { ++okChunks; okPairs += c.pairs; },
      (err) => {
        ++failedChunks; failedPairs += c.pairs;
        const code = String(err?.code ?? err?.name ?? 'unknown');
        failuresByCode[code] = (failuresByCode[code] ?? 0) + 1;
      })));
  httpAgent.destroy();

  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  const summary = {
    tool: 'hubspot-node-sdk', input_pairs: pairs + bad, rejected_lines: bad,
    chunks: chunks.length, chunks_ok: okChunks, chunks_failed: failedChunks,
    archived_pairs: okPairs, failed_pairs: failedPairs, failures_by_code: failuresByCode,
    elapsed_s: Number(elapsed.toFixed(3)), pairs_per_s: Number((okPairs / elapsed).toFixed(1)),
    limiter: opts.noLimit ? 'no-limit' : 'DEFAULT_LIMITER_OPTIONS',
  };
  console.log(JSON.stringify(summary));
  console.error(`sdk-archive: ${okChunks}/${chunks.length} chunks ok, ${failedChunks} failed; ` +
                `${okPairs} pairs archived, ${failedPairs} failed, ${bad} bad lines`);
  process.exitCode = failedChunks > 0 || bad > 0 ? 1 : 0;
}

main().catch((e) => { console.error('sdk-archive:', e); process.exit(1); });
