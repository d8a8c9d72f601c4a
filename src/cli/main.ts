#!/usr/bin/env node
/**
 * r2-assets: deploy sites to an r2-assets platform and run it. This file
 * only parses arguments and reports errors; the work is done in the
 * command modules.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { DEFAULT_COMPATIBILITY_DATE } from "../shared/server-code.ts";
import { aliasArg, expectArgs, positiveInteger, projectName, versionArg } from "./args.ts";
import { ApiClient } from "./client.ts";
import * as commands from "./commands.ts";
import { deployCommand } from "./deploy-command.ts";
import { CliError, UsageError } from "./errors.ts";
import { init } from "./init.ts";
import { MAX_REPORT_MINUTES } from "../shared/limits.ts";
import * as observe from "./observe-commands.ts";
import * as platform from "./platform-commands.ts";
import { VERSION } from "./version.ts";

const DEFAULT_URL = "http://localhost:8787";

const HELP = `Usage: r2-assets <command> [options]

Getting started:
  init [--project <name>] [--force]  Write a starter r2-assets.json for this directory

Deploying:
  deploy [dir] --project <name>     Upload what changed in <dir> and make it a new version; without
                                    arguments, r2-assets.json in this directory says what to deploy
      --config <file>               Read this config file instead of ./r2-assets.json
      --message <text>              Describe the version
      --no-activate                 Finalize without making it live
      --alias <name>                Point this alias at the version (and leave live alone, unless --activate)
      --dry-run                     Hash, ask what is missing, print what would be uploaded and which
                                    files would be served immutable; change nothing
      --build-manifest <file>       A build manifest (Vite's, webpack's asset-manifest.json) whose hashed
                                    outputs are served immutable whatever their names (those in <dir>
                                    are read anyway)
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
      --force                       Make a new version even if nothing changed (else the version it would
                                    repeat is kept, and nothing moves)
      --no-compress                 Do not precompress text files (brotli, gzip, zstd); "compress" in
                                    r2-assets.json can also exclude patterns
      --no-cache                    Hash every file, ignoring the hash cache (kept under
                                    $XDG_CACHE_HOME/r2-assets, or $R2_ASSETS_CACHE_DIR)

Versions:
  versions --project <name>         List versions, newest first
  activate <version> --project <n>  Make a version live
  rollback --project <name>         Make the previously live version live again
      --to <version>                ...or this version
  alias set <name> <version> --project <p>     Point an alias (served at <name>.<project>.<root>)
  alias delete <name> --project <p>            Remove an alias
  history --project <name>          Every move of live and of the aliases, newest first
      --limit <n>                   At most n of them (default 100)
  delete-version <version> --project <name>
  pin <version> --project <name>    Keep a version whatever the retention setting
  unpin <version> --project <name>
  gc --project <name>               Delete stored files no retained version uses

Seeing what a site does:
  analytics --project <name>        Requests, bytes, statuses and cache hits, a sparkline of requests
                                    and errors, the versions that served them, the busiest paths and 404s
      --minutes <n>                 Over the last n minutes (default 60; up to 90 days)
  logs --project <name>             The server code's console lines and uncaught exceptions
      --limit <n>                   The newest n lines (default 100)
      --follow                      Keep printing new lines as they come (Ctrl-C stops)

Running the platform:
  projects [--prefix <p>]           List every project, or those whose names start with <p> (admin)
  project create <name> [--retain <n>]         Create a project (admin)
  project delete <name> [--yes]     Delete a project, its versions and files (admin; asks first)
  domains add|list|remove [hostname] --project <p> [--alias <name>]   Custom domains (admin)
  token create|list|revoke [id] --project <name>   Manage deploy tokens (admin)
      --scope <scope>               What a new token may do: deploy, activate (default; also make
                                    versions live and roll back) or manage (also retention, deleting
                                    versions, pins and gc)
  settings --project <name>         Show or change a project's settings
      --retain <n>                  Versions to keep (manage scope)
      --max-open-deploys <n>        Quotas (admin): deploys open at once,
      --max-open-uploads <n>        multipart uploads open at once,
      --max-upload-bytes <n>        and the bytes those may declare
      --max-stored-bytes <n>        bytes of blobs the project may keep

Options:
  --url <url>      Platform URL (env R2_ASSETS_URL, default ${DEFAULT_URL})
  --token <token>  API token (env R2_ASSETS_TOKEN)
  --json           Print one JSON value on stdout
  --verbose        Print stack traces of unexpected errors
  -h, --help       Show this help
  -v, --version    Print the CLI's version

Exit codes: 0 done; 1 failed (the platform refused, or a file or the network failed;
or no command was given); 2 the command was called wrongly. Errors are one line on stderr; with --json,
stdout then holds {"error": {"message": ..., "exitCode": ...}}.
Nothing prompts when stdin is not a terminal.
`;

const OPTIONS = {
  url: { type: "string" },
  token: { type: "string" },
  project: { type: "string" },
  json: { type: "boolean" },
  verbose: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
  force: { type: "boolean" },
  config: { type: "string" },
  message: { type: "string" },
  activate: { type: "boolean" },
  alias: { type: "string" },
  "dry-run": { type: "boolean" },
  "build-manifest": { type: "string" },
  compress: { type: "boolean" },
  "html-handling": { type: "string" },
  "not-found-handling": { type: "string" },
  to: { type: "string" },
  limit: { type: "string" },
  minutes: { type: "string" },
  follow: { type: "boolean" },
  prefix: { type: "string" },
  yes: { type: "boolean" },
  retain: { type: "string" },
  scope: { type: "string" },
  "max-open-deploys": { type: "string" },
  "max-open-uploads": { type: "string" },
  "max-upload-bytes": { type: "string" },
  "max-stored-bytes": { type: "string" },
  concurrency: { type: "string" },
  "multipart-threshold": { type: "string" },
  cache: { type: "boolean" },
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
  if (values.version) {
    process.stdout.write(values.json ? `${JSON.stringify({ version: VERSION })}\n` : `${VERSION}\n`);
    return;
  }
  if (values.help || command === "help") {
    process.stdout.write(HELP);
    return;
  }
  if (command === undefined) {
    // As git and npm do: the help, on stderr, and a failure.
    process.stderr.write(HELP);
    throw new CliError("a command is needed; see above");
  }
  const client = new ApiClient({
    url: values.url ?? process.env.R2_ASSETS_URL ?? DEFAULT_URL,
    token: values.token ?? process.env.R2_ASSETS_TOKEN,
  });
  const output = await dispatch(command, args, values, client);
  if (output.json === null && output.text === "") {
    return;
  }
  process.stdout.write(values.json ? `${JSON.stringify(output.json, null, 2)}\n` : `${output.text}\n`);
}

async function dispatch(
  command: string,
  args: string[],
  values: Values,
  client: ApiClient,
): Promise<commands.CommandOutput> {
  const project = (): string => projectName(values.project, "--project");
  switch (command) {
    case "init":
      expectArgs(command, args, []);
      return init(process.cwd(), {
        project: values.project === undefined ? undefined : projectName(values.project, "--project"),
        force: values.force === true,
      });
    case "deploy": {
      if (args.length > 1) {
        throw new UsageError(`deploy: expected \`r2-assets deploy [dir]\`, got ${args.length} arguments`);
      }
      return deployCommand(
        client,
        {
          dir: args[0],
          config: values.config,
          project: values.project,
          message: values.message,
          activate: values.activate,
          alias: values.alias,
          htmlHandling: values["html-handling"],
          notFoundHandling: values["not-found-handling"],
          runWorkerFirst: values["run-worker-first"],
          server: values.server,
          vars: values.var,
          compatibilityDate: values["compatibility-date"],
          compatibilityFlags: values["compatibility-flags"],
          concurrency: values.concurrency,
          multipartThreshold: values["multipart-threshold"],
          dryRun: values["dry-run"],
          cache: values.cache,
          buildManifest: values["build-manifest"],
          compress: values.compress,
          force: values.force,
        },
        values.json === true,
      );
    }
    case "versions":
      expectArgs(command, args, []);
      return commands.versions(client, project());
    case "activate": {
      const [version] = expectArgs(command, args, ["<version>"]);
      return commands.activate(client, project(), versionArg(version));
    }
    case "rollback":
      expectArgs(command, args, []);
      return commands.rollback(client, project(), values.to === undefined ? undefined : versionArg(values.to));
    case "alias": {
      const [action, name, version] = args;
      if (name === undefined || args.length > 3) {
        throw new UsageError("alias: expected `alias set <name> <version>` or `alias delete <name>`");
      }
      return platform.alias(
        client,
        project(),
        action,
        aliasArg(name, "<name>"),
        version === undefined ? undefined : versionArg(version),
      );
    }
    case "history":
      expectArgs(command, args, []);
      return platform.history(client, project(), positiveInteger(values.limit, "--limit", 1, 1000));
    case "delete-version": {
      const [version] = expectArgs(command, args, ["<version>"]);
      return commands.deleteVersion(client, project(), versionArg(version));
    }
    case "pin":
    case "unpin": {
      const [version] = expectArgs(command, args, ["<version>"]);
      return commands.pin(client, project(), versionArg(version), command === "pin");
    }
    case "gc":
      expectArgs(command, args, []);
      return commands.gc(client, project());
    case "analytics":
      expectArgs(command, args, []);
      return observe.analytics(client, project(), positiveInteger(values.minutes, "--minutes", 1, MAX_REPORT_MINUTES));
    case "logs":
      expectArgs(command, args, []);
      return observe.logs(client, project(), {
        limit: positiveInteger(values.limit, "--limit", 1, 1000),
        follow: values.follow === true,
        json: values.json === true,
        write: (line) => process.stdout.write(`${line}\n`),
      });
    case "projects":
      expectArgs(command, args, []);
      return platform.listProjects(client, values.prefix ?? "");
    case "project": {
      const [action, name] = expectArgs(command, args, ["create|delete", "<name>"]);
      if (action === "create") {
        return commands.createProject(client, projectName(name, "<name>"), retainOption(values));
      }
      if (action === "delete") {
        const report = values.json ? () => undefined : (line: string) => process.stderr.write(`${line}\n`);
        return platform.deleteProject(client, projectName(name, "<name>"), { yes: values.yes === true, report });
      }
      throw new UsageError("project: expected `project create <name>` or `project delete <name>`");
    }
    case "domains": {
      const [action, hostname] = args;
      if (args.length > 2) {
        throw new UsageError("domains: expected `domains add|list|remove [hostname] --project <p>`");
      }
      return platform.domains(client, project(), action, hostname, values.alias);
    }
    case "token": {
      const [action, id] = args;
      return commands.token(client, project(), action, id, values.scope);
    }
    case "settings":
      expectArgs(command, args, []);
      return commands.settings(client, project(), settingsChange(values));
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}; see r2-assets --help`);
  }
}

function settingsChange(values: Values): commands.SettingsChange {
  const quotas = {
    openDeploys: positiveInteger(values["max-open-deploys"], "--max-open-deploys", 1, 1_000_000),
    openUploads: positiveInteger(values["max-open-uploads"], "--max-open-uploads", 1, 1_000_000),
    uploadBytes: positiveInteger(values["max-upload-bytes"], "--max-upload-bytes", 1, Number.MAX_SAFE_INTEGER),
    storedBytes: positiveInteger(values["max-stored-bytes"], "--max-stored-bytes", 1, Number.MAX_SAFE_INTEGER),
  };
  const given = Object.fromEntries(Object.entries(quotas).filter(([, value]) => value !== undefined));
  return { retention: retainOption(values), quotas: Object.keys(given).length > 0 ? given : undefined };
}

function retainOption(values: Values): number | undefined {
  return positiveInteger(values.retain, "--retain", 1, 1000);
}

run(process.argv.slice(2)).catch((error: unknown) => {
  const verbose = process.argv.includes("--verbose");
  // One line, whatever the server's message looked like.
  const message = (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, " ");
  const exitCode = error instanceof CliError ? error.exitCode : 1;
  if (error instanceof CliError) {
    process.stderr.write(`r2-assets: error: ${message}\n`);
  } else {
    process.stderr.write(`r2-assets: unexpected error: ${message}\n`);
    if (verbose && error instanceof Error) {
      process.stderr.write(`${error.stack}\n`);
    }
  }
  if (process.argv.includes("--json")) {
    process.stdout.write(`${JSON.stringify({ error: { message, exitCode } })}\n`);
  }
  process.exitCode = exitCode;
});
