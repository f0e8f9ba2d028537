/**
 * Every call into the C core goes through this file, and it is the only one that touches the
 * WebAssembly heap: temporary allocations are freed in `finally`, statuses become errors.
 */
import { OnnxfxError, keepingErrors } from './errors.js';
import { DTYPES, dtypeName } from './tensor.js';

const POINTER_SIZE = 4;
const HEAP_LIMIT = 4 * 1024 ** 3; // -sMAXIMUM_MEMORY=4GB: the whole wasm32 address space

/**
 * Pointers and sizes from C arrive as signed 32-bit numbers: past 2 GiB of heap they would be
 * negative (and a negative offset is a bare RangeError, or worse, counts from a view's end).
 * Every one that JavaScript uses as a number goes through this.
 */
const unsigned = (value) => value >>> 0;

export class Core {
  constructor(mod) {
    this.mod = mod;
    /** Per extractor handle: {ptr, size} of the heap block its inputs are copied into. */
    this.staging = new Map();
    /** Per model loaded with loadModelDeferred: its external data sources, by reader id. */
    this.sources = new Map();
    this.nextReaderId = 1;
    // wasm/api.c's ofx_js_read_external: copy `length` bytes at `offset` of a model's external
    // file into the heap at dest; 0 on success (the C side reports a failure with its context)
    mod.onnxfxReadExternal = (readerId, file, offset, length, dest) => {
      try {
        this.sources.get(readerId)[file].read(offset, length, this.heapU8().subarray(dest, dest + length));
        return 0;
      } catch {
        return 1;
      }
    };
  }

  /** A view of the whole heap; made anew on each use because memory growth replaces it. */
  heapU8() {
    return new Uint8Array(this.mod.wasmMemory.buffer);
  }

  readPointer(ptr) {
    return new DataView(this.mod.wasmMemory.buffer).getUint32(ptr, true);
  }

  /** Throws an OnnxfxError for a non-zero status, with the C message. */
  check(status) {
    if (status === 0) return;
    const code = this.mod.UTF8ToString(unsigned(this.mod._ofx_status_name(status)));
    const message = this.mod.UTF8ToString(unsigned(this.mod._ofx_last_error()));
    throw new OnnxfxError(code, message || code);
  }

  malloc(size) {
    const ptr = size < HEAP_LIMIT ? unsigned(this.mod._malloc(Math.max(size, 1))) : 0;
    if (!ptr) {
      const used = this.heapUsed();
      throw new OnnxfxError('OUT_OF_MEMORY', `cannot allocate ${size} bytes in the WebAssembly heap: ${used} of its ` +
        `${HEAP_LIMIT} bytes are in use, ${HEAP_LIMIT - used} left (and free space may be fragmented)`);
    }
    return ptr;
  }

  /** Bytes of the heap in use (malloc's count; the heap's own size once it has grown is larger). */
  heapUsed() {
    return typeof this.mod._ofx_wasm_heap_used === 'function' ? this.mod._ofx_wasm_heap_used() : this.mod.wasmMemory.buffer.byteLength;
  }

  /** Runs fn(ptr) with a scratch allocation of `size` bytes. */
  withAlloc(size, fn) {
    const ptr = this.malloc(size);
    try {
      return fn(ptr);
    } finally {
      this.mod._free(ptr);
    }
  }

  /**
   * Copies the model into the heap (the C side keeps pointers into it) and loads it.
   * @returns {{handle: number, bytesPtr: number, description: import('./messages.js').ModelDescription}}
   */
  loadModel(bytes) {
    const bytesPtr = this.malloc(bytes.byteLength);
    this.heapU8().set(bytes, bytesPtr);
    return this.loadModelAt(bytesPtr, bytes.byteLength);
  }

  /**
   * Loads a model whose bytes are already at bytesPtr in the heap; takes that allocation over
   * (freed by freeModel, or here on failure).
   * @returns {{handle: number, bytesPtr: number, description: import('./messages.js').ModelDescription}}
   */
  loadModelAt(bytesPtr, size) {
    try {
      // (an empty message is valid protobuf; the core would only say that it has no graph)
      if (size === 0) throw new OnnxfxError('BAD_MODEL', 'not an ONNX model: the file is empty');
      const handle = this.withAlloc(POINTER_SIZE, (out) => {
        this.check(this.mod._ofx_model_load(bytesPtr, size, out));
        return this.readPointer(out);
      });
      const description = JSON.parse(this.mod.UTF8ToString(unsigned(this.mod._ofx_model_describe_json(handle))));
      return { handle, bytesPtr, description };
    } catch (err) {
      this.mod._free(bytesPtr);
      throw err;
    }
  }

