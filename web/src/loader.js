/**
 * Finds and instantiates the WebAssembly module, once per variant per process, page or worker.
 *
 * Four builds ship in dist/: `onnxfx` (pthreads; needs SharedArrayBuffer) and `onnxfx-st` (one
 * thread) on WebAssembly SIMD128, and the same two built with relaxed SIMD, `onnxfx-relaxed` and
 * `onnxfx-relaxed-st` (FMA micro-kernels through f32x4.relaxed_madd; CMakeLists.txt says how they
 * are built). Threads: Node always gets the threaded one; a browser gets it when the page (or
 * worker) is cross-origin isolated, else the single-thread one with a one-line notice. SIMD
 * (`options.simd`, default 'auto'): the relaxed build where `WebAssembly.validate` accepts a tiny
 * module using one relaxed instruction and the engine ships relaxed SIMD by default (Chromium,
 * Node >= 22), else SIMD128: Node 20 validates it behind --experimental-wasm-relaxed-simd but runs
 * it slower than SIMD128 (docs/benchmarks.md: resnet50 1.3x, vit_b_16 1.6x the time), so there
 * only `simd: 'relaxed'` loads it. Files are found relative to this module (`../dist/`), or under `options.distUrl`;
 * `options.wasmUrl` / `options.wasmPath` override the .wasm file alone (and make 'auto' mean
 * SIMD128: the file given is taken to be that build's unless `simd: 'relaxed'` says otherwise).
 *
 * Browsers load `<name>.mjs`, an ES module copy of Emscripten's CommonJS factory made at build
 * time (web/scripts/es-module-wrapper.cmake): no bundler, no eval. pthread workers load the
 * classic `<name>.js`, passed as `mainScriptUrlOrBlob`.
 */
import { OnnxfxError } from './errors.js';

const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';
const modules = new Map();
let noticeShown = false;

/** True when this page/worker can share memory with threads. */
function canUseThreads() {
  if (isNode) return true;
  return globalThis.crossOriginIsolated === true && typeof SharedArrayBuffer !== 'undefined';
}

/**
 * Kernel threads when loadModel is given no numThreads: the machine's logical cores where
 * threads can run (Node; cross-origin isolated pages), else 1. The C side caps the count at what
 * the build's pre-spawned pool allows (4 workers + the calling thread); where more threads stop
 * paying off could not be measured on the 2-core machines this project is built on.
 * @param {{threads?: boolean}} options
 * @returns {Promise<number>}
 */
export async function defaultThreadCount(options = {}) {
  if (options.threads === false || !canUseThreads()) return 1;
  if (isNode) {
    const os = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:os');
    return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  }
  return Math.max(1, globalThis.navigator?.hardwareConcurrency ?? 1);
}

/**
 * Which build to load: 'mt' (threaded) or 'st'.
 * @param {{threads?: boolean}} options
 */
export function pickVariant(options = {}) {
  if (options.threads === false) return 'st';
  if (canUseThreads()) return 'mt';
  if (!noticeShown) {
    noticeShown = true;
    console.info('onnxfx: this page is not cross-origin isolated (no SharedArrayBuffer), so it runs on 1 thread; ' +
      'serve it with COOP/COEP headers to use threads.');
  }
  return 'st';
}

/**
 * A module whose one function computes f32x4.relaxed_madd (0xfd 0x85 0x02, the standard opcode)
 * on three f32x4.splat(0): valid only where the engine has relaxed SIMD.
 */
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // types: () -> v128
  0x03, 0x02, 0x01, 0x00, // functions: one, of type 0
  0x0a, 0x1c, 0x01, 0x1a, 0x00, // code: one body of 26 bytes, no locals
  0x43, 0x00, 0x00, 0x00, 0x00, 0xfd, 0x13, // f32.const 0, f32x4.splat
  0x43, 0x00, 0x00, 0x00, 0x00, 0xfd, 0x13,
  0x43, 0x00, 0x00, 0x00, 0x00, 0xfd, 0x13,
  0xfd, 0x85, 0x02, // f32x4.relaxed_madd
  0x0b, // end
]);
let relaxedSupported = null;

/** True when this engine compiles WebAssembly relaxed SIMD (checked once). */
export function relaxedSimdSupported() {
  if (relaxedSupported === null) {
    try {
      relaxedSupported = typeof WebAssembly === 'object' && WebAssembly.validate(RELAXED_PROBE);
    } catch {
      relaxedSupported = false;
    }
  }
  return relaxedSupported;
}

/** Set once 'auto' could not load a relaxed build: later loads go straight to SIMD128. */
let relaxedUnavailable = false;

/**
 * Which SIMD build to load: 'relaxed' or 'simd128' (see the top of this file). `simd: 'relaxed'`
 * where the engine cannot run it is an INVALID_ARGUMENT error saying so.
 * @param {{simd?: 'auto'|'relaxed'|'simd128', wasmUrl?: string|URL, wasmPath?: string}} options
 * @returns {'relaxed'|'simd128'}
 */
