// Where blob bytes live. The filesystem under the data directory by default; the interface is
// what an S3-compatible store would implement (partial uploads as multipart parts).
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";

export interface BlobStore {
  /** Bytes of an unfinished upload held so far (0 if none). */
  partialSize(id: string): Promise<number>;
  /** Continues an unfinished upload at `offset`; anything stored after it is discarded first. */
  writePartial(id: string, offset: number): Promise<Writable>;
  /** The bytes of an unfinished upload; each piece is valid only until the next is asked for. */
  readPartial(id: string): AsyncIterable<Uint8Array>;
  /** Makes a finished upload durable and readable, atomically. */
  commit(id: string): Promise<void>;
  /** A finished blob's bytes; undefined if they are not there. */
  read(id: string): Promise<Readable | undefined>;
  /** Deletes the blob, finished or not. */
  remove(id: string): Promise<void>;
}

export class FileBlobStore implements BlobStore {
  private readonly partialDir: string;

  constructor(private readonly dir: string) {
    this.partialDir = join(dir, "partial");
  }

  async init(): Promise<void> {
    await mkdir(this.partialDir, { recursive: true, mode: 0o700 });
  }

  async partialSize(id: string): Promise<number> {
    try {
      return (await stat(this.partial(id))).size;
    } catch {
      return 0;
    }
  }

  async writePartial(id: string, offset: number): Promise<Writable> {
    const file = await open(this.partial(id), "a+");
    await file.close();
    const handle = await open(this.partial(id), "r+");
    await handle.truncate(offset);
    return handle.createWriteStream({ start: offset });
  }

  async *readPartial(id: string): AsyncIterable<Uint8Array> {
    // One buffer for the whole file: a 50 MB check leaves no 50 MB of garbage behind.
    const buffer = new Uint8Array(256 * 1024);
    const handle = await open(this.partial(id), "r");
    try {
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
        if (bytesRead === 0) return;
        yield buffer.subarray(0, bytesRead);
      }
    } finally {
      await handle.close();
    }
  }

  async commit(id: string): Promise<void> {
    const handle = await open(this.partial(id), "r+");
    await handle.sync();
    await handle.close();
    await rename(this.partial(id), this.complete(id));
    const dir = await open(this.dir, "r");
    await dir.sync();
    await dir.close();
  }

  async read(id: string): Promise<Readable | undefined> {
    try {
      return (await open(this.complete(id), "r")).createReadStream({ highWaterMark: 256 * 1024 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  async remove(id: string): Promise<void> {
    await rm(this.partial(id), { force: true });
    await rm(this.complete(id), { force: true });
  }

  private partial(id: string): string {
    return join(this.partialDir, id);
  }

  private complete(id: string): string {
    return join(this.dir, id);
  }
}
