/**
 * Checks of command-line arguments: each returns the value, or throws a
 * UsageError (exit code 2) naming the option. Pure.
 */
import { isAliasName, isProjectName, isVersionId } from "../shared/names.ts";
import { UsageError } from "./errors.ts";

/** Checks the number of positional arguments and returns them, one per name. */
export function expectArgs<const Names extends readonly string[]>(
  command: string,
  args: readonly string[],
  names: Names,
): { [K in keyof Names]: string } {
  if (args.length !== names.length) {
    const usage = names.length ? ` ${names.join(" ")}` : "";
    throw new UsageError(`${command}: expected \`r2-assets ${command}${usage}\`, got ${args.length} argument(s)`);
  }
  return args as unknown as { [K in keyof Names]: string };
}

export function projectName(name: string | undefined, option: string): string {
  if (name === undefined) {
    throw new UsageError(`${option} <name> is required`);
  }
  if (!isProjectName(name)) {
    throw new UsageError(
      `${option}: "${name}" is not a valid project name (lowercase letters, digits and -, at most 63)`,
    );
  }
  return name;
}

export function versionArg(version: string): string {
  if (!isVersionId(version)) {
    throw new UsageError(`"${version}" is not a version id (they look like 20261124-082301-123)`);
  }
  return version;
}

export function aliasArg(alias: string, option: string): string {
  if (!isAliasName(alias)) {
    throw new UsageError(
      `${option}: "${alias}" cannot name an alias (lowercase letters, digits and -; not a version id, nor live)`,
    );
  }
  return alias;
}

export function positiveInteger(
  value: string | undefined,
  option: string,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(`${option}: must be a whole number from ${min} to ${max}`);
  }
  return n;
}

/** `--run-worker-first` values: `true`, `false`, or patterns (repeated, or comma-separated). */
export function runWorkerFirst(values: readonly string[] | undefined): boolean | string[] | undefined {
  if (values === undefined) {
    return undefined;
  }
  if (values.length === 1 && (values[0] === "true" || values[0] === "false")) {
    return values[0] === "true";
  }
  return splitList(values);
}

/** Values given as repeated options or comma-separated, or both. */
export function splitList(values: readonly string[]): string[] {
  return values
    .flatMap((value) => value.split(","))
    .map((value) => value.trim())
    .filter(Boolean);
}

/** `KEY=VALUE` options as a map. */
export function parseVars(options: readonly string[]): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const option of options) {
    const equals = option.indexOf("=");
    if (equals < 1) {
      throw new UsageError(`--var: expected KEY=VALUE, got ${JSON.stringify(option)}`);
    }
    vars[option.slice(0, equals)] = option.slice(equals + 1);
  }
  return vars;
}
