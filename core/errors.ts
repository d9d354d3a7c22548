/**
 * @file User-facing errors. A UserError is something the user can fix (bad input file, bad
 * pipeline, missing model); the CLI prints its message alone, without a stack trace.
 * Messages name the place first: `path/to/file.json:12 field "Pid": expected a string`.
 *
 * @example
 *   throw new UserError(`${file}:${line} label: "abc" is not a number`);
 */

export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** Formats a place as file[:line[:column]]. */
export function place(file: string, line?: number, column?: number): string {
  return line === undefined ? file : column === undefined ? `${file}:${line}` : `${file}:${line}:${column}`;
}
