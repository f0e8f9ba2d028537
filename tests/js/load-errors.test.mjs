// Load errors say what happened in words a user can act on, not protobuf internals: a file
// that is some other format, a file cut short (and where), an unreachable URL.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { loadModel, BadModelError, InvalidArgumentError } from '../../web/index.js';
import { repoRoot, modelPath } from './helpers.mjs';

let work;
test.before(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'onnxfx-load-errors-'));
});
test.after(() => rmSync(work, { recursive: true, force: true }));

const text = (s) => new TextEncoder().encode(s);
const photo = readFileSync(path.join(repoRoot, '.cache/demos/photos/chelsea.png'));

const others = {
  'a JPEG image': Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0]),
  'a PNG image': new Uint8Array(photo),
  'an HTML page': text('\n<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body>Not found</body></html>\n'),
  'text': text('version https://git-lfs.github.com/spec/v1\noid sha256:4d7a2146\nsize 46827520\n'),
  'a zip archive': Uint8Array.from([0x50, 0x4b, 3, 4, 20, 0, 0, 0, 8, 0]),
};

for (const [what, bytes] of Object.entries(others)) {
  test(`${what} is "not an ONNX model", said so, from bytes and from a file path`, async () => {
    const expected = new RegExp(`^not an ONNX model: it looks like ${what}`);
    await assert.rejects(loadModel(bytes), (err) => err instanceof BadModelError && expected.test(err.message));
    const file = path.join(work, 'model.onnx');
    writeFileSync(file, bytes);
    await assert.rejects(loadModel(file), (err) => err.code === 'BAD_MODEL' && expected.test(err.message));
  });
}

test('an empty file', async () => {
  const file = path.join(work, 'empty.onnx');
  writeFileSync(file, '');
  await assert.rejects(loadModel(file), (err) => err.code === 'BAD_MODEL' && err.message === 'not an ONNX model: the file is empty');
  await assert.rejects(loadModel(new Uint8Array(0), { worker: true }), (err) => err.code === 'BAD_MODEL' && /the file is empty/.test(err.message));
});

test('a truncated model says "truncated", where the file ends, and inside what', async () => {
  const bytes = readFileSync(modelPath('resnet18'));
  await assert.rejects(loadModel(bytes.subarray(0, 5_000_000)), (err) => err.code === 'BAD_MODEL' &&
    /^invalid ONNX model: truncated: the file ends at byte offset 5000000 inside graph\.initializer\[\d+\] \('[^']+'\)\.raw_data, \d+ more bytes expected/.test(err.message));
  await assert.rejects(loadModel(bytes.subarray(0, 1000)), (err) => err.code === 'BAD_MODEL' &&
    /truncated: the file ends at byte offset 1000 inside graph\.node\[\d+\]/.test(err.message));
  const file = path.join(work, 'cut.onnx');
  writeFileSync(file, bytes.subarray(0, bytes.length - 10));
  await assert.rejects(loadModel(file, { worker: true }), (err) => err.code === 'BAD_MODEL' &&
    new RegExp(`truncated: the file ends at byte offset ${bytes.length - 10} inside graph`).test(err.message));
});

test('an unreachable URL is an InvalidArgumentError naming the URL and the cause', async () => {
  // a port that was just listening and is now closed: connection refused
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/resnet18.onnx`;
  await new Promise((resolve) => server.close(resolve));
  for (const source of [url, new URL(url)]) {
    await assert.rejects(loadModel(source), (err) => err instanceof InvalidArgumentError &&
      err.message === `cannot fetch the model from ${url}: ECONNREFUSED: connect ECONNREFUSED ${new URL(url).host}`);
  }
  await assert.rejects(loadModel(url, { worker: true }), (err) => err.code === 'INVALID_ARGUMENT' && /ECONNREFUSED/.test(err.message));
});

test('an HTTP error status names the status and the URL', async () => {
  const server = http.createServer((req, res) => {
    res.writeHead(404, { 'content-type': 'text/html' });
    res.end('<html>not here</html>');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/missing.onnx`;
  try {
    await assert.rejects(loadModel(url), (err) => err.code === 'INVALID_ARGUMENT' && err.message === `cannot fetch the model: HTTP 404 Not Found (${url})`);
  } finally {
    server.close();
  }
});
