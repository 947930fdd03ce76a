/**
 * Just enough tar for the Docker archive API: pack one file (ustar, with a PAX header when the
 * name is long or not ASCII) and parse the archives the engine returns (ustar, PAX `x`/`g` headers,
 * GNU long names). Written here rather than taken from `tar-stream` because that is only a
 * transitive dependency of dockerode, without types, and both jobs are small.
 */

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

export interface TarEntry {
  name: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeMs: number;
  /** Target of a link. */
  linkname: string;
  data: Buffer;
}

export interface PackFileOptions {
  mode?: number;
  uid?: number;
  gid?: number;
  mtimeMs?: number;
}

const BLOCK = 512;

/** A tar archive holding one regular file `name` (a relative name, usually a basename). */
export function packFile(name: string, data: Buffer, options: PackFileOptions = {}): Buffer {
  const mtime = Math.floor((options.mtimeMs ?? Date.now()) / 1000);
  const parts: Buffer[] = [];
  const nameBytes = Buffer.from(name, 'utf8');
  let headerName = name;
  if (nameBytes.length > 100 || /[^\x20-\x7e]/.test(name)) {
    const pax = paxRecord('path', name);
    parts.push(header({ name: 'PaxHeader', type: 'x', size: pax.length, mode: 0o644, uid: 0, gid: 0, mtime }));
    parts.push(pad(pax));
    headerName = asciiFallback(name);
  }
  parts.push(
    header({
      name: headerName,
      type: '0',
      size: data.length,
      mode: options.mode ?? 0o644,
      uid: options.uid ?? 0,
      gid: options.gid ?? 0,
      mtime,
    }),
  );
  parts.push(pad(data));
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

/** Every entry of a tar archive, with its contents. Throws on a corrupt header. */
export function parseTar(archive: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  let pending: Record<string, string> = {};
  let global: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  while (offset + BLOCK <= archive.length) {
    const block = archive.subarray(offset, offset + BLOCK);
    if (block.every((b) => b === 0)) break;
    if (!checksumOk(block)) throw new Error(`corrupt tar header at offset ${offset}`);
    const typeflag = String.fromCharCode(block[156] || 48); // NUL means '0'
    let size = readNumber(block, 124, 12);
    const dataStart = offset + BLOCK;
    const nextOffset = () => dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (typeflag === 'x' || typeflag === 'g') {
      const records = parsePax(archive.subarray(dataStart, dataStart + size));
      if (typeflag === 'x') pending = { ...pending, ...records };
      else global = { ...global, ...records };
      offset = nextOffset();
      continue;
    }
    if (typeflag === 'L' || typeflag === 'K') {
      const text = readString(archive, dataStart, size);
      if (typeflag === 'L') longName = text;
      else longLink = text;
      offset = nextOffset();
      continue;
    }
    const attrs = { ...global, ...pending };
    if (attrs.size !== undefined) size = Number(attrs.size);
    const prefix = readString(block, 345, 155);
    const baseName = readString(block, 0, 100);
    const isUstar = block.subarray(257, 262).toString('latin1') === 'ustar';
    const name = attrs.path ?? longName ?? (isUstar && prefix ? `${prefix}/${baseName}` : baseName);
    entries.push({
      name,
      type: entryType(typeflag),
      mode: readNumber(block, 100, 8) & 0o7777,
      uid: attrs.uid !== undefined ? Number(attrs.uid) : readNumber(block, 108, 8),
      gid: attrs.gid !== undefined ? Number(attrs.gid) : readNumber(block, 116, 8),
      size,
      mtimeMs: (attrs.mtime !== undefined ? Number(attrs.mtime) : readNumber(block, 136, 12)) * 1000,
      linkname: attrs.linkpath ?? longLink ?? readString(block, 157, 100),
      data: Buffer.from(archive.subarray(dataStart, dataStart + size)),
    });
    pending = {};
    longName = undefined;
    longLink = undefined;
    offset = nextOffset();
  }
  return entries;
}

function entryType(flag: string): TarEntryType {
  switch (flag) {
    case '0':
    case '7':
      return 'file';
    case '5':
      return 'directory';
    case '2':
      return 'symlink';
    case '1':
      return 'hardlink';
    default:
      return 'other';
  }
}

interface HeaderFields {
  name: string;
  type: string;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
}

function header(f: HeaderFields): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(f.name.slice(0, 100), 0, 100, 'utf8');
  writeOctal(b, f.mode, 100, 8);
  writeOctal(b, f.uid, 108, 8);
  writeOctal(b, f.gid, 116, 8);
  writeOctal(b, f.size, 124, 12);
  writeOctal(b, f.mtime, 136, 12);
  b.write(f.type, 156, 1, 'latin1');
  b.write('ustar\0', 257, 6, 'latin1');
  b.write('00', 263, 2, 'latin1');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return b;
}

function writeOctal(b: Buffer, value: number, offset: number, length: number): void {
  const digits = Math.floor(value).toString(8);
  if (digits.length > length - 1) throw new Error(`value ${value} does not fit a tar header field`);
  b.write(`${digits.padStart(length - 1, '0')}\0`, offset, length, 'latin1');
}

function checksumOk(block: Buffer): boolean {
  const stored = readNumber(block, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i];
  return sum === stored;
}

function readNumber(b: Buffer, offset: number, length: number): number {
  const field = b.subarray(offset, offset + length);
  if (field[0] & 0x80) {
    // base-256 (GNU) for large values
    let value = field[0] & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i];
    return value;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  return text ? parseInt(text, 8) : 0;
}

function readString(b: Buffer, offset: number, length: number): string {
  const field = b.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? field.length : end).toString('utf8');
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    const space = data.indexOf(0x20, i);
    if (space === -1) break;
    const len = parseInt(data.subarray(i, space).toString('latin1'), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const record = data.subarray(space + 1, i + len - 1).toString('utf8'); // without the trailing \n
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    i += len;
  }
  return out;
}

function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body, 'utf8');
  const digits = String(bodyLen).length;
  let len = bodyLen + digits;
  if (String(len).length !== digits) len = bodyLen + String(len).length;
  return Buffer.from(`${len}${body}`, 'utf8');
}

function pad(data: Buffer): Buffer {
  const rest = data.length % BLOCK;
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(BLOCK - rest)]);
}

function asciiFallback(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_');
  return ascii.length > 100 ? ascii.slice(ascii.length - 100) : ascii;
}
