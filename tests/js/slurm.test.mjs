// Real schedulers (issue #15, docs/scale-out.md): a single-node Slurm started here (munged,
// slurmctld, slurmd as root, Debian's slurm-wlm and munge, everything under a temp folder, on
// free ports) runs `sbatch --wait --array=0-2` of `onnxfx extract ... --shard auto -o
// DIR/part-{shard}.npy`; merged, the parts equal a single-process run. Kubernetes' Indexed Job
// is the same command with JOB_COMPLETION_INDEX set, once per index. Every daemon started here
// is stopped by its PID, when a test fails too.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { repoRoot } from './helpers.mjs';
import { installCli, runCli, writeTinyModel, TINY, makeImages, writeFolder, writeTar, readNpy, readKeys } from './scale-out-fixtures.mjs';

let cli, work, modelFile, inputs, single;
const daemons = []; // {name, child}
let slurmDir, slurmEnv;

const out = (...p) => path.join(work, ...p);

/** A TCP port nobody listens on now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function startDaemon(name, command, args) {
  const log = openSync(path.join(slurmDir, `${name}.out`), 'a');
  const child = spawn(command, args, { stdio: ['ignore', log, log], env: slurmEnv });
  closeSync(log);
  daemons.push({ name, child });
  child.on('error', () => {}); // a missing binary shows in the log check below
  return child;
}

/** A daemon's output and log file. */
const log = (name) => [path.join(slurmDir, `${name}.out`), path.join(slurmDir, 'log', `${name}.log`)]
  .filter((f) => existsSync(f)).map((f) => readFileSync(f, 'utf8')).join('');

/**
 * Stops every daemon started here, by PID: SIGTERM, then SIGKILL for one still there after 10 s.
 * Jobs still queued or running are cancelled first, so that slurmd's job steps end with them.
 */
async function stopDaemons() {
  const ctld = daemons.find((d) => d.name === 'slurmctld')?.child;
  if (ctld && ctld.exitCode === null && ctld.signalCode === null) {
    slurm('scancel', ['--user', os.userInfo().username]);
    await waitFor('the jobs ending', () => (slurm('squeue', ['-h', '-o', '%i']).stdout ?? '').trim() === '', 20).catch(() => {});
  }
  for (const { child } of daemons.reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  }
  daemons.length = 0;
}