  /**
   * Node: reads a file straight into a new heap allocation, so its bytes never also sit in a
   * JS buffer (a model's size counts twice at start-up otherwise). Reads in chunks, each into a
   * fresh view of the heap (memory growth replaces the buffer) and yields between them.
   * @returns {Promise<number>} the allocation (the caller frees it), `size` bytes
   */
  async readFileToHeap(fd, size, onProgress) {
    const { readSync } = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:fs');
    const CHUNK = 16 << 20;
    const ptr = this.malloc(size);
    try {
      for (let done = 0; done < size;) {
        const n = readSync(fd, this.heapU8(), ptr + done, Math.min(CHUNK, size - done), done);
        if (n === 0) throw new OnnxfxError('INVALID_ARGUMENT', `the model file ended after ${done} of its ${size} bytes`);
        done += n;
        onProgress?.(done, size);
        if (done < size) await new Promise((resolve) => setImmediate(resolve));
      }
      return ptr;
    } catch (err) {
      this.mod._free(ptr);
      throw err;
    }
  }

  freeModel(model) {
    this.mod._ofx_model_free(model.handle);
    this.mod._free(model.bytesPtr);
    if (model.readerId) {
      for (const source of this.sources.get(model.readerId) ?? []) source.close?.();
      this.sources.delete(model.readerId);
    }
  }

  /**
   * Core.loadModel for a model with ONNX external data that stays outside the heap: each source
   * ({location, size, read(offset, length, target), close?()}, target a heap view of `length`
   * bytes) is read when an extractor packs the weights in it, one node at a time, so the heap
   * never holds the external data whole (ofx_model_load_deferred). The sources are closed by
   * freeModel (or here on failure).
   * @returns {{handle: number, bytesPtr: number, readerId: number, description: import('./messages.js').ModelDescription}}
   */
  loadModelDeferred(bytes, sources) {
    const m = this.mod;
    const readerId = this.nextReaderId++;
    this.sources.set(readerId, sources);
    const owned = [];
    let bytesPtr = 0;
    try {
      bytesPtr = this.malloc(Math.max(bytes.byteLength, 1));
      this.heapU8().set(bytes, bytesPtr);
      const n = sources.length;
      const tables = this.malloc(2 * POINTER_SIZE * n + 1);
      owned.push(tables);
      sources.forEach(({ location, size }, i) => {
        if (size >= HEAP_LIMIT) {
          throw new OnnxfxError('OUT_OF_MEMORY', `external data file '${location}' is ${size} bytes: a wasm32 model can address ${HEAP_LIMIT}`);
        }
        const length = m.lengthBytesUTF8(location) + 1;
        const namePtr = this.malloc(length);
        owned.push(namePtr);
        m.stringToUTF8(location, namePtr, length);
        const view = new DataView(m.wasmMemory.buffer);
        view.setUint32(tables + i * POINTER_SIZE, namePtr, true);
        view.setUint32(tables + (n + i) * POINTER_SIZE, size, true);
      });
      const handle = this.withAlloc(POINTER_SIZE, (out) => {
        this.check(m._ofx_wasm_model_load_deferred(bytesPtr, bytes.byteLength, tables, tables + n * POINTER_SIZE, n, readerId, out));
        return this.readPointer(out);
      });
      const description = JSON.parse(m.UTF8ToString(unsigned(m._ofx_model_describe_json(handle))));
      return { handle, bytesPtr, readerId, description };
    } catch (err) {
      if (bytesPtr) m._free(bytesPtr);
      for (const source of sources) source.close?.();
      this.sources.delete(readerId);
      throw err;
    } finally {
      for (const ptr of owned) m._free(ptr); // the core keeps no pointer to the tables
    }
  }

