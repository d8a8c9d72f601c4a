#!/usr/bin/env node
/**
 * r2-assets: deploy static sites to an r2-assets platform and manage their
 * versions. This file only parses arguments and reports errors; the work
 * is done in deploy.ts and commands.ts.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { isProjectName, isVersionId } from "../shared/names.ts";
import { DEFAULT_COMPATIBILITY_DATE } from "../shared/server-code.ts";
import { ApiClient } from "./client.ts";
import * as commands from "./commands.ts";
import { deploy, type ServerOptions } from "./deploy.ts";
import { CliError, UsageError } from "./errors.ts";
import { formatBytes } from "./format.ts";
import { Progress } from "./progress.ts";
import { parseVars } from "./server-files.ts";

const DEFAULT_URL = "http://localhost:8787";

const HELP = `Usage: r2-assets <command> [options]

Commands:
  deploy <dir> --project <name>     Upload what changed in <dir> and make it a new version
      --message <text>              Describe the version
      --no-activate                 Finalize without making it live
      --html-handling <mode>        auto-trailing-slash (default), force-trailing-slash,
                                    drop-trailing-slash or none
      --not-found-handling <mode>   none (default), single-page-application or 404-page
      --server <entry>              Ship server code: a .ts or .js module and the local files it imports
      --var KEY=VALUE               A plain-text variable for the server code (repeatable)
      --compatibility-date <date>   The server code's compatibility date (default ${DEFAULT_COMPATIBILITY_DATE})
      --compatibility-flags <flags> Its compatibility flags, comma-separated
      --run-worker-first <pattern>  Send matching requests to the server code before assets
                                    (repeatable; "true" for all, !/pattern to exclude)
      --concurrency <n>             Uploads in flight at once (default 6)
      --multipart-threshold <MiB>   Upload files larger than this in parts (default 64)
  versions --project <name>         List versions, newest first
  activate <version> --project <n>  Make a version live
  rollback --project <name>         Make the previously live version live again
      --to <version>                ...or this version
  delete-version <version> --project <name>
  pin <version> --project <name>    Keep a version whatever the retention setting
  unpin <version> --project <name>
  gc --project <name>               Delete stored files no retained version uses
  token create|list|revoke [id] --project <name>   Manage deploy tokens (admin)
      --scope <scope>               What a new token may do: deploy, activate (default; also make
                                    versions live and roll back) or manage (also retention, deleting
                                    versions, pins and gc)
  project create <name> [--retain <n>]             Create a project (admin)
  settings --project <name>         Show or change a project's settings
      --retain <n>                  Versions to keep (manage scope)
      --max-open-deploys <n>        Quotas (admin): deploys open at once,
      --max-open-uploads <n>        multipart uploads open at once,
      --max-upload-bytes <n>        and the bytes those may declare

Options:
  --url <url>      Platform URL (env R2_ASSETS_URL, default ${DEFAULT_URL})
  --token <token>  API token (env R2_ASSETS_TOKEN)
  --json           Print one JSON value on stdout
  --verbose        Print stack traces of unexpected errors
  -h, --help       Show this help
`;

const OPTIONS = {
  url: { type: "string" },
  token: { type: "string" },
  project: { type: "string" },
  json: { type: "boolean" },
  verbose: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  message: { type: "string" },
  activate: { type: "boolean", default: true },
  "html-handling": { type: "string" },
  "not-found-handling": { type: "string" },
  to: { type: "string" },
  retain: { type: "string" },
  scope: { type: "string" },
  "max-open-deploys": { type: "string" },
  "max-open-uploads": { type: "string" },
  "max-upload-bytes": { type: "string" },
  concurrency: { type: "string" },
  "multipart-threshold": { type: "string" },
  server: { type: "string" },
  var: { type: "string", multiple: true },
  "compatibility-date": { type: "string" },
  "compatibility-flags": { type: "string", multiple: true },
  "run-worker-first": { type: "string", multiple: true },
} satisfies ParseArgsConfig["options"];

type Values = ReturnType<typeof parse>["values"];

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, allowNegative: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv);
  const [command, ...args] = positionals;
  if (values.help || command === undefined || command === "help") {
    process.stdout.write(HELP);
    return;
  }
  const client = new ApiClient({
    url: values.url ?? process.env.R2_ASSETS_URL ?? DEFAULT_URL,
    token: values.token ?? process.env.R2_ASSETS_TOKEN,
  });
  const output = await dispatch(command, args, values, client);
  process.stdout.write(values.json ? `${JSON.stringify(output.json, null, 2)}\n` : `${output.text}\n`);
}

async function dispatch(
  command: string,
  args: string[],
  values: Values,
  client: ApiClient,
): Promise<commands.CommandOutput> {
  switch (command) {
    case "deploy": {
      const [dir] = expectArgs(command, args, ["<dir>"]);
      const progress = new Progress(values.json ? "silent" : process.stderr.isTTY ? "bar" : "lines");
      const result = await deploy(
        client,
        {
          dir,
          project: projectOption(values),
          message: values.message ?? "",
          activate: values.activate,
          config: {
            html_handling: values["html-handling"],
            not_found_handling: values["not-found-handling"],
            run_worker_first: runWorkerFirst(values["run-worker-first"]),
          },
          server: serverOptions(values),
          concurrency: positiveInteger(values.concurrency, "--concurrency", 1, 64),
          multipartThreshold: mib(positiveInteger(values["multipart-threshold"], "--multipart-threshold", 5, 95)),
        },
        progress,
      );
      const state = result.active ? "live at" : "ready (not live); activate it to serve it at";
      return {
        json: result,
        text:
          `Deployed ${result.project} version ${result.version}: ${result.files} file(s), ` +
          `${result.uploaded} uploaded (${formatBytes(result.bytesUploaded)}), ${result.skipped} already stored` +
          `${result.partsSkipped ? `; resumed, ${result.partsSkipped} part(s) had arrived before` : ""}\n` +
          `${state} ${result.url}\npreview of this version: ${result.previewUrl}`,
      };
    }
    case "versions":
      expectArgs(command, args, []);
      return commands.versions(client, projectOption(values));
    case "activate": {
      const [version] = expectArgs(command, args, ["<version>"]);
      return commands.activate(client, projectOption(values), versionArg(version));
    }
    case "rollback":
      expectArgs(command, args, []);
      return commands.rollback(
        client,
        projectOption(values),
        values.to === undefined ? undefined : versionArg(values.to),
      );
    case "delete-version": {
      const [version] = expectArgs(command, args, ["<version>"]);
      return commands.deleteVersion(client, projectOption(values), versionArg(version));
    }
    case "pin":
    case "unpin": {
      const [version] = expectArgs(command, args, ["<version>"]);
      return commands.pin(client, projectOption(values), versionArg(version), command === "pin");
    }
    case "gc":
      expectArgs(command, args, []);
      return commands.gc(client, projectOption(values));
    case "token": {
      const [action, id] = args;
      return commands.token(client, projectOption(values), action, id, values.scope);
    }
    case "project": {
      const [action, name] = expectArgs(command, args, ["create", "<name>"]);
      if (action !== "create") {
        throw new UsageError("project: expected `project create <name>`");
      }
      return commands.createProject(client, projectName(name, "<name>"), retainOption(values));
    }
    case "settings":
      expectArgs(command, args, []);
      return commands.settings(client, projectOption(values), settingsChange(values));
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}; see r2-assets --help`);
  }
}

/** Checks the number of positional arguments and returns them, one per name. */
function expectArgs<const Names extends readonly string[]>(
  command: string,
  args: string[],
  names: Names,
): { [K in keyof Names]: string } {
  if (args.length !== names.length) {
    const usage = names.length ? ` ${names.join(" ")}` : "";
    throw new UsageError(`${command}: expected \`r2-assets ${command}${usage}\`, got ${args.length} argument(s)`);
  }
  return args as unknown as { [K in keyof Names]: string };
}

