#!/usr/bin/env node
// Serves the demo pages on 127.0.0.1 only, cross-origin isolated (COOP/COEP), so onnxfx runs its
// threaded build in the page and its worker. Only web/ (the package), demos/ and .cache/demos/
// (the fetched model and photos) are served.
//
//   node demos/explorer/serve.mjs [--port 8080] [--no-isolation]
import http from 'node:http';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SERVED = ['/web/', '/demos/', '/.cache/demos/'];
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.wasm': 'application/wasm',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.onnx': 'application/octet-stream',
};

/** @returns {Promise<{url: string, close: () => Promise<void>}>} */
export function startServer({ port = 8080, isolated = true } = {}) {
  const server = http.createServer(async (req, res) => {
    const headers = { 'Cache-Control': 'no-cache', 'Cross-Origin-Resource-Policy': 'same-origin' };
    if (isolated) {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
    }
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
    } catch {
      pathname = '';
    }
    if (pathname === '/') {
      res.writeHead(302, { ...headers, Location: '/demos/explorer/' });
      return res.end();
    }
    if (pathname.endsWith('/')) pathname += 'index.html';
    const file = path.join(root, pathname);
    const rel = '/' + path.relative(root, file).split(path.sep).join('/');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, headers);
      return res.end('405');
    }
    if (!SERVED.some((p) => rel.startsWith(p)) || rel.includes('/..')) {
      res.writeHead(404, headers);
      return res.end('404');
    }
    try {
      const info = await stat(file);
      if (!info.isFile()) throw new Error('not a file');
      res.writeHead(200, { ...headers, 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'Content-Length': info.size });
      if (req.method === 'HEAD') return res.end();
      createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404, headers);
      res.end('404');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve({
      url: `http://127.0.0.1:${server.address().port}`,
      close: () => new Promise((done) => { server.closeAllConnections?.(); server.close(() => done()); }),
    }));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--port');
  const isolated = !process.argv.includes('--no-isolation');
  const { url } = await startServer({ port: at > 0 ? Number(process.argv[at + 1]) : 8080, isolated });
  console.log(`onnxfx demos${isolated ? ' (cross-origin isolated: threaded)' : ''}:
  feature-map explorer  ${url}/demos/explorer/
  image retrieval       ${url}/demos/retrieval/
Ctrl-C stops.`);
}
