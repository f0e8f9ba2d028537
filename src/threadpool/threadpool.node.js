// --post-js for pthread builds (Emscripten 3.1.6): in Node, the -sPTHREAD_POOL_SIZE workers are
// worker_threads that keep the process alive forever after the module loads (later Emscripten
// releases unref them; 3.1.6 does not). Unref each worker once it has loaded, so a script that
// is done exits; the workers stay usable. No effect in browsers or single-threaded builds.
if (typeof ENVIRONMENT_IS_NODE != 'undefined' && ENVIRONMENT_IS_NODE &&
    typeof PThread == 'object' && PThread && typeof PThread.loadWasmModuleToWorker == 'function') {
  const unref = (worker) => { if (worker && typeof worker.unref == 'function') worker.unref(); };
  const load = PThread.loadWasmModuleToWorker;
  PThread.loadWasmModuleToWorker = function (worker, onFinishedLoading) {
    return load.call(this, worker, function () {
      unref(worker);
      if (onFinishedLoading) return onFinishedLoading.apply(this, arguments);
    });
  };
  // workers whose loading already finished (synchronous compilation)
  for (const worker of PThread.unusedWorkers) if (worker.loaded) unref(worker);
}
