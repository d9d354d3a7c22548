/**
 * @file Command-line options of the benchmark scripts: `--name value` numbers and bare flags.
 *
 * @example
 *   const ROWS = numberArg('rows', 300_000); // --rows 1000
 *   const QUICK = flag('quick');              // --quick
 *   const DEVICE = stringArg('device', 'cpu'); // --device cuda
 *   const ONLY = stringArg('only');           // --only video
 */
const args = process.argv.slice(2);

/** The number after `--name`, or `fallback` when the option is absent. */
export function numberArg(name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

/** The text after `--name`, or `fallback` when the option is absent. */
export function stringArg(name: string): string | undefined;
export function stringArg(name: string, fallback: string): string;
export function stringArg(name: string, fallback?: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
}

/** Whether `--name` is present. */
export function flag(name: string): boolean {
  return args.includes(`--${name}`);
}
