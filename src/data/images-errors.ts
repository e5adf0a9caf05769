/** Errors of the image-folder dataset; each names the file or folder to fix. */

import { TsrunError } from '../errors.js';

export class ImageFolderError extends TsrunError {
  constructor(message: string) {
    super(message);
    this.name = 'ImageFolderError';
  }
}

export class ImageDecodeError extends TsrunError {
  readonly file: string;
  constructor(file: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(
      `cannot decode image ${file}: ${why.replace(/\s+/g, ' ').trim()} (fix or remove the file, or pass --skip-bad-images)`,
    );
    this.name = 'ImageDecodeError';
    this.file = file;
  }
}
