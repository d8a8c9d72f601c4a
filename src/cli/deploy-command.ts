/**
 * `r2-assets deploy [dir]`: the options come from the flags, then from
 * `r2-assets.json` (see config-file.ts), then from the defaults; a flag
 * wins over the file. With `--dry-run`, nothing is changed: the files are
 * hashed, the platform is asked which it lacks, and the plan is printed.
 */
import { join } from "node:path";
import type { ApiClient } from "./client.ts";
import type { CommandOutput } from "./commands.ts";
import { aliasArg, parseVars, positiveInteger, projectName, runWorkerFirst, splitList } from "./args.ts";
import { CONFIG_FILE, readConfigFile, type ConfigFile } from "./config-file.ts";
import { deploy, planDeploy, type DeployOptions, type DryRunResult, type ServerOptions } from "./deploy.ts";
import { UsageError } from "./errors.ts";
import { formatBytes } from "./format.ts";
import { Progress } from "./progress.ts";

/** What `deploy` was told on its command line. */
export interface DeployFlags {
  dir?: string;
  config?: string;
  project?: string;
  message?: string;
  activate?: boolean;
  alias?: string;
  htmlHandling?: string;
  notFoundHandling?: string;
  runWorkerFirst?: string[];
  server?: string;
  vars?: string[];
  compatibilityDate?: string;
  compatibilityFlags?: string[];
  concurrency?: string;
  multipartThreshold?: string;
  dryRun?: boolean;
  /** False for --no-cache. */
  cache?: boolean;
  buildManifest?: string;
  /** False for --no-compress. */
  compress?: boolean;
  force?: boolean;
}

export async function deployCommand(client: ApiClient, flags: DeployFlags, json: boolean): Promise<CommandOutput> {
  const file = await readConfigFile(flags.config ?? join(process.cwd(), CONFIG_FILE), flags.config !== undefined);
  const options = deployOptions(flags, file);
  const progress = new Progress(json ? "silent" : process.stderr.isTTY ? "bar" : "lines");
  if (file) {
    progress.note(`Using ${file.path}`);
  }
  if (flags.dryRun) {
    const plan = await planDeploy(client, options, progress);
    return { json: plan, text: describePlan(plan) };
  }
  const result = await deploy(client, options, progress);
  if (result.unchanged) {
    return {
      json: result,
      text: `Nothing changed: ${result.project} version ${result.version} already has these files, this configuration and this server code, and stays as it was (--force makes a new version anyway)`,
    };
  }
  const state = result.active
    ? `live at ${result.url}`
    : result.alias
      ? `not live; ${result.alias} serves it at ${result.aliasUrl ?? ""}`
      : `ready (not live); activate it to serve it at ${result.url}`;
  return {
    json: result,
    text:
      `Deployed ${result.project} version ${result.version}: ${result.files} file(s), ` +
      `${result.uploaded} uploaded (${formatBytes(result.bytesUploaded)}), ${result.skipped} already stored` +
      `${result.partsSkipped ? `; resumed, ${result.partsSkipped} part(s) had arrived before` : ""}; ` +
      `${result.immutable} served immutable (fingerprinted names); ` +
      `${formatBytes(result.bytes)}, ${result.compressedFiles} file(s) precompressed (${formatBytes(result.compressedBytes)} of variants)\n` +
      `${state}\npreview of this version: ${result.previewUrl}`,
  };
}

/** The deploy's options: flags, then the config file, then defaults. Pure. */
export function deployOptions(flags: DeployFlags, file: ConfigFile | null): DeployOptions {
  const dir = flags.dir ?? file?.directory;
  if (dir === undefined) {
    throw new UsageError(`deploy: give the directory to deploy (or "directory" in ${CONFIG_FILE})`);
  }
  const alias = flags.alias ?? file?.alias;
  return {
    dir,
    project: projectName(flags.project ?? file?.project, "--project"),
    message: flags.message ?? file?.message ?? "",
    ...(alias === undefined ? {} : { alias: aliasArg(alias, "--alias") }),
    // A deploy to an alias leaves live alone, unless told otherwise.
    activate: flags.activate ?? alias === undefined,
    config: {
      html_handling: flags.htmlHandling ?? file?.html_handling,
      not_found_handling: flags.notFoundHandling ?? file?.not_found_handling,
      run_worker_first: runWorkerFirst(flags.runWorkerFirst) ?? file?.run_worker_first,
    },
    ...serverPart(flags, file),
    concurrency: positiveInteger(flags.concurrency, "--concurrency", 1, 64),
    multipartThreshold: mib(positiveInteger(flags.multipartThreshold, "--multipart-threshold", 5, 95)),
    cache: flags.cache ?? true,
    ...(flags.buildManifest === undefined ? {} : { buildManifest: flags.buildManifest }),
    ...(flags.force ? { force: true } : {}),
    compress: {
      enabled: flags.compress ?? file?.compress !== false,
      exclude: file?.compress ? file.compress.exclude : [],
    },
  };
}

function serverPart(flags: DeployFlags, file: ConfigFile | null): { server?: ServerOptions } {
  const entry = flags.server ?? file?.server?.entry;
  if (entry === undefined) {
    for (const [option, given] of [
      ["var", flags.vars],
      ["compatibility-date", flags.compatibilityDate],
      ["compatibility-flags", flags.compatibilityFlags],
    ] as const) {
      if (given !== undefined) {
        throw new UsageError(`--${option} needs --server <entry>`);
      }
    }
    return {};
  }
  return {
    server: {
      entry,
      vars: { ...file?.server?.vars, ...parseVars(flags.vars ?? []) },
      compatibilityDate: flags.compatibilityDate ?? file?.server?.compatibility_date,
      compatibilityFlags: flags.compatibilityFlags
        ? splitList(flags.compatibilityFlags)
        : (file?.server?.compatibility_flags ?? []),
    },
  };
}

function describePlan(plan: DryRunResult): string {
  const goes = plan.activate ? "live" : plan.alias ? `to alias ${plan.alias}` : "staged, not live";
  const rules = `${plan.config.redirects} redirect rule(s), ${plan.config.headers} header rule(s)`;
  const lines = [
    `Dry run for ${plan.project}: nothing was uploaded or changed.`,
    `${plan.files} file(s), ${formatBytes(plan.bytes)}; would upload ${plan.upload.files} (${formatBytes(plan.upload.bytes)})`,
    `would go ${goes}`,
    `html_handling ${plan.config.html_handling}, not_found_handling ${plan.config.not_found_handling}, ${rules}`,
    `run_worker_first ${JSON.stringify(plan.config.run_worker_first)}`,
    `${plan.immutable.length} file(s) would be served immutable (fingerprinted names; --json lists them)`,
  ];
  if (plan.server) {
    const vars = plan.server.vars.length > 0 ? `, vars ${plan.server.vars.join(", ")}` : "";
    lines.push(
      `server code ${plan.server.entry}: ${formatBytes(plan.server.bytes)} bundled, compatibility date ${plan.server.compatibilityDate}${vars}`,
    );
  }
  for (const warning of plan.warnings) {
    lines.push(`warning: ${warning.file}:${warning.line}: ${warning.message}; the line would be skipped`);
  }
  return lines.join("\n");
}

function mib(value: number | undefined): number | undefined {
  return value === undefined ? undefined : value * 1024 * 1024;
}
