/**
 * Splitting the Engine API's multiplexed attach stream (no TTY) into stdout and stderr. Each frame
 * is an 8-byte header — stream type (1 stdout, 2 stderr; 0 stdin is treated as stdout), three zero
 * bytes, payload length as big-endian uint32 — followed by the payload. Frames arrive split and
 * joined arbitrarily across chunks, so the parser keeps what it has not consumed yet.
 */
import type { OutputStream } from '../contracts.js';

export interface Frame {
  stream: OutputStream;
  payload: Buffer;
}

export class FrameDemuxer {
  private buffer: Buffer = Buffer.alloc(0);

  /** Feed a chunk; returns the frames it completed, in order. */
  push(chunk: Buffer): Frame[] {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    const frames: Frame[] = [];
    let offset = 0;
    while (this.buffer.length - offset >= 8) {
      const type = this.buffer[offset];
      const size = this.buffer.readUInt32BE(offset + 4);
      if (this.buffer.length - offset - 8 < size) break;
      const payload = this.buffer.subarray(offset + 8, offset + 8 + size);
      frames.push({ stream: type === 2 ? 'stderr' : 'stdout', payload });
      offset += 8 + size;
    }
    this.buffer = offset === 0 ? this.buffer : Buffer.from(this.buffer.subarray(offset));
    return frames;
  }

  /** Bytes left over that do not make a whole frame (non-zero at the end means a cut stream). */
  get pendingBytes(): number {
    return this.buffer.length;
  }
}