function projectOption(values: Values): string {
  if (values.project === undefined) {
    throw new UsageError("--project <name> is required");
  }
  return projectName(values.project, "--project");
}

function projectName(name: string, option: string): string {
  if (!isProjectName(name)) {
    throw new UsageError(
      `${option}: "${name}" is not a valid project name (lowercase letters, digits and -, at most 63)`,
    );
  }
  return name;
}

function versionArg(version: string): string {
  if (!isVersionId(version)) {
    throw new UsageError(`"${version}" is not a version id (they look like 20261124-082301-123)`);
  }
  return version;
}

function settingsChange(values: Values): commands.SettingsChange {
  const quotas = {
    openDeploys: positiveInteger(values["max-open-deploys"], "--max-open-deploys", 1, 1_000_000),
    openUploads: positiveInteger(values["max-open-uploads"], "--max-open-uploads", 1, 1_000_000),
    uploadBytes: positiveInteger(values["max-upload-bytes"], "--max-upload-bytes", 1, Number.MAX_SAFE_INTEGER),
  };
  const given = Object.fromEntries(Object.entries(quotas).filter(([, value]) => value !== undefined));
  return { retention: retainOption(values), quotas: Object.keys(given).length > 0 ? given : undefined };
}

function retainOption(values: Values): number | undefined {
  return positiveInteger(values.retain, "--retain", 1, 1000);
}

function serverOptions(values: Values): ServerOptions | undefined {
  if (values.server === undefined) {
    for (const option of ["var", "compatibility-date", "compatibility-flags", "run-worker-first"] as const) {
      if (values[option] !== undefined) {
        throw new UsageError(`--${option} needs --server <entry>`);
      }
    }
    return undefined;
  }
  return {
    entry: values.server,
    vars: parseVars(values.var ?? []),
    compatibilityDate: values["compatibility-date"],
    compatibilityFlags: (values["compatibility-flags"] ?? [])
      .flatMap((flags) => flags.split(","))
      .map((flag) => flag.trim())
      .filter(Boolean),
  };
}

function runWorkerFirst(values: string[] | undefined): boolean | string[] | undefined {
  if (values === undefined) {
    return undefined;
  }
  if (values.length === 1 && (values[0] === "true" || values[0] === "false")) {
    return values[0] === "true";
  }
  return values
    .flatMap((value) => value.split(","))
    .map((value) => value.trim())
    .filter(Boolean);
}

function positiveInteger(value: string | undefined, option: string, min: number, max: number): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(`${option}: must be a whole number from ${min} to ${max}`);
  }
  return n;
}

function mib(value: number | undefined): number | undefined {
  return value === undefined ? undefined : value * 1024 * 1024;
}

run(process.argv.slice(2)).catch((error: unknown) => {
  const verbose = process.argv.includes("--verbose");
  if (error instanceof CliError) {
    // One line, whatever the server's message looked like.
    process.stderr.write(`r2-assets: error: ${error.message.replace(/\s*\n\s*/g, " ")}\n`);
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`r2-assets: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
    if (verbose && error instanceof Error) {
      process.stderr.write(`${error.stack}\n`);
    }
    process.exitCode = 1;
  }
});
