// A decode worker of `onnxfx extract --decode-workers N` (worker_threads): decodes an image
// (a file path or its bytes), resizes, crops and normalizes it with the public imageToTensor,
// and posts the tensor back (its buffer transferred) or the error's message.
import { parentPort } from 'node:worker_threads';
import { imageToTensor } from '../index.js';
import { nodeImageDecoder } from '../src/images.js';

// The decoder's modules are loaded at start, while the main thread loads the model, rather than
// on the first image. Failures are left to the images, which report them.
const ready = nodeImageDecoder()
  .then((decoder) => Promise.all((decoder === 'js' ? ['jpeg-js', 'pngjs'] : []).map((m) => import(m))))
  .catch(() => {});

parentPort.on('message', async ({ id, source, prep }) => {
  await ready;
  try {
    const t = await imageToTensor(source, prep);
    parentPort.postMessage({ id, type: t.type, dims: t.dims, data: t.data }, [t.data.buffer]);
  } catch (err) {
    parentPort.postMessage({ id, error: err?.message ?? String(err) });
  }
});
