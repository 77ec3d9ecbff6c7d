import { createS3Storage, type S3StorageOptions } from './s3-storage.js';
import { createLocalStorage, type Storage } from './storage.js';

export interface StorageOptions {
  /** Folder of the embedded default (DATA_DIR/files). */
  localRoot: string;
  /** When set (S3_BUCKET and friends), files go to this S3-compatible store instead. */
  s3?: S3StorageOptions | undefined;
}

/** Pick the real store from configuration; code above never knows which. */
export function createStorage(options: StorageOptions): Storage {
  return options.s3 ? createS3Storage(options.s3) : createLocalStorage(options.localRoot);
}
