/**
 * Byte helpers shared by the layers: joining chunks, and writing all of a buffer to a writer
 * that may take only part of it per call (sockets, files).
 *
 * @example
 * ```ts
 * concatBytes([new Uint8Array([1]), new Uint8Array([2, 3])]); // Uint8Array [1, 2, 3]
 * await writeAll(conn, frame);
 * ```
 * @module
 */

/** One new array holding `parts` in order. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Whether `a` and `b` hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Writes every byte of `bytes`, calling `writer.write` until all are taken. */
export async function writeAll(
  writer: { write(p: Uint8Array): Promise<number> },
  bytes: Uint8Array,
): Promise<void> {
  for (let offset = 0; offset < bytes.length;) offset += await writer.write(bytes.subarray(offset));
}

/** Slabs are this large; bigger requests get an ArrayBuffer of their own. */
const SLAB_SIZE = 64 * 1024;
let slab = new Uint8Array(0);
let slabOffset = 0;

/**
 * A zeroed array of `length` bytes, usually a view into a shared 64 KiB slab. Every frame needs
 * a few fresh arrays, and each ArrayBuffer costs a system allocation plus garbage-collector
 * bookkeeping that outweighs copying a KiB; carving views out of one buffer makes that cost once
 * per slab. Views never overlap. Code that reads `.buffer` must use `byteOffset`/`byteLength`.
 */
export function allocBytes(length: number): Uint8Array {
  if (length > SLAB_SIZE / 8) return new Uint8Array(length);
  if (slabOffset + length > slab.length) {
    slab = new Uint8Array(SLAB_SIZE);
    slabOffset = 0;
  }
  const bytes = slab.subarray(slabOffset, slabOffset + length);
  slabOffset += (length + 7) & ~7; // 8-byte aligned, so DataView and word access stay cheap
  return bytes;
}
