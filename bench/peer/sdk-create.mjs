#!/usr/bin/env node
// The benchmark peer for `hubbatch create`: creating labelled associations the
// way a competent user would with the official HubSpot Node SDK
// (@hubspot/api-client, pinned in package-lock.json), configured as its README
// recommends. Same knobs and output format as sdk-archive.mjs.
//
//   HUBSPOT_ACCESS_TOKEN=t node sdk-create.mjs --input pairs.csv \
//       --base-url https://127.0.0.1:PORT --ca-file ca.pem [--no-limit] \
//       [--from-type contacts] [--to-type companies] [--label CATEGORY:TYPEID]
//
// - Reads the whole CSV: from_id,to_id[,category,type_id] (a header line is
//   skipped; a line without a type takes --label, else it is counted bad).
//   batch/create takes one `to` per input, so every pair is one input
//   {_from: {id}, to: {id}, types: [{associationCategory, associationTypeId}]};
//   the inputs are cut into chunks of 100 in input order.
// - Sends every chunk through client.crm.associations.v4.batchApi.create.
// - Client options as sdk-archive.mjs: limiterOptions = DEFAULT_LIMITER_OPTIONS
//   (minTime 1000/9 ms, maxConcurrent 6), or {maxConcurrent: 64, minTime: 0}
//   with --no-limit; numberOfApiCallRetries = 6; a keep-alive https.Agent that
//   trusts the sandbox's CA; per-call options {middleware: [],
//   middlewareMergeStrategy: 'append'} so the SDK (13.5.0) applies the Client's
//   middleware (the agent) at all.
// - SDK 13.5.0 (codegen/crm/associations/v4/apis/BatchApi.js, createWithHttpInfo)
//   accepts 201 and 207 and throws ApiException("An error occurred.") on any
//   other status, 200 included: against HubSpot since 2025-08-21 (200) every
//   chunk "fails" although its associations were created. The benchmark runs
//   its sandbox at the spec's 201 so the SDK works; `--create-status 200`
//   shows the breakage (failures_by_code {"200": N}).
// - A 207 (some inputs failed) counts the chunk ok and its errors[] inputs as
//   failed pairs.
// - Prints one JSON line on stdout with the counts and exits 1 when any chunk
//   or pair failed (after the SDK's own retries), 2 on a usage error.
import fs from 'node:fs';
import https from 'node:https';
import readline from 'node:readline';
import hubspot from '@hubspot/api-client';

const { Client, DEFAULT_LIMITER_OPTIONS } = hubspot;
const CATEGORIES = new Set(['HUBSPOT_DEFINED', 'USER_DEFINED', 'INTEGRATOR_DEFINED', 'WORK']);

function usage(msg) {
  if (msg) console.error(`sdk-create: ${msg}`);
  console.error('usage: sdk-create.mjs --input FILE --base-url URL --ca-file PEM [--no-limit] ' +
                '[--from-type T] [--to-type T] [--chunk N] [--label CATEGORY:TYPEID]');
  process.exit(2);
}

function parse_type(cat, id) {
  cat = (cat ?? '').trim().toUpperCase();
  id = (id ?? '').trim();
  if (!CATEGORIES.has(cat) || !/^\d+$/.test(id) || Number(id) < 1 || Number(id) > 2147483647) return null;
  return { associationCategory: cat, associationTypeId: Number(id) };
}

function parse_args(argv) {
  const opts = { input: null, baseUrl: null, caFile: null, noLimit: false,
                 fromType: 'contacts', toType: 'companies', chunk: 100, label: null };
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
    else if (a === '--label') {
      const [c, t] = next().split(':');
      opts.label = parse_type(c, t) ?? usage('--label must be CATEGORY:TYPEID');
    } else usage(`unknown argument ${a}`);
  }
  if (!opts.input || !opts.baseUrl || !opts.caFile) usage('--input, --base-url and --ca-file are required');
  if (!(opts.chunk >= 1 && opts.chunk <= 100)) usage('--chunk must be 1..100');
  return opts;
}

// One input per pair, in input order.
async function read_inputs(path, label) {
  const inputs = [];
  let bad = 0, first = true;
  const rl = readline.createInterface({ input: fs.createReadStream(path), crlfDelay: Infinity });
  for await (const line of rl) {
    if (first) {
      first = false;
      if (/^\s*[A-Za-z]/.test(line)) continue;  // header
    }
    if (line.length === 0) continue;
    const cells = line.split(',');
    const from = (cells[0] ?? '').trim(), to = (cells[1] ?? '').trim();
    if (!/^\d+$/.test(from) || !/^\d+$/.test(to)) { ++bad; continue; }
    const type = cells.length >= 4 && (cells[2].trim() || cells[3].trim()) ? parse_type(cells[2], cells[3]) : label;
    if (!type) { ++bad; continue; }
    inputs.push({ _from: { id: from }, to: { id: to }, types: [type] });
  }
  return { inputs, bad };
}

async function main() {
  const opts = parse_args(process.argv.slice(2));
  const token = process.env.HUBSPOT_ACCESS_TOKEN;
  if (!token) usage('HUBSPOT_ACCESS_TOKEN is not set');

  const t0 = process.hrtime.bigint();
  const { inputs, bad } = await read_inputs(opts.input, opts.label);
  const pairs = inputs.length;

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
  for (let i = 0; i < inputs.length; i += opts.chunk) chunks.push(inputs.slice(i, i + opts.chunk));
  inputs.length = 0;

  const failuresByCode = {};
  let okChunks = 0, failedChunks = 0, okPairs = 0, failedPairs = 0;
  await Promise.all(chunks.map((c) =>
    batchApi.create(opts.fromType, opts.toType, { inputs: c }, callOptions).then(
      (res) => {
        ++okChunks;
        // 207: errors[] name the inputs that failed; count them, the rest is created.
        const failed = Math.min(c.length, (res?.errors ?? []).reduce(
          (n, e) => n + Math.max(1, e?.context?.fromObjectId?.length ?? 1), 0));
        okPairs += c.length - failed; failedPairs += failed;
        if (failed) failuresByCode['207'] = (failuresByCode['207'] ?? 0) + failed;
      },
      (err) => {
        ++failedChunks; failedPairs += c.length;
        const code = String(err?.code ?? err?.name ?? 'unknown');
        failuresByCode[code] = (failuresByCode[code] ?? 0) + 1;
      })));
  httpAgent.destroy();

  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  const summary = {
    tool: 'hubspot-node-sdk', operation: 'create', input_pairs: pairs + bad, rejected_lines: bad,
    chunks: chunks.length, chunks_ok: okChunks, chunks_failed: failedChunks,
    created_pairs: okPairs, failed_pairs: failedPairs, failures_by_code: failuresByCode,
    elapsed_s: Number(elapsed.toFixed(3)), pairs_per_s: Number((okPairs / elapsed).toFixed(1)),
    limiter: opts.noLimit ? 'no-limit' : 'DEFAULT_LIMITER_OPTIONS',
  };
  console.log(JSON.stringify(summary));
  console.error(`sdk-create: ${okChunks}/${chunks.length} chunks ok, ${failedChunks} failed; ` +
                `${okPairs} pairs created, ${failedPairs} failed, ${bad} bad lines`);
  process.exitCode = failedChunks > 0 || failedPairs > 0 || bad > 0 ? 1 : 0;
}

main().catch((e) => { console.error('sdk-create:', e); process.exit(1); });
