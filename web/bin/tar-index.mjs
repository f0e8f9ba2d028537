// The members of a .tar file from its headers alone, for `onnxfx extract`: a shard lists every
// tar of the work list without reading the tars' bodies, then reads only the members it owns.
//
// indexTar reads the 512-byte headers (and the bodies of pax and GNU long-name meta entries,
// which hold names) with positioned reads, and seeks past every member's body. Headers are read
// the way modern-tar 0.8's decoder reads them when not strict (the reader onnxfx used before,
// so the members, their names and where a tar's list ends are the same): ustar prefix, pax
// `path`/`size` (per entry and global), GNU `L` long names, type flags, directories named with
// a trailing '/', the end at two zero blocks or where the file ends; no checksum check. A header
// that does not parse ends the list there, with the error modern-tar gives (`Invalid tar number.`).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const MAX_META_SIZE = 8 * 1024 * 1024;
const MAX_GLOBAL_PAX_KEYS = 512;
const FLAGTYPE = {
  48: 'file', 49: 'link', 50: 'symlink', 51: 'character-device', 52: 'block-device', 53: 'directory', 54: 'fifo',
  120: 'pax-header', 103: 'pax-global-header', 76: 'gnu-long-name', 75: 'gnu-long-link-name',
};
const BODYLESS = new Set(['directory', 'symlink', 'link', 'character-device', 'block-device', 'fifo']);
const utf8 = new TextDecoder();

function readString(view, offset, size) {
  if (view[offset] === 0) return '';
  const end = view.indexOf(0, offset);
  return utf8.decode(view.subarray(offset, end === -1 || end > offset + size ? offset + size : end));
}

function readOctal(view, offset, size) {
  let value = 0;
  for (let i = offset; i < offset + size; i++) {
    const c = view[i];
    if (c === 0) break;
    if (c === 32) continue;
    if (c < 48 || c > 55) throw new Error('Invalid tar number.');
    value = value * 8 + (c - 48);
  }
  return value;
}

function readNumeric(view, offset, size) {
  const first = view[offset];
  if (first === 128 || first === 255) { // base-256
    let result = first === 255 ? -1 : 0;
    for (let i = 1; i < size; i++) result = result * 256 + view[offset + i];
    if (!Number.isSafeInteger(result)) throw new Error('TAR number too large');
    return result;
  }
  return readOctal(view, offset, size);
}

/** The fields that matter here; the others are parsed too, for the errors they raise. */
function parseHeader(block) {
  readOctal(block, 100, 8); // mode
  readNumeric(block, 108, 8); // uid
  readNumeric(block, 116, 8); // gid
  const header = { name: readString(block, 0, 100), size: readNumeric(block, 124, 12), type: FLAGTYPE[block[156]] || 'file' };
  readNumeric(block, 136, 12); // mtime
  if (header.size < 0) throw new Error('Negative tar entry size.');
  if (readString(block, 257, 6) === 'ustar') header.prefix = readString(block, 345, 155);
  return header;
}

/** {name?, size?, keys} from a pax extended header's records. */
function parsePax(buffer) {
  const out = { keys: 0 };
  for (let offset = 0; offset < buffer.length;) {
    const space = buffer.indexOf(32, offset);
    if (space === -1) break;
    const length = parseInt(utf8.decode(buffer.subarray(offset, space)), 10);
    if (!(length > 0)) break;
    const record = utf8.decode(buffer.subarray(space + 1, offset + length - 1));
    const eq = record.indexOf('=');
    if (eq > 0) {
      const key = record.slice(0, eq), value = record.slice(eq + 1);
      out.keys++;
      if (key === 'path') out.name = value;
      else if (key === 'size' && /^\d+$/.test(value) && Number.isSafeInteger(+value)) out.size = +value;
    }
    offset += length;
  }
  return out;
}

const isZero = (block) => block.every((b) => b === 0);

/**
 * The members of the tar `file` in archive order, from its headers.
 * @param {string} file
 * @param {{bytesRead: number}} [stats] bytes read from the file are added to stats.bytesRead
 * @returns {{members: {name: string, type: string, size: number, offset: number}[], failure: Error|null, size: number}}
 *   offset: where the member's bytes start; a member may run past `size` (a tar cut off).
 *   failure: why the list ends early (a header that does not parse, a read error), or null.
 */