export function pickSimd(options = {}) {
  const simd = options.simd ?? 'auto';
  if (simd === 'simd128') return 'simd128';
  if (simd === 'relaxed') {
    if (!relaxedSimdSupported()) {
      throw new OnnxfxError('INVALID_ARGUMENT', "simd: 'relaxed' was asked for, but this JavaScript engine does not support " +
        'WebAssembly relaxed SIMD' + (isNode
        ? ` (Node.js ${process.versions.node}: Node 20 runs it with the flag --experimental-wasm-relaxed-simd)`
        : ' (Chromium-based browsers run it)') + "; use simd: 'auto' or 'simd128'");
    }
    return 'relaxed';
  }
  if (options.wasmUrl != null || options.wasmPath != null || relaxedUnavailable) return 'simd128';
  return relaxedSimdSupported() && !relaxedOnlyBehindFlag() ? 'relaxed' : 'simd128';
}

/** Node < 22: relaxed SIMD runs only behind --experimental-wasm-relaxed-simd, and slower. */
function relaxedOnlyBehindFlag() {
  return isNode && Number(process.versions.node.split('.')[0]) < 22;
}

const FILE_STEM = { mt: 'onnxfx', st: 'onnxfx-st', 'relaxed-mt': 'onnxfx-relaxed', 'relaxed-st': 'onnxfx-relaxed-st' };
/** This module's URL, through a variable where no bundler should see a file to emit. */
const HERE = import.meta.url;

