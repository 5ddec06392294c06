#!/usr/bin/env node
// The benchmark peer for `hubbatch export`: reading every association of a
// list of records the way a competent user would with the official HubSpot
// Node SDK (@hubspot/api-client, pinned in package-lock.json), configured as
// its README recommends. Same knobs and output conventions as sdk-create.mjs.
//
//   HUBSPOT_ACCESS_TOKEN=t node sdk-export.mjs --input ids.csv --output out.csv \
//       --base-url https://127.0.0.1:PORT --ca-file ca.pem [--no-limit] \
//       [--from-type contacts] [--to-type companies]
//
// - Reads the whole input: one record id a line (the first cell of a CSV
//   line; a header line is skipped, a non-numeric id is counted bad).
// - client.crm.associations.v4.batchApi.getPage(from, to, {inputs: [{id}]})
//   per chunk of 1,000 ids (HubSpot's cap), every chunk handed to the SDK at
//   once so its limiter queues them. A record whose answer carries
//   paging.next.after is asked again with {id, after}: after each round, the
//   records still paging are chunked by 1,000 into the next round, until none
//   is left (what a user of the SDK has to write; the SDK does not page).
// - Writes one CSV line per association type, as `hubbatch export` does:
//   from_id,to_id,category,type_id,label (header first).
// - A 207 answer's errors[] (NO_ASSOCIATIONS_FOUND, INVALID_OBJECT_IDS) count
//   their records as failed_records.
// - Client options as sdk-create.mjs: DEFAULT_LIMITER_OPTIONS (or
//   {maxConcurrent: 64, minTime: 0} with --no-limit), numberOfApiCallRetries
//   6, a keep-alive https.Agent trusting the sandbox CA, and per-call options
//   {middleware: [], middlewareMergeStrategy: 'append'} so that SDK 13.5.0
//   uses the agent at all (see bench/README.md).
// - Prints one JSON line on stdout with the counts; exits 1 when any request
//   or record failed (after the SDK's own retries), 2 on a usage error.
import fs from 'node:fs';
import https from 'node:https';
import readline from 'node:readline';
import hubspot from '@hubspot/api-client';

const { Client, DEFAULT_LIMITER_OPTIONS } = hubspot;

function usage(msg) {
  if (msg) console.error(`sdk-export: ${msg}`);
  console.error('usage: sdk-export.mjs --input FILE --output FILE --base-url URL --ca-file PEM [--no-limit] ' +
                '[--from-type T] [--to-type T] [--chunk N]');
  process.exit(2);
}

function parse_args(argv) {
  const opts = { input: null, output: null, baseUrl: null, caFile: null, noLimit: false,
                 fromType: 'contacts', toType: 'companies', chunk: 1000 };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const next = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    if (a === '--input') opts.input = next();
    else if (a === '--output') opts.output = next();
    else if (a === '--base-url') opts.baseUrl = next();
    else if (a === '--ca-file') opts.caFile = next();
    else if (a === '--no-limit') opts.noLimit = true;
    else if (a === '--from-type') opts.fromType = next();
    else if (a === '--to-type') opts.toType = next();
    else if (a === '--chunk') opts.chunk = Number(next());
    else usage(`unknown argument ${a}`);
  }
  if (!opts.input || !opts.output || !opts.baseUrl || !opts.caFile)
    usage('--input, --output, --base-url and --ca-file are required');
  if (!(opts.chunk >= 1 && opts.chunk <= 1000)) usage('--chunk must be 1..1000');
  return opts;
}

async function read_ids(path) {
  const ids = [];
  let bad = 0, first = true;
  const rl = readline.createInterface({ input: fs.createReadStream(path), crlfDelay: Infinity });
  for await (const line of rl) {
    if (first) {
      first = false;
      if (/^\s*[A-Za-z]/.test(line)) continue;  // header
    }
    if (line.length === 0) continue;
    const id = line.split(',')[0].trim();
    if (!/^\d+$/.test(id)) { ++bad; continue; }
    ids.push(id);
  }
  return { ids, bad };
}

function csv_cell(s) {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

async function main() {
  const opts = parse_args(process.argv.slice(2));
  const token = process.env.HUBSPOT_ACCESS_TOKEN;
  if (!token) usage('HUBSPOT_ACCESS_TOKEN is not set');

  const t0 = process.hrtime.bigint();
  const { ids, bad } = await read_ids(opts.input);

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

  const out = fs.createWriteStream(opts.output);
  out.write('from_id,to_id,category,type_id,label\n');
  const failuresByCode = {};
  let requests = 0, okRequests = 0, failedRequests = 0, rounds = 0;
  let pages = 0, associations = 0, rows = 0, failedRecords = 0;
  const done = new Set();

  // One round: every input (id, and after for a record's later pages) in
  // chunks of opts.chunk; returns the inputs of the next round.
  let inputs = ids.map((id) => ({ id }));
  while (inputs.length) {
    ++rounds;
    const chunks = [];
    for (let i = 0; i < inputs.length; i += opts.chunk) chunks.push(inputs.slice(i, i + opts.chunk));
    const next = [];
    await Promise.all(chunks.map((c) => {
      ++requests;
      return batchApi.getPage(opts.fromType, opts.toType, { inputs: c }, callOptions).then(
        (res) => {
          ++okRequests;
          let text = '';
          for (const r of res?.results ?? []) {
            ++pages;
            const from = String(r._from.id);
            done.add(from);
            for (const to of r.to ?? []) {
              ++associations;
              const toId = String(to.toObjectId);
              for (const t of to.associationTypes ?? []) {
                ++rows;
                text += `${from},${toId},${t.category},${t.typeId},${t.label == null ? '' : csv_cell(t.label)}\n`;
              }
            }
            const after = r.paging?.next?.after;
            if (after) next.push({ id: from, after });
          }
          out.write(text);
          for (const e of res?.errors ?? []) {
            const n = Math.max(1, e?.context?.fromObjectId?.length ?? 1);
            failedRecords += n;
            const code = String(e?.subCategory ?? e?.category ?? 'error');
            failuresByCode[code] = (failuresByCode[code] ?? 0) + n;
          }
        },
        (err) => {
          ++failedRequests; failedRecords += c.length;
          const code = String(err?.code ?? err?.name ?? 'unknown');
          failuresByCode[code] = (failuresByCode[code] ?? 0) + 1;
        });
    }));
    inputs = next;
  }
  await new Promise((resolve, reject) => out.end((e) => (e ? reject(e) : resolve())));
  httpAgent.destroy();

  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  const summary = {
    tool: 'hubspot-node-sdk', operation: 'export', input_records: ids.length + bad, rejected_lines: bad,
    requests, requests_ok: okRequests, requests_failed: failedRequests, rounds,
    records: done.size, failed_records: failedRecords, pages, associations, association_rows: rows,
    failures_by_code: failuresByCode, elapsed_s: Number(elapsed.toFixed(3)),
    associations_per_s: Number((associations / elapsed).toFixed(1)),
    limiter: opts.noLimit ? 'no-limit' : 'DEFAULT_LIMITER_OPTIONS',
  };
  console.log(JSON.stringify(summary));
  console.error(`sdk-export: ${okRequests}/${requests} requests ok in ${rounds} rounds; ${done.size} records, ` +
                `${associations} associations (${rows} rows), ${failedRecords} records failed, ${bad} bad lines`);
  process.exitCode = failedRequests > 0 || failedRecords > 0 || bad > 0 ? 1 : 0;
}

main().catch((e) => { console.error('sdk-export:', e); process.exit(1); });
