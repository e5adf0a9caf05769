/** Errors of the CSV reader; each names the file and, where there is one, the line and its content. */

/** A line that is not `ncols` numbers separated by commas (or not integers where int64 was asked). */
import { TsrunError } from '../errors.js';

export class CsvParseError extends TsrunError {
  override name = 'CsvParseError';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly content: string,
    readonly reason: string,
  ) {
    super(
      `${file}:${line}: ${reason}: ${JSON.stringify(content.length > 200 ? content.slice(0, 200) + '…' : content)}` +
        ' (fix the line, or pass --skip-bad-lines to count and skip such lines)',
    );
  }
}

/** The file (or the whole input) holds no data rows. */
export class EmptyCsvError extends TsrunError {
  override name = 'EmptyCsvError';
  constructor(readonly file: string) {
    super(`${file}: no data rows (the file is empty or holds only a header)`);
  }
}