function asDirUrl(dist) {
  const url = dist instanceof URL ? new URL(dist.href) : new URL(String(dist), globalThis.location?.href ?? import.meta.url);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

/**
 * Emscripten's `quit` ends the Node process (`process.exit`) on exit() or a fatal error; a
 * library must not. The error is thrown to the caller instead, whatever the build's flags.
 */
function noQuit(_status, toThrow) {
  throw toThrow;
}

async function instantiateInNode(variant, options) {
  const { createRequire } = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:module');
  const { readFile } = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:fs/promises');
  const { fileURLToPath, pathToFileURL } = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:url');
  const distUrl = options.distUrl != null
    ? (typeof options.distUrl === 'string' && !/^[a-z][a-z0-9+.-]*:/i.test(options.distUrl)
      ? pathToFileURL(options.distUrl.endsWith('/') ? options.distUrl : `${options.distUrl}/`)
      : asDirUrl(options.distUrl))
    : new URL('../dist/', HERE);
  const dir = fileURLToPath(distUrl);
  const stem = FILE_STEM[variant];
  const require = createRequire(import.meta.url);
  const factory = require(`${dir}${stem}.js`);
  // Emscripten's loader would fetch() the file path, which Node cannot do: hand it the bytes.
  let wasmFile = options.wasmPath ?? options.wasmUrl ?? `${dir}${stem}.wasm`;
  if (wasmFile instanceof URL || /^file:/.test(String(wasmFile))) wasmFile = fileURLToPath(wasmFile);
  const wasmBinary = await readFile(wasmFile);
  const moduleArg = { wasmBinary, locateFile: (file) => `${dir}${file}`, quit: noQuit };
  try {
    return await factory(moduleArg);
  } catch (err) {
    // The pthread pool's workers start before the module instantiates; a failed start must not
    // leave them keeping the process alive.
    moduleArg.PThread?.terminateAllThreads?.();
    throw err;
  }
}

/**
 * The build's files, each as a literal `new URL('../dist/<file>', import.meta.url)`: unbundled
 * that is the file beside this module's folder; bundlers (Vite, webpack) recognise the pattern,
 * emit the file with the app and rewrite the URL, so no configuration is needed.
 * @returns {Record<string, string>} URL by file name
 */
function packagedFiles(variant) {
  if (variant === 'mt') {
    return {
      'onnxfx.mjs': new URL('../dist/onnxfx.mjs', import.meta.url).href,
      'onnxfx.js': new URL('../dist/onnxfx.js', import.meta.url).href,
      'onnxfx.wasm': new URL('../dist/onnxfx.wasm', import.meta.url).href,
      'onnxfx.worker.js': new URL('../dist/onnxfx.worker.js', import.meta.url).href,
    };
  }
  if (variant === 'relaxed-mt') {
    return {
      'onnxfx-relaxed.mjs': new URL('../dist/onnxfx-relaxed.mjs', import.meta.url).href,
      'onnxfx-relaxed.js': new URL('../dist/onnxfx-relaxed.js', import.meta.url).href,
      'onnxfx-relaxed.wasm': new URL('../dist/onnxfx-relaxed.wasm', import.meta.url).href,
      'onnxfx-relaxed.worker.js': new URL('../dist/onnxfx-relaxed.worker.js', import.meta.url).href,
    };
  }
  if (variant === 'relaxed-st') {
    return {
      'onnxfx-relaxed-st.mjs': new URL('../dist/onnxfx-relaxed-st.mjs', import.meta.url).href,
      'onnxfx-relaxed-st.wasm': new URL('../dist/onnxfx-relaxed-st.wasm', import.meta.url).href,
    };
  }
  return {
    'onnxfx-st.mjs': new URL('../dist/onnxfx-st.mjs', import.meta.url).href,
    'onnxfx-st.wasm': new URL('../dist/onnxfx-st.wasm', import.meta.url).href,
  };
}

async function instantiateInBrowser(variant, options) {
  const stem = FILE_STEM[variant];
  const distUrl = options.distUrl != null ? asDirUrl(options.distUrl) : null;
  const packaged = distUrl ? null : packagedFiles(variant);
  // A bundler may inline a small file as a data: URL (Vite does, under 4 KiB: the pthread
  // worker script). A worker started from a data: URL has an opaque origin and cannot load the
  // module's script under COEP; a blob: URL keeps the page's origin.
  for (const [file, url] of Object.entries(packaged ?? {})) {
    if (url.startsWith('data:')) packaged[file] = URL.createObjectURL(await (await fetch(url)).blob());
  }
  const fileUrl = (file) => (packaged ? packaged[file] ?? new URL(file, new URL('../dist/', HERE)).href : new URL(file, distUrl).href);
  const { default: factory } = await import(/* webpackIgnore: true */ /* @vite-ignore */ fileUrl(`${stem}.mjs`));
  const wasmUrl = options.wasmUrl ?? options.wasmPath;
  return factory({
    locateFile: (file) => (file.endsWith('.wasm') && wasmUrl != null
      ? String(new URL(String(wasmUrl), distUrl ?? globalThis.location?.href))
      : fileUrl(file)),
    mainScriptUrlOrBlob: fileUrl(`${stem}.js`),
    quit: noQuit,
  });
}

/**
 * @typedef {{mod: any, threaded: boolean, simd: 'relaxed'|'simd128'}} LoadedWasm
 */

/** @returns {Promise<LoadedWasm>} */
function loadVariant(variant, options) {
  let promise = modules.get(variant);
  if (!promise) {
    promise = (isNode ? instantiateInNode(variant, options) : instantiateInBrowser(variant, options))
      .then((mod) => {
        // The single-thread build does not export its memory object; its HEAPU8 view is kept
        // current across memory growth, so core.js reads the buffer through it.
        if (!mod.wasmMemory) Object.defineProperty(mod, 'wasmMemory', { get: () => ({ buffer: mod.HEAPU8.buffer }) });
        return { mod, threaded: variant.endsWith('mt'), simd: variant.startsWith('relaxed') ? 'relaxed' : 'simd128' };
      })
      .catch((err) => {
        modules.delete(variant);
        throw new OnnxfxError('INVALID_ARGUMENT', `cannot load the WebAssembly module (${FILE_STEM[variant]}): ${err?.message ?? err}`);
      });
    modules.set(variant, promise);
  }
  return promise;
}

/**
 * Loads (once per build) the build `options` pick: threads by pickVariant, SIMD by pickSimd.
 * With simd 'auto', a relaxed build that cannot be loaded (dist/ built without clang-16: see
 * CMakeLists.txt) gives way to the SIMD128 one, with a one-line notice.
 * @param {{wasmPath?: string, wasmUrl?: string|URL, distUrl?: string|URL, threads?: boolean, simd?: 'auto'|'relaxed'|'simd128'}} [options]
 * @returns {Promise<LoadedWasm>} the Emscripten module, and which build it is
 */
export async function loadWasm(options = {}) {
  const threads = pickVariant(options);
  const simd = pickSimd(options);
  if (simd === 'simd128') return loadVariant(threads, options);
  try {
    return await loadVariant(`relaxed-${threads}`, options);
  } catch (err) {
    if ((options.simd ?? 'auto') !== 'auto') throw err;
    if (!relaxedUnavailable) {
      relaxedUnavailable = true;
      console.info(`onnxfx: the relaxed-SIMD build could not be loaded, so the SIMD128 build runs (${err?.message ?? err})`);
    }
    return loadVariant(threads, options);
  }
}

/**
 * Resolves once the pthread pool's workers have loaded the module. They boot in the background
 * (PTHREAD_POOL_DELAY_LOAD), and a thread started on a worker still loading only runs after
 * this thread returns to the event loop, which a synchronous run never does: call this (it
 * yields) before asking for more than one thread.
 */
export async function poolReady(mod) {
  const pool = mod.PThread?.unusedWorkers;
  while (pool?.some((worker) => !worker.loaded)) await new Promise((resolve) => setTimeout(resolve, 1));
}

export { isNode };