export function indexTar(file, stats = { bytesRead: 0 }) {
  const members = [];
  let failure = null;
  let fd;
  let size = 0;
  try {
    fd = openSync(file, 'r');
    size = fstatSync(fd).size;
    const read = (length, position) => {
      const buf = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const n = readSync(fd, buf, got, length - got, position + got);
        if (n === 0) break;
        got += n;
      }
      stats.bytesRead += got;
      return got === length ? buf : buf.subarray(0, got);
    };
    const globals = {}; // pax global name/size
    let next = {}; // the next entry's pax or GNU long name, size
    let nextIsPax = false;
    for (let pos = 0; size - pos >= 512;) {
      const block = read(512, pos);
      if (block.length < 512) break;
      if (isZero(block)) {
        if (size - pos < 1024) break;
        if (isZero(read(512, pos + 512))) break; // the end
        pos += 512;
        continue;
      }
      const header = parseHeader(block);
      if (['pax-header', 'pax-global-header', 'gnu-long-name', 'gnu-long-link-name'].includes(header.type)) {
        if (header.size > MAX_META_SIZE) throw new Error('Tar metadata entry exceeds maximum size.');
        const padded = header.size + (-header.size & 511);
        if (size - pos < 512 + padded) break; // cut off in a meta entry: the list ends
        const body = read(header.size, pos + 512);
        pos += 512 + padded;
        let overrides;
        if (header.type === 'gnu-long-name') overrides = { name: readString(body, 0, body.length) };
        else if (header.type === 'gnu-long-link-name') overrides = {};
        else {
          const pax = parsePax(body);
          if (header.type === 'pax-global-header' && pax.keys > MAX_GLOBAL_PAX_KEYS) throw new Error('Too many global attributes.');
          overrides = {};
          if (pax.name !== undefined) overrides.name = pax.name;
          if (pax.size !== undefined) overrides.size = pax.size;
          overrides.pax = pax.keys > 0;
        }
        // modern-tar: a meta entry after a pax header starts the next entry's overrides afresh
        if (nextIsPax) {
          next = {};
          nextIsPax = false;
        }
        if (header.type === 'pax-global-header') {
          if (overrides.name !== undefined) globals.name = overrides.name;
          if (overrides.size !== undefined) globals.size = overrides.size;
        } else {
          if (overrides.name !== undefined) next.name = overrides.name;
          if (overrides.size !== undefined) next.size = overrides.size;
          if (overrides.pax) nextIsPax = true;
        }
        continue;
      }
      let name = header.prefix ? `${header.prefix}/${header.name}` : header.name;
      let length = header.size;
      for (const o of [globals, next]) {
        if (o.name !== undefined) name = o.name;
        if (o.size !== undefined) length = o.size;
      }
      let type = header.type;
      if (BODYLESS.has(type)) length = 0;
      else if (type === 'file' && name.endsWith('/')) [type, length] = ['directory', 0];
      next = {};
      nextIsPax = false;
      members.push({ name, type, size: length, offset: pos + 512 });
      pos += 512 + length + (-length & 511);
    }
  } catch (err) {
    failure = err;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return { members, failure, size };
}

/**
 * A member's bytes, read at its offset from an open FileHandle: all of them, or an error that
 * says how many the tar holds when it was cut off inside the member.
 * @param {import('node:fs/promises').FileHandle} handle
 * @param {{size: number, offset: number}} member
 * @param {number} tarSize the tar file's size
 * @param {{bytesRead: number}} [stats]
 */
export async function readTarMember(handle, member, tarSize, stats = { bytesRead: 0 }) {
  const there = Math.max(0, Math.min(member.size, tarSize - member.offset));
  if (there < member.size) throw new Error(`cut short in the tar: ${there} of its ${member.size} bytes`);
  const out = new Uint8Array(member.size); // its own buffer: moved to a decode worker, not copied
  let got = 0;
  while (got < member.size) {
    const { bytesRead } = await handle.read(out, got, member.size - got, member.offset + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  stats.bytesRead += got;
  if (got < member.size) throw new Error(`cut short in the tar: ${got} of its ${member.size} bytes`);
  return out;
}
