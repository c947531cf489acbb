// Flags of `infra-check serve`, declared eagerly for --help; the command
// (src/commands/serve.ts), prom-client and the HTTP server load only when it runs.
import type { Command } from "commander";

const collect = (value: string, previous: string[] = []) => [...previous, value];

export const SERVE_HELP = `
Runs the config's checks continuously and serves what they find. Each cycle
runs under the same budgets and deadline as a one-shot run; one cycle at a
time per check (a slow scrape never stacks probes). Checks are jittered by
±10 % so they do not fire in lockstep; a check's own every: wins over --every.

Endpoints (GET):
  /               status page: status, class, hint, since when, and latency
                  over the last hour; no JavaScript, readable on a phone
  /metrics        Prometheus exposition: infra_check_up, infra_check_status,
                  infra_check_failure_info{class,code}, durations, phases,
                  the checks' metrics, infra_check_last_run_timestamp_seconds,
                  process metrics
  /probe?check=NAME          one check now, blackbox_exporter-style (joins a
                             cycle already running instead of starting one)
  /probe?kind=K&target=T     the same by target: only the config's targets
  /report.json    the latest results, in the schema of --format json
  /healthz        200 when every check passes, 503 otherwise (no token needed)

Transitions are logged on stdout as one JSON line each:
  {"event":"transition","check":"cache","from":"pass","to":"fail",
   "class":"auth","code":"NOAUTH",…}
SIGHUP reloads the config (an invalid one is rejected and the running one
kept, the reason logged); SIGTERM or Ctrl-C stops within a second.

Examples:
  $ infra-check serve staging                 http://127.0.0.1:9464/
  $ infra-check serve staging --every 1m --listen 127.0.0.1:9100
  $ infra-check serve production --listen 0.0.0.0:8080 --allow-remote \\
      --token-file /run/secrets/infra-check-token
  $ curl -s 'http://127.0.0.1:9464/probe?check=cache'

Exit codes: 0 after SIGTERM/SIGINT, 2 for a bad flag or config (nothing is
served). Prometheus scrape config, alert rules, Cloud Run: docs/serve.md.`;

export function addServeOptions(command: Command): Command {
  return command
    .option("-c, --config <file>", "serve this config file instead of config/<env>.yaml")
    .option("-l, --listen <host:port>", "address to serve on (default 127.0.0.1:9464; port 0 picks one); other than loopback needs --allow-remote")
    .option("--every <duration>", "how often each check runs, e.g. 30s (default 30s; at least 1s)")
    .option("--only <names>", "serve only these checks (comma-separated, repeatable)", collect)
    .option("--skip <names>", "skip these checks (comma-separated, repeatable)", collect)
    .option("-t, --timeout <duration>", "default per-check budget, e.g. 2s (a check's own timeout wins)")
    .option("-d, --deadline <duration>", "budget of each cycle, e.g. 20s (default: config's deadline, else 30s)")
    .option("--strict", "warnings count as failures (/healthz answers 503)")
    .option("--allow-remote", "accept a --listen address that other machines can reach (0.0.0.0, a LAN address)")
    .option("--token-file <file>", "require Authorization: Bearer TOKEN, the token read from FILE, on every endpoint but /healthz")
    .option("--token-env <var>", "the same, the token read from environment variable VAR")
    .option("-v, --verbose", "the runner's log lines on stderr")
    .addHelpText("after", SERVE_HELP);
}
