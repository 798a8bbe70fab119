# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_obs_global_optspecs
    string join \n context= config= o/output= color= v/verbose q/quiet h/help V/version
end

function __fish_obs_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_obs_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_obs_using_subcommand
    set -l cmd (__fish_obs_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c obs -n "__fish_obs_needs_command" -l context -d 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]' -r
complete -c obs -n "__fish_obs_needs_command" -l config -d 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]' -r -F
complete -c obs -n "__fish_obs_needs_command" -s o -l output -d 'Output format' -r -f -a "text\t''
json\t''
markdown\t'A postmortem document (investigate, demo); other commands print their text form'"
complete -c obs -n "__fish_obs_needs_command" -l color -d 'When to use colour (NO_COLOR is honoured in auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c obs -n "__fish_obs_needs_command" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged'
complete -c obs -n "__fish_obs_needs_command" -s q -l quiet -d 'Only errors on stderr: no progress, no warnings'
complete -c obs -n "__fish_obs_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c obs -n "__fish_obs_needs_command" -s V -l version -d 'Print version'
complete -c obs -n "__fish_obs_needs_command" -f -a "investigate" -d 'Find the error spike and rank the metrics that moved with it, and before it'
complete -c obs -n "__fish_obs_needs_command" -f -a "inv" -d 'Find the error spike and rank the metrics that moved with it, and before it'
complete -c obs -n "__fish_obs_needs_command" -f -a "trace" -d 'Show one trace as a waterfall, with its critical path and errors (Tempo or Jaeger)'
complete -c obs -n "__fish_obs_needs_command" -f -a "logs" -d 'Print log lines from Loki: of a trace, of a service, or for a LogQL query'
complete -c obs -n "__fish_obs_needs_command" -f -a "sink" -d 'Receive OTLP traces, logs and metrics (gRPC and HTTP) into the embedded store until stopped'
complete -c obs -n "__fish_obs_needs_command" -f -a "store" -d 'Inspect the embedded store'
complete -c obs -n "__fish_obs_needs_command" -f -a "snapshot" -d 'Run an investigation against the remote backends and capture everything it used into one new store file'
complete -c obs -n "__fish_obs_needs_command" -f -a "replay" -d 'Re-send a store\'s traces, logs and metrics to an OTLP endpoint (Collector, Tempo, Loki, Prometheus, another obs sink); resumable'
complete -c obs -n "__fish_obs_needs_command" -f -a "config" -d 'Print the resolved configuration (secrets masked) and where each value came from'
complete -c obs -n "__fish_obs_needs_command" -f -a "doctor" -d 'Probe every backend of the context: reachable, version, auth, and what investigate needs'
complete -c obs -n "__fish_obs_needs_command" -f -a "demo" -d 'Run a simulated shop with an injected fault into a temporary store and investigate it'
complete -c obs -n "__fish_obs_needs_command" -f -a "query" -d 'Evaluate PromQL against Prometheus or, offline, against an obs store file'
complete -c obs -n "__fish_obs_needs_command" -f -a "tui" -d 'Explore a saved report (`investigate -o json`) or a store\'s traces in the interactive UI'
complete -c obs -n "__fish_obs_needs_command" -f -a "patterns" -d 'Group log lines (one message per line) into patterns with the variable parts masked'
complete -c obs -n "__fish_obs_needs_command" -f -a "explain" -d 'Ask an LLM for a root-cause summary of a saved report (-o json) that cites its evidence'
complete -c obs -n "__fish_obs_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c obs -n "__fish_obs_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c obs -n "__fish_obs_using_subcommand investigate" -l since -d 'Start of the window: 14:30, 14:30:05 (local, today or yesterday), 30m, 2h, RFC 3339, unix seconds' -r
complete -c obs -n "__fish_obs_using_subcommand investigate" -l until -d 'End of the window (same forms as --since) [default: now]' -r
complete -c obs -n "__fish_obs_using_subcommand investigate" -l baseline -d 'Start of the baseline window, which ends at --since [default: as long as the window, just before it]' -r
complete -c obs -n "__fish_obs_using_subcommand investigate" -l step -d 'Query resolution, e.g. 15s or 1m [default: 200–400 points over the window]' -r
complete -c obs -n "__fish_obs_using_subcommand investigate" -l service -d 'Narrow the symptom to one service' -r
complete -c obs -n "__fish_obs_using_subcommand investigate" -l service-label -d 'Label that holds the service name [default: the first of service, service_name, job]' -r
complete -c obs -n "__fish_obs_using_subcommand investigate" -l symptom -d 'Which auto-detected symptom to examine: the error ratio, the p99 latency of the request-duration histogram, or both (the one that moved is the symptom) [default: auto]' -r -f -a "auto\t'The error ratio and the p99 latency; whichever moved'
errors\t'The error ratio of the requests'
latency\t'The p99 latency of the request-duration histogram'"
complete -c obs -n "__fish_obs_using_subcommand investigate" -l symptom-query -l error-query -d 'The symptom as PromQL (any SLI: an error ratio, a latency, a success rate), repeatable: the one that moved first is the symptom, the others are said to be steady; `$__rate_interval` is replaced by the rate window [default: auto-detected]' -r
complete -c obs -n "__fish_obs_using_subcommand investigate" -l direction -d 'Which way the symptom gets worse: up (an error ratio, a latency), down (a success rate, a throughput) or auto (whichever way it moved) [default: up]' -r -f -a "up\t'Higher is worse'
down\t'Lower is worse'
auto\t'Whichever way it moved further from its baseline'"
complete -c obs -n "__fish_obs_using_subcommand investigate" -l latency-query -d 'Latency histogram selector to take exemplars from, e.g. \'http_request_duration_seconds_bucket{service="checkout"}\'' -r
complete -c obs -n "__fish_obs_using_subcommand investigate" -l candidate-match -d 'Only consider candidate metrics matching this series selector, e.g. \'{namespace="shop"}\'' -r
complete -c obs -n "__fish_obs_using_subcommand investigate" -l candidate -d 'An extra candidate as PromQL (repeatable)' -r
complete -c obs -n "__fish_obs_using_subcommand investigate" -l max-candidates -d 'Most metric names fetched in full and ranked; with more names, a first pass scores every one and the most changed are fetched [default: 500]' -r
complete -c obs -n "__fish_obs_using_subcommand investigate" -l concurrency -d 'Queries in flight at once [default: 16]' -r
complete -c obs -n "__fish_obs_using_subcommand investigate" -l prometheus-url -d 'Prometheus-compatible base URL [env: OBS_PROMETHEUS_URL]' -r
complete -c obs -n "__fish_obs_using_subcommand investigate" -l tenant -d 'Tenant sent as X-Scope-OrgID (Mimir, Cortex, Thanos) [env: OBS_TENANT]' -r
complete -c obs -n "__fish_obs_using_subcommand investigate" -l timeout -d 'Per-request timeout, e.g. 30s [env: OBS_TIMEOUT] [default: 30s]' -r
complete -c obs -n "__fish_obs_using_subcommand investigate" -l scrape-interval -d 'The backend\'s scrape interval: the smallest step and the basis of rate windows [default: measured, else 15s]' -r
complete -c obs -n "__fish_obs_using_subcommand investigate" -l exemplars -d 'Most exemplars to report' -r
complete -c obs -n "__fish_obs_using_subcommand investigate" -l traces -d 'Traces to fetch and summarise (failing exemplars first, then the slowest); 0 skips traces and logs' -r
complete -c obs -n "__fish_obs_using_subcommand investigate" -l tempo-url -d 'Tempo base URL [env: OBS_TEMPO_URL]' -r
complete -c obs -n "__fish_obs_using_subcommand investigate" -l jaeger-url -d 'Jaeger query service base URL (the UI\'s address) [env: OBS_JAEGER_URL]' -r
complete -c obs -n "__fish_obs_using_subcommand investigate" -l loki-url -d 'Loki base URL, for the logs of those traces [env: OBS_LOKI_URL, LOKI_ADDR]' -r
complete -c obs -n "__fish_obs_using_subcommand investigate" -l trace-match -d 'How a trace id is found in logs [default: auto]' -r -f -a "auto\t'A trace-id stream label if Loki has one, else structured metadata, else the line'
label\t'Stream label: {trace_id="…"}'
metadata\t'Structured metadata or an extracted label: {…} | trace_id="…"'
line\t'Line filter: {…} |= "…"'"
complete -c obs -n "__fish_obs_using_subcommand investigate" -l log-selector -d 'Stream selector the traces\' logs are searched under, e.g. \'{namespace="shop"}\'' -r
complete -c obs -n "__fish_obs_using_subcommand investigate" -l store -d 'Read traces and logs (and, for investigate, metrics) from this obs store file instead of the remote backends; the file a running `obs sink --store PATH` writes is readable' -r -F
complete -c obs -n "__fish_obs_using_subcommand investigate" -l top -d 'Ranked candidates shown in the text report (JSON has all)' -r
complete -c obs -n "__fish_obs_using_subcommand investigate" -l model -d 'The model [default: gpt-4o, or model in [contexts.NAME.llm]]' -r
complete -c obs -n "__fish_obs_using_subcommand investigate" -l max-input-tokens -d 'Input budget in tokens, counted with the model\'s encoding; evidence that does not fit is left out by priority and listed [default: 8000]' -r
complete -c obs -n "__fish_obs_using_subcommand investigate" -l llm-timeout -d 'How long to wait for the answer to start, and between two chunks of it [default: 120s]' -r
complete -c obs -n "__fish_obs_using_subcommand investigate" -l context -d 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]' -r
complete -c obs -n "__fish_obs_using_subcommand investigate" -l config -d 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]' -r -F
complete -c obs -n "__fish_obs_using_subcommand investigate" -s o -l output -d 'Output format' -r -f -a "text\t''
json\t''
markdown\t'A postmortem document (investigate, demo); other commands print their text form'"
complete -c obs -n "__fish_obs_using_subcommand investigate" -l color -d 'When to use colour (NO_COLOR is honoured in auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c obs -n "__fish_obs_using_subcommand investigate" -l full-series -d 'JSON: the values of every ranked series, not only of the top 50 rows'
complete -c obs -n "__fish_obs_using_subcommand investigate" -l tui -d 'Open the report in the interactive UI instead of printing it (needs a terminal)'
complete -c obs -n "__fish_obs_using_subcommand investigate" -l explain -d 'Ask an LLM (OpenAI-compatible) for a root-cause summary that cites the report\'s evidence; only the redacted report is sent'
complete -c obs -n "__fish_obs_using_subcommand investigate" -l dry-run -d 'Print exactly the request that would be sent (redacted) and its token count; send nothing'
complete -c obs -n "__fish_obs_using_subcommand investigate" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged'
complete -c obs -n "__fish_obs_using_subcommand investigate" -s q -l quiet -d 'Only errors on stderr: no progress, no warnings'
complete -c obs -n "__fish_obs_using_subcommand investigate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c obs -n "__fish_obs_using_subcommand investigate" -s V -l version -d 'Print version'
complete -c obs -n "__fish_obs_using_subcommand inv" -l since -d 'Start of the window: 14:30, 14:30:05 (local, today or yesterday), 30m, 2h, RFC 3339, unix seconds' -r
complete -c obs -n "__fish_obs_using_subcommand inv" -l until -d 'End of the window (same forms as --since) [default: now]' -r
complete -c obs -n "__fish_obs_using_subcommand inv" -l baseline -d 'Start of the baseline window, which ends at --since [default: as long as the window, just before it]' -r
complete -c obs -n "__fish_obs_using_subcommand inv" -l step -d 'Query resolution, e.g. 15s or 1m [default: 200–400 points over the window]' -r
complete -c obs -n "__fish_obs_using_subcommand inv" -l service -d 'Narrow the symptom to one service' -r
complete -c obs -n "__fish_obs_using_subcommand inv" -l service-label -d 'Label that holds the service name [default: the first of service, service_name, job]' -r
complete -c obs -n "__fish_obs_using_subcommand inv" -l symptom -d 'Which auto-detected symptom to examine: the error ratio, the p99 latency of the request-duration histogram, or both (the one that moved is the symptom) [default: auto]' -r -f -a "auto\t'The error ratio and the p99 latency; whichever moved'
errors\t'The error ratio of the requests'
latency\t'The p99 latency of the request-duration histogram'"
complete -c obs -n "__fish_obs_using_subcommand inv" -l symptom-query -l error-query -d 'The symptom as PromQL (any SLI: an error ratio, a latency, a success rate), repeatable: the one that moved first is the symptom, the others are said to be steady; `$__rate_interval` is replaced by the rate window [default: auto-detected]' -r
complete -c obs -n "__fish_obs_using_subcommand inv" -l direction -d 'Which way the symptom gets worse: up (an error ratio, a latency), down (a success rate, a throughput) or auto (whichever way it moved) [default: up]' -r -f -a "up\t'Higher is worse'
down\t'Lower is worse'
auto\t'Whichever way it moved further from its baseline'"
complete -c obs -n "__fish_obs_using_subcommand inv" -l latency-query -d 'Latency histogram selector to take exemplars from, e.g. \'http_request_duration_seconds_bucket{service="checkout"}\'' -r
complete -c obs -n "__fish_obs_using_subcommand inv" -l candidate-match -d 'Only consider candidate metrics matching this series selector, e.g. \'{namespace="shop"}\'' -r
complete -c obs -n "__fish_obs_using_subcommand inv" -l candidate -d 'An extra candidate as PromQL (repeatable)' -r
complete -c obs -n "__fish_obs_using_subcommand inv" -l max-candidates -d 'Most metric names fetched in full and ranked; with more names, a first pass scores every one and the most changed are fetched [default: 500]' -r
complete -c obs -n "__fish_obs_using_subcommand inv" -l concurrency -d 'Queries in flight at once [default: 16]' -r
complete -c obs -n "__fish_obs_using_subcommand inv" -l prometheus-url -d 'Prometheus-compatible base URL [env: OBS_PROMETHEUS_URL]' -r
complete -c obs -n "__fish_obs_using_subcommand inv" -l tenant -d 'Tenant sent as X-Scope-OrgID (Mimir, Cortex, Thanos) [env: OBS_TENANT]' -r
complete -c obs -n "__fish_obs_using_subcommand inv" -l timeout -d 'Per-request timeout, e.g. 30s [env: OBS_TIMEOUT] [default: 30s]' -r
complete -c obs -n "__fish_obs_using_subcommand inv" -l scrape-interval -d 'The backend\'s scrape interval: the smallest step and the basis of rate windows [default: measured, else 15s]' -r
complete -c obs -n "__fish_obs_using_subcommand inv" -l exemplars -d 'Most exemplars to report' -r
complete -c obs -n "__fish_obs_using_subcommand inv" -l traces -d 'Traces to fetch and summarise (failing exemplars first, then the slowest); 0 skips traces and logs' -r
complete -c obs -n "__fish_obs_using_subcommand inv" -l tempo-url -d 'Tempo base URL [env: OBS_TEMPO_URL]' -r
complete -c obs -n "__fish_obs_using_subcommand inv" -l jaeger-url -d 'Jaeger query service base URL (the UI\'s address) [env: OBS_JAEGER_URL]' -r
complete -c obs -n "__fish_obs_using_subcommand inv" -l loki-url -d 'Loki base URL, for the logs of those traces [env: OBS_LOKI_URL, LOKI_ADDR]' -r
complete -c obs -n "__fish_obs_using_subcommand inv" -l trace-match -d 'How a trace id is found in logs [default: auto]' -r -f -a "auto\t'A trace-id stream label if Loki has one, else structured metadata, else the line'
label\t'Stream label: {trace_id="…"}'
metadata\t'Structured metadata or an extracted label: {…} | trace_id="…"'
line\t'Line filter: {…} |= "…"'"
complete -c obs -n "__fish_obs_using_subcommand inv" -l log-selector -d 'Stream selector the traces\' logs are searched under, e.g. \'{namespace="shop"}\'' -r
complete -c obs -n "__fish_obs_using_subcommand inv" -l store -d 'Read traces and logs (and, for investigate, metrics) from this obs store file instead of the remote backends; the file a running `obs sink --store PATH` writes is readable' -r -F
complete -c obs -n "__fish_obs_using_subcommand inv" -l top -d 'Ranked candidates shown in the text report (JSON has all)' -r
complete -c obs -n "__fish_obs_using_subcommand inv" -l model -d 'The model [default: gpt-4o, or model in [contexts.NAME.llm]]' -r
complete -c obs -n "__fish_obs_using_subcommand inv" -l max-input-tokens -d 'Input budget in tokens, counted with the model\'s encoding; evidence that does not fit is left out by priority and listed [default: 8000]' -r
complete -c obs -n "__fish_obs_using_subcommand inv" -l llm-timeout -d 'How long to wait for the answer to start, and between two chunks of it [default: 120s]' -r
complete -c obs -n "__fish_obs_using_subcommand inv" -l context -d 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]' -r
complete -c obs -n "__fish_obs_using_subcommand inv" -l config -d 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]' -r -F
complete -c obs -n "__fish_obs_using_subcommand inv" -s o -l output -d 'Output format' -r -f -a "text\t''
json\t''
markdown\t'A postmortem document (investigate, demo); other commands print their text form'"
complete -c obs -n "__fish_obs_using_subcommand inv" -l color -d 'When to use colour (NO_COLOR is honoured in auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c obs -n "__fish_obs_using_subcommand inv" -l full-series -d 'JSON: the values of every ranked series, not only of the top 50 rows'
complete -c obs -n "__fish_obs_using_subcommand inv" -l tui -d 'Open the report in the interactive UI instead of printing it (needs a terminal)'
complete -c obs -n "__fish_obs_using_subcommand inv" -l explain -d 'Ask an LLM (OpenAI-compatible) for a root-cause summary that cites the report\'s evidence; only the redacted report is sent'
complete -c obs -n "__fish_obs_using_subcommand inv" -l dry-run -d 'Print exactly the request that would be sent (redacted) and its token count; send nothing'
complete -c obs -n "__fish_obs_using_subcommand inv" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged'
complete -c obs -n "__fish_obs_using_subcommand inv" -s q -l quiet -d 'Only errors on stderr: no progress, no warnings'
complete -c obs -n "__fish_obs_using_subcommand inv" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c obs -n "__fish_obs_using_subcommand inv" -s V -l version -d 'Print version'
complete -c obs -n "__fish_obs_using_subcommand trace" -l depth -d 'Show spans down to this depth (the root is depth 0)' -r
complete -c obs -n "__fish_obs_using_subcommand trace" -l service -d 'Show only this service\'s spans (and the path to them)' -r
complete -c obs -n "__fish_obs_using_subcommand trace" -l tempo-url -d 'Tempo base URL [env: OBS_TEMPO_URL]' -r
complete -c obs -n "__fish_obs_using_subcommand trace" -l jaeger-url -d 'Jaeger query service base URL (the UI\'s address) [env: OBS_JAEGER_URL]' -r
complete -c obs -n "__fish_obs_using_subcommand trace" -l tenant -d 'Tenant sent as X-Scope-OrgID [env: OBS_TENANT]' -r
complete -c obs -n "__fish_obs_using_subcommand trace" -l timeout -d 'Per-request timeout, e.g. 30s [env: OBS_TIMEOUT] [default: 30s]' -r
complete -c obs -n "__fish_obs_using_subcommand trace" -l store -d 'Read traces and logs (and, for investigate, metrics) from this obs store file instead of the remote backends; the file a running `obs sink --store PATH` writes is readable' -r -F
complete -c obs -n "__fish_obs_using_subcommand trace" -l context -d 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]' -r
complete -c obs -n "__fish_obs_using_subcommand trace" -l config -d 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]' -r -F
complete -c obs -n "__fish_obs_using_subcommand trace" -s o -l output -d 'Output format' -r -f -a "text\t''
json\t''
markdown\t'A postmortem document (investigate, demo); other commands print their text form'"
complete -c obs -n "__fish_obs_using_subcommand trace" -l color -d 'When to use colour (NO_COLOR is honoured in auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c obs -n "__fish_obs_using_subcommand trace" -l errors-only -d 'Show only failing spans (and the path to them)'
complete -c obs -n "__fish_obs_using_subcommand trace" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged'
complete -c obs -n "__fish_obs_using_subcommand trace" -s q -l quiet -d 'Only errors on stderr: no progress, no warnings'
complete -c obs -n "__fish_obs_using_subcommand trace" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c obs -n "__fish_obs_using_subcommand trace" -s V -l version -d 'Print version'
complete -c obs -n "__fish_obs_using_subcommand logs" -l trace -d 'Lines of this trace' -r
complete -c obs -n "__fish_obs_using_subcommand logs" -l service -d 'Lines of this service (its stream label: service_name, service, app or job, or log_service_label)' -r
complete -c obs -n "__fish_obs_using_subcommand logs" -l grep -d 'Only lines containing this text' -r
complete -c obs -n "__fish_obs_using_subcommand logs" -l level -d 'Only lines at least this severe' -r -f -a "trace\t''
debug\t''
info\t''
warn\t''
error\t''"
complete -c obs -n "__fish_obs_using_subcommand logs" -l query -d 'A LogQL log query, passed through as it is' -r
complete -c obs -n "__fish_obs_using_subcommand logs" -l selector -d 'Stream selector to search under, e.g. \'{namespace="shop"}\' [default: all streams with a service label]' -r
complete -c obs -n "__fish_obs_using_subcommand logs" -l trace-match -d 'How a trace id is found [default: auto]' -r -f -a "auto\t'A trace-id stream label if Loki has one, else structured metadata, else the line'
label\t'Stream label: {trace_id="…"}'
metadata\t'Structured metadata or an extracted label: {…} | trace_id="…"'
line\t'Line filter: {…} |= "…"'"
complete -c obs -n "__fish_obs_using_subcommand logs" -l since -d 'Start of the window (same forms as investigate\'s --since)' -r
complete -c obs -n "__fish_obs_using_subcommand logs" -l until -d 'End of the window [default: now]' -r
complete -c obs -n "__fish_obs_using_subcommand logs" -l limit -d 'Most lines to print: the newest, or the oldest with --forward' -r
complete -c obs -n "__fish_obs_using_subcommand logs" -l loki-url -d 'Loki base URL [env: OBS_LOKI_URL, LOKI_ADDR]' -r
complete -c obs -n "__fish_obs_using_subcommand logs" -l tenant -d 'Tenant sent as X-Scope-OrgID [env: LOKI_ORG_ID, OBS_TENANT]' -r
complete -c obs -n "__fish_obs_using_subcommand logs" -l timeout -d 'Per-request timeout, e.g. 30s [env: OBS_TIMEOUT] [default: 30s]' -r
complete -c obs -n "__fish_obs_using_subcommand logs" -l store -d 'Read traces and logs (and, for investigate, metrics) from this obs store file instead of the remote backends; the file a running `obs sink --store PATH` writes is readable' -r -F
complete -c obs -n "__fish_obs_using_subcommand logs" -l context -d 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]' -r
complete -c obs -n "__fish_obs_using_subcommand logs" -l config -d 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]' -r -F
complete -c obs -n "__fish_obs_using_subcommand logs" -s o -l output -d 'Output format' -r -f -a "text\t''
json\t''
markdown\t'A postmortem document (investigate, demo); other commands print their text form'"
complete -c obs -n "__fish_obs_using_subcommand logs" -l color -d 'When to use colour (NO_COLOR is honoured in auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c obs -n "__fish_obs_using_subcommand logs" -l forward -d 'Take the oldest lines of the window instead of the newest'
complete -c obs -n "__fish_obs_using_subcommand logs" -l patterns -d 'Print the patterns of the lines fetched instead of the lines (raise --limit to group more)'
complete -c obs -n "__fish_obs_using_subcommand logs" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged'
complete -c obs -n "__fish_obs_using_subcommand logs" -s q -l quiet -d 'Only errors on stderr: no progress, no warnings'
complete -c obs -n "__fish_obs_using_subcommand logs" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c obs -n "__fish_obs_using_subcommand logs" -s V -l version -d 'Print version'
complete -c obs -n "__fish_obs_using_subcommand sink" -l grpc -d 'Where to listen for OTLP/gRPC: host:port (port 0 picks a free port), or "off"' -r
complete -c obs -n "__fish_obs_using_subcommand sink" -l http -d 'Where to listen for OTLP/HTTP: host:port (port 0 picks a free port), or "off"' -r
complete -c obs -n "__fish_obs_using_subcommand sink" -l store -d 'The store file [default: $XDG_DATA_HOME/obs/sink.db, else ~/.local/share/obs/sink.db]' -r -F
complete -c obs -n "__fish_obs_using_subcommand sink" -l max-age -d 'Delete data older than this, by its own timestamps, e.g. 7d or 12h [default: keep all]' -r
complete -c obs -n "__fish_obs_using_subcommand sink" -l max-size -d 'Keep the store\'s data under this size by deleting the oldest first, e.g. 2GiB or 500MB [default: no limit]' -r
complete -c obs -n "__fish_obs_using_subcommand sink" -l max-request-size -d 'Largest request accepted (HTTP body after decompression, gRPC message)' -r
complete -c obs -n "__fish_obs_using_subcommand sink" -l min-free -d 'Free space the store\'s file system must keep: below it the sink refuses data (503, UNAVAILABLE, Retry-After) until space returns; 0 turns the check off' -r
complete -c obs -n "__fish_obs_using_subcommand sink" -l max-connections -d 'Connections each receiver keeps open; more wait until one closes' -r
complete -c obs -n "__fish_obs_using_subcommand sink" -l header-timeout -d 'Time for an HTTP request\'s headers to arrive' -r
complete -c obs -n "__fish_obs_using_subcommand sink" -l body-timeout -d 'Time for a request\'s body (HTTP) or message (gRPC) to arrive after its headers' -r
complete -c obs -n "__fish_obs_using_subcommand sink" -l idle-timeout -d 'Close a connection on which the client sends nothing for this long' -r
complete -c obs -n "__fish_obs_using_subcommand sink" -l token -d 'Bearer token clients must send as "Authorization: Bearer <token>"; prefer the environment variable, which other users cannot see in the process list' -r
complete -c obs -n "__fish_obs_using_subcommand sink" -l context -d 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]' -r
complete -c obs -n "__fish_obs_using_subcommand sink" -l config -d 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]' -r -F
complete -c obs -n "__fish_obs_using_subcommand sink" -s o -l output -d 'Output format' -r -f -a "text\t''
json\t''
markdown\t'A postmortem document (investigate, demo); other commands print their text form'"
complete -c obs -n "__fish_obs_using_subcommand sink" -l color -d 'When to use colour (NO_COLOR is honoured in auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c obs -n "__fish_obs_using_subcommand sink" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged'
complete -c obs -n "__fish_obs_using_subcommand sink" -s q -l quiet -d 'Only errors on stderr: no progress, no warnings'
complete -c obs -n "__fish_obs_using_subcommand sink" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c obs -n "__fish_obs_using_subcommand sink" -s V -l version -d 'Print version'
complete -c obs -n "__fish_obs_using_subcommand store; and not __fish_seen_subcommand_from info export import help" -l context -d 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]' -r
complete -c obs -n "__fish_obs_using_subcommand store; and not __fish_seen_subcommand_from info export import help" -l config -d 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]' -r -F
complete -c obs -n "__fish_obs_using_subcommand store; and not __fish_seen_subcommand_from info export import help" -s o -l output -d 'Output format' -r -f -a "text\t''
json\t''
markdown\t'A postmortem document (investigate, demo); other commands print their text form'"
complete -c obs -n "__fish_obs_using_subcommand store; and not __fish_seen_subcommand_from info export import help" -l color -d 'When to use colour (NO_COLOR is honoured in auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c obs -n "__fish_obs_using_subcommand store; and not __fish_seen_subcommand_from info export import help" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged'
complete -c obs -n "__fish_obs_using_subcommand store; and not __fish_seen_subcommand_from info export import help" -s q -l quiet -d 'Only errors on stderr: no progress, no warnings'
complete -c obs -n "__fish_obs_using_subcommand store; and not __fish_seen_subcommand_from info export import help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c obs -n "__fish_obs_using_subcommand store; and not __fish_seen_subcommand_from info export import help" -s V -l version -d 'Print version'
complete -c obs -n "__fish_obs_using_subcommand store; and not __fish_seen_subcommand_from info export import help" -f -a "info" -d 'What the store holds: counts of spans, traces, logs, metric points and exemplars, the services seen, and the time range (works while a sink writes to it)'
complete -c obs -n "__fish_obs_using_subcommand store; and not __fish_seen_subcommand_from info export import help" -f -a "export" -d 'Write one signal of the store as OTLP JSON Lines (the OpenTelemetry file exporter\'s format), to stdout or a file'
complete -c obs -n "__fish_obs_using_subcommand store; and not __fish_seen_subcommand_from info export import help" -f -a "import" -d 'Read OTLP JSON Lines files (as the Collector\'s file exporter writes them, gzip too) into the store; re-importing adds nothing'
complete -c obs -n "__fish_obs_using_subcommand store; and not __fish_seen_subcommand_from info export import help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from info" -l store -d 'The store file [default: $XDG_DATA_HOME/obs/sink.db, else ~/.local/share/obs/sink.db]' -r -F
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from info" -l context -d 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]' -r
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from info" -l config -d 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]' -r -F
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from info" -s o -l output -d 'Output format' -r -f -a "text\t''
json\t''
markdown\t'A postmortem document (investigate, demo); other commands print their text form'"
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from info" -l color -d 'When to use colour (NO_COLOR is honoured in auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from info" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged'
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from info" -s q -l quiet -d 'Only errors on stderr: no progress, no warnings'
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from info" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from info" -s V -l version -d 'Print version'
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from export" -l store -d 'The store file [default: $XDG_DATA_HOME/obs/sink.db, else ~/.local/share/obs/sink.db]' -r -F
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from export" -l signal -d 'Which signal to write (one signal per file, as the file exporter specifies)' -r -f -a "traces\t''
logs\t''
metrics\t''"
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from export" -l since -d 'Only data at or after this time (same forms as investigate\'s --since) [default: all]' -r
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from export" -l until -d 'Only data at or before this time [default: all]' -r
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from export" -l out -d 'Write to this file instead of stdout; a name ending in .gz is gzip-compressed' -r -F
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from export" -l context -d 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]' -r
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from export" -l config -d 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]' -r -F
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from export" -s o -l output -d 'Output format' -r -f -a "text\t''
json\t''
markdown\t'A postmortem document (investigate, demo); other commands print their text form'"
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from export" -l color -d 'When to use colour (NO_COLOR is honoured in auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from export" -l gzip -d 'Gzip-compress the output (also to stdout)'
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from export" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged'
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from export" -s q -l quiet -d 'Only errors on stderr: no progress, no warnings'
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from export" -s V -l version -d 'Print version'
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from import" -l store -d 'The store file, created when missing [default: $XDG_DATA_HOME/obs/sink.db, else ~/.local/share/obs/sink.db]' -r -F
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from import" -l context -d 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]' -r
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from import" -l config -d 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]' -r -F
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from import" -s o -l output -d 'Output format' -r -f -a "text\t''
json\t''
markdown\t'A postmortem document (investigate, demo); other commands print their text form'"
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from import" -l color -d 'When to use colour (NO_COLOR is honoured in auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from import" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged'
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from import" -s q -l quiet -d 'Only errors on stderr: no progress, no warnings'
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from import" -s V -l version -d 'Print version'
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from help" -f -a "info" -d 'What the store holds: counts of spans, traces, logs, metric points and exemplars, the services seen, and the time range (works while a sink writes to it)'
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from help" -f -a "export" -d 'Write one signal of the store as OTLP JSON Lines (the OpenTelemetry file exporter\'s format), to stdout or a file'
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from help" -f -a "import" -d 'Read OTLP JSON Lines files (as the Collector\'s file exporter writes them, gzip too) into the store; re-importing adds nothing'
complete -c obs -n "__fish_obs_using_subcommand store; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c obs -n "__fish_obs_using_subcommand snapshot" -l since -d 'Start of the window: 14:30, 14:30:05 (local, today or yesterday), 30m, 2h, RFC 3339, unix seconds' -r
complete -c obs -n "__fish_obs_using_subcommand snapshot" -l until -d 'End of the window (same forms as --since) [default: now]' -r
complete -c obs -n "__fish_obs_using_subcommand snapshot" -l baseline -d 'Start of the baseline window, which ends at --since [default: as long as the window, just before it]' -r
complete -c obs -n "__fish_obs_using_subcommand snapshot" -l step -d 'Query resolution, e.g. 15s or 1m [default: 200–400 points over the window]' -r
complete -c obs -n "__fish_obs_using_subcommand snapshot" -l service -d 'Narrow the symptom to one service' -r
complete -c obs -n "__fish_obs_using_subcommand snapshot" -l service-label -d 'Label that holds the service name [default: the first of service, service_name, job]' -r
complete -c obs -n "__fish_obs_using_subcommand snapshot" -l symptom -d 'Which auto-detected symptom to examine: the error ratio, the p99 latency of the request-duration histogram, or both (the one that moved is the symptom) [default: auto]' -r -f -a "auto\t'The error ratio and the p99 latency; whichever moved'
errors\t'The error ratio of the requests'
latency\t'The p99 latency of the request-duration histogram'"
complete -c obs -n "__fish_obs_using_subcommand snapshot" -l symptom-query -l error-query -d 'The symptom as PromQL (any SLI: an error ratio, a latency, a success rate), repeatable: the one that moved first is the symptom, the others are said to be steady; `$__rate_interval` is replaced by the rate window [default: auto-detected]' -r
complete -c obs -n "__fish_obs_using_subcommand snapshot" -l direction -d 'Which way the symptom gets worse: up (an error ratio, a latency), down (a success rate, a throughput) or auto (whichever way it moved) [default: up]' -r -f -a "up\t'Higher is worse'
down\t'Lower is worse'
auto\t'Whichever way it moved further from its baseline'"
complete -c obs -n "__fish_obs_using_subcommand snapshot" -l latency-query -d 'Latency histogram selector to take exemplars from, e.g. \'http_request_duration_seconds_bucket{service="checkout"}\'' -r
complete -c obs -n "__fish_obs_using_subcommand snapshot" -l candidate-match -d 'Only consider candidate metrics matching this series selector, e.g. \'{namespace="shop"}\'' -r
complete -c obs -n "__fish_obs_using_subcommand snapshot" -l candidate -d 'An extra candidate as PromQL (repeatable)' -r
complete -c obs -n "__fish_obs_using_subcommand snapshot" -l max-candidates -d 'Most metric names fetched in full and ranked; with more names, a first pass scores every one and the most changed are fetched [default: 500]' -r
complete -c obs -n "__fish_obs_using_subcommand snapshot" -l concurrency -d 'Queries in flight at once [default: 16]' -r
complete -c obs -n "__fish_obs_using_subcommand snapshot" -l prometheus-url -d 'Prometheus-compatible base URL [env: OBS_PROMETHEUS_URL]' -r
complete -c obs -n "__fish_obs_using_subcommand snapshot" -l tenant -d 'Tenant sent as X-Scope-OrgID (Mimir, Cortex, Thanos) [env: OBS_TENANT]' -r
complete -c obs -n "__fish_obs_using_subcommand snapshot" -l timeout -d 'Per-request timeout, e.g. 30s [env: OBS_TIMEOUT] [default: 30s]' -r
complete -c obs -n "__fish_obs_using_subcommand snapshot" -l scrape-interval -d 'The backend\'s scrape interval: the smallest step and the basis of rate windows [default: measured, else 15s]' -r
complete -c obs -n "__fish_obs_using_subcommand snapshot" -l exemplars -d 'Most exemplars to report' -r
complete -c obs -n "__fish_obs_using_subcommand snapshot" -l traces -d 'Traces to fetch and summarise (failing exemplars first, then the slowest); 0 skips traces and logs' -r
complete -c obs -n "__fish_obs_using_subcommand snapshot" -l tempo-url -d 'Tempo base URL [env: OBS_TEMPO_URL]' -r
complete -c obs -n "__fish_obs_using_subcommand snapshot" -l jaeger-url -d 'Jaeger query service base URL (the UI\'s address) [env: OBS_JAEGER_URL]' -r
complete -c obs -n "__fish_obs_using_subcommand snapshot" -l loki-url -d 'Loki base URL, for the logs of those traces [env: OBS_LOKI_URL, LOKI_ADDR]' -r
complete -c obs -n "__fish_obs_using_subcommand snapshot" -l trace-match -d 'How a trace id is found in logs [default: auto]' -r -f -a "auto\t'A trace-id stream label if Loki has one, else structured metadata, else the line'
label\t'Stream label: {trace_id="…"}'
metadata\t'Structured metadata or an extracted label: {…} | trace_id="…"'
line\t'Line filter: {…} |= "…"'"
complete -c obs -n "__fish_obs_using_subcommand snapshot" -l log-selector -d 'Stream selector the traces\' logs are searched under, e.g. \'{namespace="shop"}\'' -r
complete -c obs -n "__fish_obs_using_subcommand snapshot" -l context -d 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]' -r
complete -c obs -n "__fish_obs_using_subcommand snapshot" -l config -d 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]' -r -F
complete -c obs -n "__fish_obs_using_subcommand snapshot" -s o -l output -d 'Output format' -r -f -a "text\t''
json\t''
markdown\t'A postmortem document (investigate, demo); other commands print their text form'"
complete -c obs -n "__fish_obs_using_subcommand snapshot" -l color -d 'When to use colour (NO_COLOR is honoured in auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c obs -n "__fish_obs_using_subcommand snapshot" -l force -d 'Replace FILE if it already exists'
complete -c obs -n "__fish_obs_using_subcommand snapshot" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged'
complete -c obs -n "__fish_obs_using_subcommand snapshot" -s q -l quiet -d 'Only errors on stderr: no progress, no warnings'
complete -c obs -n "__fish_obs_using_subcommand snapshot" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c obs -n "__fish_obs_using_subcommand snapshot" -s V -l version -d 'Print version'
complete -c obs -n "__fish_obs_using_subcommand replay" -l store -d 'The store to replay [default: $XDG_DATA_HOME/obs/sink.db, else ~/.local/share/obs/sink.db]' -r -F
complete -c obs -n "__fish_obs_using_subcommand replay" -l to -d 'The OTLP endpoint: for OTLP/HTTP the base URL (`/v1/traces` etc. are appended), e.g. http://localhost:4318; with --grpc, e.g. http://localhost:4317' -r
complete -c obs -n "__fish_obs_using_subcommand replay" -l shift -d 'Move every timestamp: `now` puts the store\'s newest timestamp at the current time; a duration (1h, 30m) moves everything that much later [default: no shift]' -r
complete -c obs -n "__fish_obs_using_subcommand replay" -l rate -d 'Send at most this many items (spans, log records, data points) per second [default: no limit]' -r
complete -c obs -n "__fish_obs_using_subcommand replay" -l batch -d 'Items per request' -r
complete -c obs -n "__fish_obs_using_subcommand replay" -l signals -d 'Only these signals [default: traces, logs and metrics]' -r -f -a "traces\t''
logs\t''
metrics\t''"
complete -c obs -n "__fish_obs_using_subcommand replay" -l state -d 'Where progress is kept so that a restarted replay resumes [default: the store path + `.replay.json`]' -r -F
complete -c obs -n "__fish_obs_using_subcommand replay" -l header -d 'Extra header on every request, `Name: value` (repeatable), e.g. an auth token or X-Scope-OrgID' -r
complete -c obs -n "__fish_obs_using_subcommand replay" -l timeout -d 'Per-request timeout' -r
complete -c obs -n "__fish_obs_using_subcommand replay" -l context -d 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]' -r
complete -c obs -n "__fish_obs_using_subcommand replay" -l config -d 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]' -r -F
complete -c obs -n "__fish_obs_using_subcommand replay" -s o -l output -d 'Output format' -r -f -a "text\t''
json\t''
markdown\t'A postmortem document (investigate, demo); other commands print their text form'"
complete -c obs -n "__fish_obs_using_subcommand replay" -l color -d 'When to use colour (NO_COLOR is honoured in auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c obs -n "__fish_obs_using_subcommand replay" -l grpc -d 'Send OTLP/gRPC instead of OTLP/HTTP protobuf'
complete -c obs -n "__fish_obs_using_subcommand replay" -l restart -d 'Start over: ignore (and replace) the progress recorded for this target'
complete -c obs -n "__fish_obs_using_subcommand replay" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged'
complete -c obs -n "__fish_obs_using_subcommand replay" -s q -l quiet -d 'Only errors on stderr: no progress, no warnings'
complete -c obs -n "__fish_obs_using_subcommand replay" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c obs -n "__fish_obs_using_subcommand replay" -s V -l version -d 'Print version'
complete -c obs -n "__fish_obs_using_subcommand config" -l context -d 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]' -r
complete -c obs -n "__fish_obs_using_subcommand config" -l config -d 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]' -r -F
complete -c obs -n "__fish_obs_using_subcommand config" -s o -l output -d 'Output format' -r -f -a "text\t''
json\t''
markdown\t'A postmortem document (investigate, demo); other commands print their text form'"
complete -c obs -n "__fish_obs_using_subcommand config" -l color -d 'When to use colour (NO_COLOR is honoured in auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c obs -n "__fish_obs_using_subcommand config" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged'
complete -c obs -n "__fish_obs_using_subcommand config" -s q -l quiet -d 'Only errors on stderr: no progress, no warnings'
complete -c obs -n "__fish_obs_using_subcommand config" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c obs -n "__fish_obs_using_subcommand config" -s V -l version -d 'Print version'
complete -c obs -n "__fish_obs_using_subcommand doctor" -l prometheus-url -d 'Prometheus-compatible base URL [env: OBS_PROMETHEUS_URL]' -r
complete -c obs -n "__fish_obs_using_subcommand doctor" -l tempo-url -d 'Tempo base URL [env: OBS_TEMPO_URL]' -r
complete -c obs -n "__fish_obs_using_subcommand doctor" -l jaeger-url -d 'Jaeger query service base URL (the UI\'s address) [env: OBS_JAEGER_URL]' -r
complete -c obs -n "__fish_obs_using_subcommand doctor" -l loki-url -d 'Loki base URL [env: OBS_LOKI_URL, LOKI_ADDR]' -r
complete -c obs -n "__fish_obs_using_subcommand doctor" -l tenant -d 'Tenant sent as X-Scope-OrgID [env: OBS_TENANT]' -r
complete -c obs -n "__fish_obs_using_subcommand doctor" -l timeout -d 'How long each probe may take, e.g. 10s [default: the context\'s timeout, at most 5s]' -r
complete -c obs -n "__fish_obs_using_subcommand doctor" -l context -d 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]' -r
complete -c obs -n "__fish_obs_using_subcommand doctor" -l config -d 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]' -r -F
complete -c obs -n "__fish_obs_using_subcommand doctor" -s o -l output -d 'Output format' -r -f -a "text\t''
json\t''
markdown\t'A postmortem document (investigate, demo); other commands print their text form'"
complete -c obs -n "__fish_obs_using_subcommand doctor" -l color -d 'When to use colour (NO_COLOR is honoured in auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c obs -n "__fish_obs_using_subcommand doctor" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged'
complete -c obs -n "__fish_obs_using_subcommand doctor" -s q -l quiet -d 'Only errors on stderr: no progress, no warnings'
complete -c obs -n "__fish_obs_using_subcommand doctor" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c obs -n "__fish_obs_using_subcommand doctor" -s V -l version -d 'Print version'
complete -c obs -n "__fish_obs_using_subcommand demo" -l keep -d 'Keep the demo\'s store at this path (a new file) for `obs investigate --store PATH`, `obs trace --store PATH` and `obs logs --store PATH`' -r -F
complete -c obs -n "__fish_obs_using_subcommand demo" -l model -d 'The model [default: gpt-4o, or model in [contexts.NAME.llm]]' -r
complete -c obs -n "__fish_obs_using_subcommand demo" -l max-input-tokens -d 'Input budget in tokens, counted with the model\'s encoding; evidence that does not fit is left out by priority and listed [default: 8000]' -r
complete -c obs -n "__fish_obs_using_subcommand demo" -l llm-timeout -d 'How long to wait for the answer to start, and between two chunks of it [default: 120s]' -r
complete -c obs -n "__fish_obs_using_subcommand demo" -l context -d 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]' -r
complete -c obs -n "__fish_obs_using_subcommand demo" -l config -d 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]' -r -F
complete -c obs -n "__fish_obs_using_subcommand demo" -s o -l output -d 'Output format' -r -f -a "text\t''
json\t''
markdown\t'A postmortem document (investigate, demo); other commands print their text form'"
complete -c obs -n "__fish_obs_using_subcommand demo" -l color -d 'When to use colour (NO_COLOR is honoured in auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c obs -n "__fish_obs_using_subcommand demo" -l explain -d 'Also ask an LLM for a root-cause summary of the demo\'s report (see `obs explain`)'
complete -c obs -n "__fish_obs_using_subcommand demo" -l dry-run -d 'Print exactly the request that would be sent (redacted) and its token count; send nothing'
complete -c obs -n "__fish_obs_using_subcommand demo" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged'
complete -c obs -n "__fish_obs_using_subcommand demo" -s q -l quiet -d 'Only errors on stderr: no progress, no warnings'
complete -c obs -n "__fish_obs_using_subcommand demo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c obs -n "__fish_obs_using_subcommand demo" -s V -l version -d 'Print version'
complete -c obs -n "__fish_obs_using_subcommand query" -l store -d 'Evaluate over this obs store file (offline PromQL) instead of Prometheus' -r -F
complete -c obs -n "__fish_obs_using_subcommand query" -l prometheus-url -d 'Prometheus-compatible base URL [env: OBS_PROMETHEUS_URL]' -r
complete -c obs -n "__fish_obs_using_subcommand query" -l tenant -d 'Tenant sent as X-Scope-OrgID (Mimir, Cortex, Thanos) [env: OBS_TENANT]' -r
complete -c obs -n "__fish_obs_using_subcommand query" -l time -d 'Evaluate at this instant (same forms as --since) [default: now]' -r
complete -c obs -n "__fish_obs_using_subcommand query" -l since -d 'Make it a range query from this time: 14:30, 30m, 2h, RFC 3339, unix seconds' -r
complete -c obs -n "__fish_obs_using_subcommand query" -l until -d 'End of the range (same forms as --since) [default: now]' -r
complete -c obs -n "__fish_obs_using_subcommand query" -l step -d 'Resolution of the range, e.g. 15s or 1m [default: 200–400 points over the range]' -r
complete -c obs -n "__fish_obs_using_subcommand query" -l context -d 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]' -r
complete -c obs -n "__fish_obs_using_subcommand query" -l config -d 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]' -r -F
complete -c obs -n "__fish_obs_using_subcommand query" -s o -l output -d 'Output format' -r -f -a "text\t''
json\t''
markdown\t'A postmortem document (investigate, demo); other commands print their text form'"
complete -c obs -n "__fish_obs_using_subcommand query" -l color -d 'When to use colour (NO_COLOR is honoured in auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c obs -n "__fish_obs_using_subcommand query" -l pretty -d 'With -o json, indent the JSON (it is compact unless stdout is a terminal)'
complete -c obs -n "__fish_obs_using_subcommand query" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged'
complete -c obs -n "__fish_obs_using_subcommand query" -s q -l quiet -d 'Only errors on stderr: no progress, no warnings'
complete -c obs -n "__fish_obs_using_subcommand query" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c obs -n "__fish_obs_using_subcommand query" -s V -l version -d 'Print version'
complete -c obs -n "__fish_obs_using_subcommand tui" -l store -d 'An obs store file: with a report, where its traces and logs are read; alone, its newest traces, refreshed while a sink writes to it' -r -F
complete -c obs -n "__fish_obs_using_subcommand tui" -l tempo-url -d 'Tempo base URL [env: OBS_TEMPO_URL]' -r
complete -c obs -n "__fish_obs_using_subcommand tui" -l jaeger-url -d 'Jaeger query service base URL (the UI\'s address) [env: OBS_JAEGER_URL]' -r
complete -c obs -n "__fish_obs_using_subcommand tui" -l loki-url -d 'Loki base URL [env: OBS_LOKI_URL, LOKI_ADDR]' -r
complete -c obs -n "__fish_obs_using_subcommand tui" -l tenant -d 'Tenant sent as X-Scope-OrgID [env: OBS_TENANT]' -r
complete -c obs -n "__fish_obs_using_subcommand tui" -l timeout -d 'Per-request timeout, e.g. 30s [env: OBS_TIMEOUT] [default: 30s]' -r
complete -c obs -n "__fish_obs_using_subcommand tui" -l context -d 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]' -r
complete -c obs -n "__fish_obs_using_subcommand tui" -l config -d 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]' -r -F
complete -c obs -n "__fish_obs_using_subcommand tui" -s o -l output -d 'Output format' -r -f -a "text\t''
json\t''
markdown\t'A postmortem document (investigate, demo); other commands print their text form'"
complete -c obs -n "__fish_obs_using_subcommand tui" -l color -d 'When to use colour (NO_COLOR is honoured in auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c obs -n "__fish_obs_using_subcommand tui" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged'
complete -c obs -n "__fish_obs_using_subcommand tui" -s q -l quiet -d 'Only errors on stderr: no progress, no warnings'
complete -c obs -n "__fish_obs_using_subcommand tui" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c obs -n "__fish_obs_using_subcommand tui" -s V -l version -d 'Print version'
complete -c obs -n "__fish_obs_using_subcommand patterns" -l max-patterns -d 'Most distinct patterns kept; lines of further shapes are counted, not grouped' -r
complete -c obs -n "__fish_obs_using_subcommand patterns" -l context -d 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]' -r
complete -c obs -n "__fish_obs_using_subcommand patterns" -l config -d 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]' -r -F
complete -c obs -n "__fish_obs_using_subcommand patterns" -s o -l output -d 'Output format' -r -f -a "text\t''
json\t''
markdown\t'A postmortem document (investigate, demo); other commands print their text form'"
complete -c obs -n "__fish_obs_using_subcommand patterns" -l color -d 'When to use colour (NO_COLOR is honoured in auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c obs -n "__fish_obs_using_subcommand patterns" -l per-line -d 'Print, for each input line in order, {"line": N, "pattern": ID, "template": T} (JSON lines)'
complete -c obs -n "__fish_obs_using_subcommand patterns" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged'
complete -c obs -n "__fish_obs_using_subcommand patterns" -s q -l quiet -d 'Only errors on stderr: no progress, no warnings'
complete -c obs -n "__fish_obs_using_subcommand patterns" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c obs -n "__fish_obs_using_subcommand patterns" -s V -l version -d 'Print version'
complete -c obs -n "__fish_obs_using_subcommand explain" -l model -d 'The model [default: gpt-4o, or model in [contexts.NAME.llm]]' -r
complete -c obs -n "__fish_obs_using_subcommand explain" -l max-input-tokens -d 'Input budget in tokens, counted with the model\'s encoding; evidence that does not fit is left out by priority and listed [default: 8000]' -r
complete -c obs -n "__fish_obs_using_subcommand explain" -l llm-timeout -d 'How long to wait for the answer to start, and between two chunks of it [default: 120s]' -r
complete -c obs -n "__fish_obs_using_subcommand explain" -l context -d 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]' -r
complete -c obs -n "__fish_obs_using_subcommand explain" -l config -d 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]' -r -F
complete -c obs -n "__fish_obs_using_subcommand explain" -s o -l output -d 'Output format' -r -f -a "text\t''
json\t''
markdown\t'A postmortem document (investigate, demo); other commands print their text form'"
complete -c obs -n "__fish_obs_using_subcommand explain" -l color -d 'When to use colour (NO_COLOR is honoured in auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c obs -n "__fish_obs_using_subcommand explain" -l dry-run -d 'Print exactly the request that would be sent (redacted) and its token count; send nothing'
complete -c obs -n "__fish_obs_using_subcommand explain" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged'
complete -c obs -n "__fish_obs_using_subcommand explain" -s q -l quiet -d 'Only errors on stderr: no progress, no warnings'
complete -c obs -n "__fish_obs_using_subcommand explain" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c obs -n "__fish_obs_using_subcommand explain" -s V -l version -d 'Print version'
complete -c obs -n "__fish_obs_using_subcommand completions" -l context -d 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]' -r
complete -c obs -n "__fish_obs_using_subcommand completions" -l config -d 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]' -r -F
complete -c obs -n "__fish_obs_using_subcommand completions" -s o -l output -d 'Output format' -r -f -a "text\t''
json\t''
markdown\t'A postmortem document (investigate, demo); other commands print their text form'"
complete -c obs -n "__fish_obs_using_subcommand completions" -l color -d 'When to use colour (NO_COLOR is honoured in auto)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c obs -n "__fish_obs_using_subcommand completions" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged'
complete -c obs -n "__fish_obs_using_subcommand completions" -s q -l quiet -d 'Only errors on stderr: no progress, no warnings'
complete -c obs -n "__fish_obs_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c obs -n "__fish_obs_using_subcommand completions" -s V -l version -d 'Print version'
complete -c obs -n "__fish_obs_using_subcommand help; and not __fish_seen_subcommand_from investigate trace logs sink store snapshot replay config doctor demo query tui patterns explain completions help" -f -a "investigate" -d 'Find the error spike and rank the metrics that moved with it, and before it'
complete -c obs -n "__fish_obs_using_subcommand help; and not __fish_seen_subcommand_from investigate trace logs sink store snapshot replay config doctor demo query tui patterns explain completions help" -f -a "trace" -d 'Show one trace as a waterfall, with its critical path and errors (Tempo or Jaeger)'
complete -c obs -n "__fish_obs_using_subcommand help; and not __fish_seen_subcommand_from investigate trace logs sink store snapshot replay config doctor demo query tui patterns explain completions help" -f -a "logs" -d 'Print log lines from Loki: of a trace, of a service, or for a LogQL query'
complete -c obs -n "__fish_obs_using_subcommand help; and not __fish_seen_subcommand_from investigate trace logs sink store snapshot replay config doctor demo query tui patterns explain completions help" -f -a "sink" -d 'Receive OTLP traces, logs and metrics (gRPC and HTTP) into the embedded store until stopped'
complete -c obs -n "__fish_obs_using_subcommand help; and not __fish_seen_subcommand_from investigate trace logs sink store snapshot replay config doctor demo query tui patterns explain completions help" -f -a "store" -d 'Inspect the embedded store'
complete -c obs -n "__fish_obs_using_subcommand help; and not __fish_seen_subcommand_from investigate trace logs sink store snapshot replay config doctor demo query tui patterns explain completions help" -f -a "snapshot" -d 'Run an investigation against the remote backends and capture everything it used into one new store file'
complete -c obs -n "__fish_obs_using_subcommand help; and not __fish_seen_subcommand_from investigate trace logs sink store snapshot replay config doctor demo query tui patterns explain completions help" -f -a "replay" -d 'Re-send a store\'s traces, logs and metrics to an OTLP endpoint (Collector, Tempo, Loki, Prometheus, another obs sink); resumable'
complete -c obs -n "__fish_obs_using_subcommand help; and not __fish_seen_subcommand_from investigate trace logs sink store snapshot replay config doctor demo query tui patterns explain completions help" -f -a "config" -d 'Print the resolved configuration (secrets masked) and where each value came from'
complete -c obs -n "__fish_obs_using_subcommand help; and not __fish_seen_subcommand_from investigate trace logs sink store snapshot replay config doctor demo query tui patterns explain completions help" -f -a "doctor" -d 'Probe every backend of the context: reachable, version, auth, and what investigate needs'
complete -c obs -n "__fish_obs_using_subcommand help; and not __fish_seen_subcommand_from investigate trace logs sink store snapshot replay config doctor demo query tui patterns explain completions help" -f -a "demo" -d 'Run a simulated shop with an injected fault into a temporary store and investigate it'
complete -c obs -n "__fish_obs_using_subcommand help; and not __fish_seen_subcommand_from investigate trace logs sink store snapshot replay config doctor demo query tui patterns explain completions help" -f -a "query" -d 'Evaluate PromQL against Prometheus or, offline, against an obs store file'
complete -c obs -n "__fish_obs_using_subcommand help; and not __fish_seen_subcommand_from investigate trace logs sink store snapshot replay config doctor demo query tui patterns explain completions help" -f -a "tui" -d 'Explore a saved report (`investigate -o json`) or a store\'s traces in the interactive UI'
complete -c obs -n "__fish_obs_using_subcommand help; and not __fish_seen_subcommand_from investigate trace logs sink store snapshot replay config doctor demo query tui patterns explain completions help" -f -a "patterns" -d 'Group log lines (one message per line) into patterns with the variable parts masked'
complete -c obs -n "__fish_obs_using_subcommand help; and not __fish_seen_subcommand_from investigate trace logs sink store snapshot replay config doctor demo query tui patterns explain completions help" -f -a "explain" -d 'Ask an LLM for a root-cause summary of a saved report (-o json) that cites its evidence'
complete -c obs -n "__fish_obs_using_subcommand help; and not __fish_seen_subcommand_from investigate trace logs sink store snapshot replay config doctor demo query tui patterns explain completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c obs -n "__fish_obs_using_subcommand help; and not __fish_seen_subcommand_from investigate trace logs sink store snapshot replay config doctor demo query tui patterns explain completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c obs -n "__fish_obs_using_subcommand help; and __fish_seen_subcommand_from store" -f -a "info" -d 'What the store holds: counts of spans, traces, logs, metric points and exemplars, the services seen, and the time range (works while a sink writes to it)'
complete -c obs -n "__fish_obs_using_subcommand help; and __fish_seen_subcommand_from store" -f -a "export" -d 'Write one signal of the store as OTLP JSON Lines (the OpenTelemetry file exporter\'s format), to stdout or a file'
complete -c obs -n "__fish_obs_using_subcommand help; and __fish_seen_subcommand_from store" -f -a "import" -d 'Read OTLP JSON Lines files (as the Collector\'s file exporter writes them, gzip too) into the store; re-importing adds nothing'