// Also when the test process ends some other way (an uncaught error): by PID, synchronously.
process.on('exit', () => {
  for (const { child } of daemons) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

const slurm = (command, args) => spawnSync(command, args, { encoding: 'utf8', env: slurmEnv, timeout: 300_000 });

async function waitFor(what, check, seconds = 60) {
  for (let i = 0; i < seconds * 4; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what} did not happen in ${seconds} s\nmunged:\n${log('munged')}\nslurmctld:\n${log('slurmctld')}\nslurmd:\n${log('slurmd')}`);
}

test.before(async () => {
  cli = installCli();
  work = mkdtempSync(path.join(os.tmpdir(), 'onnxfx-slurm-'));
  modelFile = writeTinyModel(out('tiny.onnx'));
  const images = makeImages(14);
  writeFolder(out('photos'), images.slice(0, 5));
  await writeTar(out('shard-000.tar'), images.slice(5).flatMap((f, i) => [
    { name: `s${i}.${f.name.split('.').pop()}`, bytes: f.bytes }, { name: `s${i}.cls`, bytes: new TextEncoder().encode(String(i)) },
  ]));
  inputs = [out('photos'), out('shard-000.tar')];
  const r = runCli(cli.bin, ['extract', modelFile, ...inputs, ...TINY, '-o', out('single.npy')]);
  assert.equal(r.code, 0, r.stderr);
  single = { bytes: readFileSync(out('single.npy')), keys: readKeys(out('single.npy')) };
  assert.equal(single.keys.length, 14);
});

test.after(async () => {
  await stopDaemons();
  if (work) rmSync(work, { recursive: true, force: true });
  if (cli) rmSync(cli.root, { recursive: true, force: true });
});

test('Kubernetes Indexed Job: the command with JOB_COMPLETION_INDEX 0, 1, 2 and --shards 3, merged, is the single run', () => {
  for (const index of [2, 0, 1]) {
    const r = runCli(cli.bin, ['extract', modelFile, ...inputs, ...TINY, '--shard', 'auto', '--shards', '3', '-o', out('k8s', 'part-{shard}.npy')],
      { env: { JOB_COMPLETION_INDEX: String(index), SLURM_ARRAY_TASK_ID: '', SLURM_ARRAY_TASK_COUNT: '' } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`shard ${index}/3: `));
    assert.match(r.stderr, /images\/s/);
  }
  assert.deepEqual(readdirSync(out('k8s')).filter((f) => f.endsWith('.npy')).sort(), ['part-0.npy', 'part-1.npy', 'part-2.npy']);
  const m = runCli(cli.bin, ['merge', ...[0, 1, 2].map((k) => out('k8s', `part-${k}.npy`)), '-o', out('k8s-all.npy'), '--expect', '3']);
  assert.equal(m.code, 0, m.stderr);
  assert.deepEqual(readKeys(out('k8s-all.npy')), single.keys);
  assert.deepEqual(readFileSync(out('k8s-all.npy')), single.bytes);
});

test('Slurm: sbatch --wait --array=0-2 of extract --shard auto on a single-node cluster started here; merged, it is the single run', async () => {
  if (process.getuid() !== 0) assert.fail('this test starts slurmctld and slurmd as root: run it as root (CI does)');
  slurmDir = out('cluster');
  for (const d of ['state', 'spool', 'log']) mkdirSync(path.join(slurmDir, d), { recursive: true });
  const conf = path.join(slurmDir, 'slurm.conf');
  const socket = path.join(slurmDir, 'munge.socket');
  slurmEnv = { ...process.env, SLURM_CONF: conf };
  for (const v of ['SLURM_ARRAY_TASK_ID', 'SLURM_ARRAY_TASK_COUNT', 'JOB_COMPLETION_INDEX']) delete slurmEnv[v];

  // munge, with a key made here
  const key = path.join(slurmDir, 'munge.key');
  writeFileSync(key, randomBytes(1024), { mode: 0o400 });
  startDaemon('munged', 'munged', ['--foreground', '--force', `--key-file=${key}`, `--socket=${socket}`,
    `--pid-file=${path.join(slurmDir, 'munged.pid')}`, `--log-file=${path.join(slurmDir, 'log', 'munged.log')}`,
    `--seed-file=${path.join(slurmDir, 'munged.seed')}`]);
  await waitFor('munged creating its socket', () => existsSync(socket));

  // slurm.conf for this host
  const host = os.hostname().split('.')[0];
  const cpus = os.availableParallelism?.() ?? os.cpus().length;
  const [ctldPort, dPort] = [await freePort(), await freePort()];
  writeFileSync(conf, [
    'ClusterName=onnxfxtest',
    `SlurmctldHost=${host}(127.0.0.1)`,
    `SlurmctldPort=${ctldPort}`,
    `SlurmdPort=${dPort}`,
    'SlurmUser=root',
    'SlurmdUser=root',
    'AuthType=auth/munge',
    'CredType=cred/munge',
    `AuthInfo=socket=${socket}`,
    `StateSaveLocation=${path.join(slurmDir, 'state')}`,
    `SlurmdSpoolDir=${path.join(slurmDir, 'spool')}`,
    `SlurmctldPidFile=${path.join(slurmDir, 'slurmctld.pid')}`,
    `SlurmdPidFile=${path.join(slurmDir, 'slurmd.pid')}`,
    `SlurmctldLogFile=${path.join(slurmDir, 'log', 'slurmctld.log')}`,
    `SlurmdLogFile=${path.join(slurmDir, 'log', 'slurmd.log')}`,
    'ProctrackType=proctrack/linuxproc',
    'TaskPlugin=task/none',
    'JobAcctGatherType=jobacct_gather/none',
    'AccountingStorageType=accounting_storage/none',
    'SchedulerType=sched/builtin',
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_CPU',
    'MpiDefault=none',
    'MailProg=/bin/true',
    'ReturnToService=2',
    `NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} State=UNKNOWN`,
    'PartitionName=onnxfx Nodes=ALL Default=YES MaxTime=INFINITE State=UP',
    '',
  ].join('\n'));
  startDaemon('slurmctld', 'slurmctld', ['-D', '-f', conf]);
  startDaemon('slurmd', 'slurmd', ['-D', '-f', conf, '-N', host]);
  await waitFor('the node becoming idle', () => /^idle/m.test(slurm('sinfo', ['-h', '-N', '-o', '%T']).stdout ?? ''));

  // The array: one task per shard, the shard from SLURM_ARRAY_TASK_ID / _COUNT.
  const script = path.join(work, 'extract.sbatch');
  const q = (s) => `'${s.replace(/'/g, "'\\''")}'`;
  writeFileSync(script, [
    '#!/bin/bash',
    'set -euo pipefail',
    `exec ${q(process.execPath)} ${q(cli.bin)} extract ${q(modelFile)} ${inputs.map(q).join(' ')} ${TINY.join(' ')} ` +
      `--shard auto --json -o ${q(out('slurm', 'part-{shard}.npy'))}`,
    '',
  ].join('\n'));
  const r = slurm('sbatch', ['--wait', '--array=0-2', '--cpus-per-task=1', `--chdir=${work}`,
    `--output=${out('slurm-%a.log')}`, script]);
  const logs = [0, 1, 2].map((k) => (existsSync(out(`slurm-${k}.log`)) ? readFileSync(out(`slurm-${k}.log`), 'utf8') : ''));
  assert.equal(r.status, 0, `sbatch: ${r.stdout}${r.stderr}\n${logs.join('\n')}\nslurmctld:\n${log('slurmctld')}`);
  assert.match(r.stdout, /Submitted batch job \d+/);
  logs.forEach((text, k) => {
    assert.match(text, new RegExp(`shard ${k}/3: images `), `task ${k}`);
    const end = text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).find((e) => e.event === 'end');
    assert.ok(end && end.imagesPerSecond > 0, `task ${k} ended with its images/s: ${text}`);
  });

  const m = runCli(cli.bin, ['merge', ...[0, 1, 2].map((k) => out('slurm', `part-${k}.npy`)), '-o', out('slurm-all.npy'), '--expect', '3']);
  assert.equal(m.code, 0, m.stderr);
  assert.deepEqual(readKeys(out('slurm-all.npy')), single.keys);
  assert.deepEqual(readFileSync(out('slurm-all.npy')), single.bytes, 'the same rows, bit for bit');
  assert.deepEqual(readNpy(out('slurm-all.npy')).shape, [14, 16]);

  await stopDaemons();
  assert.ok(daemons.length === 0);
});

