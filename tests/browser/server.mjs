// A tiny static server for the browser tests and for trying onnxfx in a browser by hand: serves
// the repository on 127.0.0.1 only. With --isolated (or { isolated: true }) every response
// carries the COOP/COEP headers that make a page cross-origin isolated, so it gets
// SharedArrayBuffer and onnxfx's threaded build. Single-range requests (`Range: bytes=a-b`) get
// 206 partial content, as static file servers and CDNs answer them; `ranges: false` serves
// whole files only, and `onRequest` sees each request (the tests check which reads happened;
// answering false makes it a 404).
//
//   node tests/browser/server.mjs [--isolated] [--port 8080]
import http from 'node:http';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
};

export const defaultRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * @param {{root?: string, isolated?: boolean, port?: number, ranges?: boolean,
 *   onRequest?: (request: {path: string, range: string|null}) => boolean|void}} [options]
 * @returns {Promise<{url: string, close: () => Promise<void>}>}
 */
export function startServer({ root = defaultRoot, isolated = false, port = 0, ranges = true, onRequest } = {}) {
  const server = http.createServer(async (req, res) => {
    const headers = { 'Cache-Control': 'no-store' };
    if (ranges) headers['Accept-Ranges'] = 'bytes';
    if (isolated) {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
    }
    try {
      const url = new URL(req.url, 'http://localhost');
      const file = path.join(root, decodeURIComponent(url.pathname));
      if (file !== root && !file.startsWith(root + path.sep)) throw Object.assign(new Error('outside'), { status: 403 });
      const info = await stat(file);
      if (!info.isFile()) throw Object.assign(new Error('not a file'), { status: 404 });
      headers['Content-Type'] = TYPES[path.extname(file)] ?? 'application/octet-stream';
      if (onRequest?.({ path: url.pathname, range: req.headers.range ?? null }) === false) throw Object.assign(new Error('refused'), { status: 404 });
      const range = ranges && /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      if (range && Number(range[1]) <= Number(range[2]) && Number(range[1]) < info.size) {
        const start = Number(range[1]), end = Math.min(Number(range[2]), info.size - 1);
        headers['Content-Range'] = `bytes ${start}-${end}/${info.size}`;
        headers['Content-Length'] = end - start + 1;
        res.writeHead(206, headers);
        createReadStream(file, { start, end }).pipe(res);
        return;
      }
      headers['Content-Length'] = info.size;
      res.writeHead(200, headers);
      createReadStream(file).pipe(res);
    } catch (err) {
      res.writeHead(err.status ?? 404, headers);
      res.end(String(err.status ?? 404));
    }
  });
  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        close: () => new Promise((done) => { server.closeAllConnections?.(); server.close(() => done()); }),
      });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const isolated = process.argv.includes('--isolated');
  const at = process.argv.indexOf('--port');
  const { url } = await startServer({ isolated, port: at > 0 ? Number(process.argv[at + 1]) : 8080 });
  console.log(`serving ${defaultRoot} at ${url}/${isolated ? ' (cross-origin isolated)' : ''}`);
}
