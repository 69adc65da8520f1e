/**
 * Checks a command's output file before any work: `report --out` and `export --out` write a
 * temporary file beside the target and rename it, so a bad target used to fail only at the end.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ErrorCode, FaithsweepError } from '../errors.ts';

/**
 * The absolute path of `value`, an output file given as `flag`.
 * @throws FaithsweepError BAD_ARGS when it is empty, an existing directory, or its directory is
 *   missing or not writable.
 */
export function outputFile(flag: string, value: string): string {
  if (value.trim() === '') throw new FaithsweepError(ErrorCode.BAD_ARGS, `${flag} is empty`, { hint: `give the file to write, e.g. ${flag} out.html` });
  const path = resolve(value);
  if (existsSync(path) && statSync(path).isDirectory()) {
    throw new FaithsweepError(ErrorCode.BAD_ARGS, `${flag} ${path} is a directory`, { hint: `give a file name, e.g. ${flag} ${resolve(path, 'out')}…` });
  }
  const dir = dirname(path);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new FaithsweepError(ErrorCode.BAD_ARGS, `${flag} ${path}: the directory ${dir} does not exist`, { hint: `create it (mkdir -p ${dir}) or write elsewhere` });
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new FaithsweepError(ErrorCode.BAD_ARGS, `${flag} ${path}: the directory ${dir} is not writable`, { hint: 'write somewhere you may write' });
  }
  return path;
}