test('docs/scale-out.md: the Slurm script is bash, its array numbered from 0 with as many tasks as merge expects; the Job\'s completions are its --shards', () => {
  const doc = readFileSync(path.join(repoRoot, 'docs/scale-out.md'), 'utf8');
  const block = (lang, after) => new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(doc.slice(doc.indexOf(after)))?.[1];
  const sbatch = block('bash', '## Slurm');
  assert.ok(sbatch, 'the Slurm script');
  writeFileSync(out('doc.sbatch'), sbatch);
  const syntax = spawnSync('bash', ['-n', out('doc.sbatch')], { encoding: 'utf8' });
  assert.equal(syntax.status, 0, syntax.stderr);
  const tasks = Number(/#SBATCH --array=0-(\d+)/.exec(sbatch)[1]) + 1;
  assert.match(sbatch, /exec npx onnxfx extract .* --shard auto .*\n? *-o \S+part-\{shard\}\.npy/s);
  const merge = block('sh', '## Slurm');
  assert.match(merge, new RegExp(`--dependency=afterok:\\$job [\\s\\S]*npx onnxfx merge \\S+part-\\*\\.npy -o \\S+ --expect ${tasks}'`));

  const job = block('yaml', '## Kubernetes');
  assert.match(job, /completionMode: Indexed/);
  const completions = Number(/completions: (\d+)/.exec(job)[1]);
  assert.match(job, new RegExp(`npx onnxfx extract [\\s\\S]*--shard auto --shards ${completions} [\\s\\S]*-o /out/\\S*part-\\{shard\\}\\.npy`));
  assert.match(doc, new RegExp(`onnxfx merge /out/features/part-\\*\\.npy -o /out/features/all\\.npy --expect ${completions}\``));
});