  /**
   * @param {number} modelHandle
   * @param {string[]} names requested node names
   * @param {boolean} train
   * @param {boolean} [fuse] false: no activation fusion (OFX_EXTRACTOR_NO_FUSION)
   * @param {'float32'|'float16'} [weights] 'float16': packed weights stored as float16 (OFX_EXTRACTOR_FLOAT16_WEIGHTS)
   * @param {(done: number, total: number) => void} [onProgress] bytes of weights read and packed
   *   so far (ofx_set_create_progress), called during the create; if it throws, the extractor is
   *   freed and the create throws that
   * @returns {{handle: number, inputModelIndices: number[], outputRequests: number[], plannedNodeCount: number}}
   */
  createExtractor(modelHandle, names, train, fuse = true, weights = 'float32', onProgress = undefined) {
    const encoded = names.map((n) => this.mod.lengthBytesUTF8(n) + 1);
    const total = encoded.reduce((a, b) => a + b, 0);
    return this.withAlloc(total + POINTER_SIZE * (names.length + 1), (block) => {
      const table = block + total;
      const view = new DataView(this.mod.wasmMemory.buffer);
      let at = block;
      names.forEach((name, i) => {
        this.mod.stringToUTF8(name, at, encoded[i]);
        view.setUint32(table + i * POINTER_SIZE, at, true);
        at += encoded[i];
      });
      // an exception thrown through the core would leave it half-way: the callback's is kept for after
      const progress = onProgress && keepingErrors(onProgress);
      this.mod.onnxfxProgress = progress?.call;
      if (onProgress) this.mod._ofx_wasm_set_create_progress(1);
      const handle = this.withAlloc(POINTER_SIZE, (out) => {
        try {
          this.check(this.mod._ofx_extractor_create(modelHandle, table, names.length, (train ? 1 : 0) | (fuse ? 0 : 2) | (weights === 'float16' ? 4 : 0), out));
        } finally {
          if (onProgress) this.mod._ofx_wasm_set_create_progress(0);
          this.mod.onnxfxProgress = undefined;
        }
        return this.readPointer(out);
      });
      if (progress?.error) {
        this.freeExtractor(handle);
        throw progress.error;
      }
      const m = this.mod;
      const inputModelIndices = Array.from({ length: m._ofx_extractor_input_count(handle) }, (_, i) =>
        m._ofx_extractor_input_model_index(handle, i));
      const outputRequests = Array.from({ length: m._ofx_extractor_output_count(handle) }, (_, i) =>
        m._ofx_extractor_output_request(handle, i));
      return { handle, inputModelIndices, outputRequests, plannedNodeCount: m._ofx_extractor_planned_node_count(handle) };
    });
  }

  /**
   * The extractor's pruned graph as ONNX bytes, its outputs named `names` (extractor output
   * order).
   * @returns {Uint8Array}
   */
  extractorToOnnx(handle, names) {
    const m = this.mod;
    const encoded = names.map((n) => m.lengthBytesUTF8(n) + 1);
    const total = encoded.reduce((a, b) => a + b, 0);
    return this.withAlloc(total + POINTER_SIZE * (names.length + 2), (block) => {
      const table = block + total;
      const outBytes = table + POINTER_SIZE * names.length;
      const outSize = outBytes + POINTER_SIZE;
      let at = block;
      names.forEach((name, i) => {
        m.stringToUTF8(name, at, encoded[i]);
        new DataView(m.wasmMemory.buffer).setUint32(table + i * POINTER_SIZE, at, true);
        at += encoded[i];
      });
      this.check(m._ofx_extractor_to_onnx(handle, table, outBytes, outSize));
      const ptr = this.readPointer(outBytes), size = this.readPointer(outSize);
      try {
        return this.heapU8().slice(ptr, ptr + size);
      } finally {
        m._ofx_free(ptr);
      }
    });
  }

  /** Static output shapes by value name (ofx_model_infer_shapes), computed once per model. */
  inferShapes(modelHandle) {
    return this.withAlloc(POINTER_SIZE, (out) => {
      this.check(this.mod._ofx_model_infer_shapes(modelHandle, out));
      return JSON.parse(this.mod.UTF8ToString(this.readPointer(out)));
    });
  }

  /**
   * What the build says it runs (ofx_wasm_kernels_json, from src/kernels/kernel-config.c): its
   * arch and the registered names of its f32 GEMM / IGEMM / depthwise micro-kernels.
   * @returns {Record<string, string>}
   */
  kernels() {
    return JSON.parse(this.mod.UTF8ToString(unsigned(this.mod._ofx_wasm_kernels_json())));
  }

  /** Sets the kernels' process-wide thread count; returns the count actually available. */
  setNumThreads(threads) {
    this.check(this.mod._ofx_set_num_threads(threads));
    return this.mod._ofx_get_num_threads();
  }

  freeExtractor(handle) {
    this.mod._ofx_extractor_free(handle);
    const block = this.staging.get(handle);
    if (block) this.mod._free(block.ptr);
    this.staging.delete(handle);
  }

  /**
   * The extractor's input block, grown to at least `size` bytes. Reused from run to run: a
   * fresh malloc of a large block each run cost as much as a small convolution (dlmalloc hands
   * big blocks out zero-filled).
   */
  stagingBlock(handle, size) {
    let block = this.staging.get(handle);
    if (!block || block.size < size) {
      if (block) this.mod._free(block.ptr);
      this.staging.delete(handle);
      block = { ptr: this.malloc(size), size };
      this.staging.set(handle, block);
    }
    return block.ptr;
  }

