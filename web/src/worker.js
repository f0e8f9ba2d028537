/**
 * The worker side of `loadModel(source, { worker: true })`: a Web Worker (module type) in
 * browsers, a worker_threads Worker in Node. It owns one LocalEngine and answers each message
 * `{type, id, in}` with `{type, id, out}` or `{type, id, err}`, one at a time, in arrival
 * order, so calls made concurrently on the client run one after the other here. Buffers in the
 * answer (run outputs, toOnnx bytes) are transferred, not copied. The one message it sends
 * unasked is `{type: 'read'}`: a range of weights for the page to fetch into shared memory while
 * the core waits for it (readRange below).
 */
import { LocalEngine } from './engine.js';
import { serializeError } from './errors.js';
import { poolReady } from './loader.js';

let enginePromise = null;
let post;
let queue = Promise.resolve();

function transferablesOf(out) {
  const list = [];
  const add = (view) => {
    if (ArrayBuffer.isView(view) && view.buffer instanceof ArrayBuffer && !list.includes(view.buffer)) list.push(view.buffer);
  };
  if (ArrayBuffer.isView(out)) add(out);
  else if (Array.isArray(out)) for (const t of out) add(t?.data);
  return list;
}

async function handle(message) {
  const { type, id } = message;
  try {
    if (type === 'init') {
      enginePromise ??= LocalEngine.create(message.in ?? {}).then((engine) => {
        if (!isNode) engine.readRange = readRange;
        return engine;
      });
      const engine = await enginePromise;
      post({ type, id, out: await engine.info() });
      return;
    }
    if (type === 'settle') {
      // before terminate: let the thread pool finish loading (see WorkerEngine.terminate)
      const engine = await enginePromise?.catch(() => null);
      if (engine) await poolReady(engine.core.mod);
      post({ type, id, out: undefined });
      return;
    }
    if (!enginePromise) throw new Error('the worker got a call before init');
    const engine = await enginePromise;
    // progress goes back as {type: 'progress', id, out: [done, total]} before the answer
    const progress = (done, total) => post({ type: 'progress', id, out: [done, total] });
    const out = await engine.call(type, message.in, undefined, progress); // refuses a type that is not an operation
    post({ type, id, out }, transferablesOf(out));
  } catch (err) {
    post({ type, id, err: serializeError(err) });
  }
}

/**
 * Reads url's bytes [offset, offset + length) into target (shared memory) while this worker
 * waits: the page fetches them (worker-client.js → source.js fillRange) and streams them into
 * place, so no response buffer piles up here, where a blocked thread collects no garbage.
 */
const control = typeof SharedArrayBuffer === 'undefined' ? null : new SharedArrayBuffer(4);
function readRange(url, offset, length, target) {
  const flag = new Int32Array(/** @type {SharedArrayBuffer} */ (control));
  Atomics.store(flag, 0, 0);
  post({ type: 'read', in: { url, offset, length, buffer: target.buffer, byteOffset: target.byteOffset, control } });
  while (Atomics.load(flag, 0) === 0) Atomics.wait(flag, 0, 0);
  return Atomics.load(flag, 0) === 1;
}

function receive(message) {
  queue = queue.then(() => handle(message));
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof self === 'undefined';
if (isNode) {
  const { parentPort } = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:worker_threads');
  post = (msg, transfer) => parentPort.postMessage(msg, transfer);
  parentPort.on('message', receive);
} else {
  post = (msg, transfer) => self.postMessage(msg, transfer ?? []);
  self.onmessage = (event) => receive(event.data);
}