  /**
   * Binds an extractor's inputs (ofx_extractor_set_input), given in its input order: copied
   * into its staging block, which stays bound until the next call.
   */
  setInputs(handle, tensors) {
    const m = this.mod;
    // one block: each input's dims (int64) then its data, 16-byte aligned
    const align = (n) => (n + 15) & ~15;
    const layout = tensors.map((t) => ({ dims: align(8 * Math.max(t.dims.length, 1)), data: align(t.data.byteLength) }));
    let at = this.stagingBlock(handle, layout.reduce((sum, l) => sum + l.dims + l.data, 0));
    tensors.forEach((tensor, i) => {
      const info = DTYPES[tensor.type];
      const bytes = new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
      const dimsPtr = at, dataPtr = at + layout[i].dims;
      at = dataPtr + layout[i].data;
      this.heapU8().set(bytes, dataPtr);
      const view = new DataView(m.wasmMemory.buffer);
      tensor.dims.forEach((d, k) => view.setBigInt64(dimsPtr + 8 * k, BigInt(d), true));
      this.check(m._ofx_extractor_set_input(handle, i, info.code, dimsPtr, tensor.dims.length, dataPtr, bytes.byteLength));
    });
  }

  /**
   * Runs an extractor on tensors given in its input order; returns its outputs (copied out of
   * the heap) in its output order, as {type, data, dims}.
   * @returns {import('./messages.js').WireTensor[]}
   */
  run(handle, tensors) {
    const m = this.mod;
    this.setInputs(handle, tensors);
    this.check(m._ofx_extractor_run(handle));
    const outputs = [];
    const count = m._ofx_extractor_output_count(handle);
    for (let i = 0; i < count; i++) {
      const type = dtypeName(m._ofx_wasm_output_dtype(handle, i));
      const rank = m._ofx_wasm_output_rank(handle, i);
      const dims = Array.from({ length: rank }, (_, k) => m._ofx_wasm_output_dim(handle, i, k));
      const ptr = unsigned(m._ofx_wasm_output_data(handle, i));
      const size = unsigned(m._ofx_wasm_output_size(handle, i));
      const ArrayType = DTYPES[type]?.array ?? Uint8Array;
      const copy = new ArrayType(size / ArrayType.BYTES_PER_ELEMENT);
      new Uint8Array(copy.buffer).set(this.heapU8().subarray(ptr, ptr + size));
      outputs.push({ type, data: copy, dims });
    }
    return outputs;
  }

  /**
   * The extractor's plan as text (ofx_extractor_explain). With `tensors` (its input order) they
   * are bound first, as run() binds them; without, the C side plans with the inputs bound last,
   * else with the model's declared input shapes.
   * @returns {string}
   */
  explain(handle, tensors) {
    const m = this.mod;
    if (typeof m._ofx_extractor_explain !== 'function') {
      throw new OnnxfxError('INVALID_ARGUMENT', 'this build of the WebAssembly module has no ofx_extractor_explain: rebuild web/dist');
    }
    if (tensors) this.setInputs(handle, tensors);
    return this.withAlloc(POINTER_SIZE, (out) => {
      this.check(m._ofx_extractor_explain(handle, out));
      const ptr = this.readPointer(out);
      try {
        return m.UTF8ToString(ptr);
      } finally {
        m._ofx_free(ptr);
      }
    });
  }

  /**
   * Runs an extractor `runs` times with profiling on; returns the mean milliseconds of every step
   * it executed, in execution order: {node: graph node index, ms}, then {node: -1, ms} for the
   * final copy of outputs to NCHW. Steps folded at plan time or fused away are left out.
   * @returns {{node: number, ms: number}[]}
   */
  profile(handle, tensors, runs) {
    const m = this.mod;
    this.check(m._ofx_extractor_set_profiling(handle, 1));
    try {
      for (let r = 0; r < runs; r++) this.run(handle, tensors);
      const steps = m._ofx_extractor_planned_node_count(handle);
      const result = [];
      for (let i = 0; i <= steps; i++) {
        const ms = m._ofx_extractor_step_ms(handle, i) / runs;
        if (ms > 0 || i === steps) result.push({ node: i < steps ? m._ofx_extractor_step_node(handle, i) : -1, ms });
      }
      return result;
    } finally {
      m._ofx_extractor_set_profiling(handle, 0);
    }
  }
}
