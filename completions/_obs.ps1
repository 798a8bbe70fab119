
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'obs' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'obs'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'obs' {
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured in auto)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('investigate', 'investigate', [CompletionResultType]::ParameterValue, 'Find the error spike and rank the metrics that moved with it, and before it')
            [CompletionResult]::new('inv', 'inv', [CompletionResultType]::ParameterValue, 'Find the error spike and rank the metrics that moved with it, and before it')
            [CompletionResult]::new('trace', 'trace', [CompletionResultType]::ParameterValue, 'Show one trace as a waterfall, with its critical path and errors (Tempo or Jaeger)')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Print log lines from Loki: of a trace, of a service, or for a LogQL query')
            [CompletionResult]::new('sink', 'sink', [CompletionResultType]::ParameterValue, 'Receive OTLP traces, logs and metrics (gRPC and HTTP) into the embedded store until stopped')
            [CompletionResult]::new('store', 'store', [CompletionResultType]::ParameterValue, 'Inspect the embedded store')
            [CompletionResult]::new('snapshot', 'snapshot', [CompletionResultType]::ParameterValue, 'Run an investigation against the remote backends and capture everything it used into one new store file')
            [CompletionResult]::new('replay', 'replay', [CompletionResultType]::ParameterValue, 'Re-send a store''s traces, logs and metrics to an OTLP endpoint (Collector, Tempo, Loki, Prometheus, another obs sink); resumable')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Print the resolved configuration (secrets masked) and where each value came from')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Probe every backend of the context: reachable, version, auth, and what investigate needs')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Run a simulated shop with an injected fault into a temporary store and investigate it')
            [CompletionResult]::new('query', 'query', [CompletionResultType]::ParameterValue, 'Evaluate PromQL against Prometheus or, offline, against an obs store file')
            [CompletionResult]::new('tui', 'tui', [CompletionResultType]::ParameterValue, 'Explore a saved report (`investigate -o json`) or a store''s traces in the interactive UI')
            [CompletionResult]::new('patterns', 'patterns', [CompletionResultType]::ParameterValue, 'Group log lines (one message per line) into patterns with the variable parts masked')
            [CompletionResult]::new('explain', 'explain', [CompletionResultType]::ParameterValue, 'Ask an LLM for a root-cause summary of a saved report (-o json) that cites its evidence')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'obs;investigate' {
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Start of the window: 14:30, 14:30:05 (local, today or yesterday), 30m, 2h, RFC 3339, unix seconds')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'End of the window (same forms as --since) [default: now]')
            [CompletionResult]::new('--baseline', '--baseline', [CompletionResultType]::ParameterName, 'Start of the baseline window, which ends at --since [default: as long as the window, just before it]')
            [CompletionResult]::new('--step', '--step', [CompletionResultType]::ParameterName, 'Query resolution, e.g. 15s or 1m [default: 200–400 points over the window]')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Narrow the symptom to one service')
            [CompletionResult]::new('--service-label', '--service-label', [CompletionResultType]::ParameterName, 'Label that holds the service name [default: the first of service, service_name, job]')
            [CompletionResult]::new('--symptom', '--symptom', [CompletionResultType]::ParameterName, 'Which auto-detected symptom to examine: the error ratio, the p99 latency of the request-duration histogram, or both (the one that moved is the symptom) [default: auto]')
            [CompletionResult]::new('--symptom-query', '--symptom-query', [CompletionResultType]::ParameterName, 'The symptom as PromQL (any SLI: an error ratio, a latency, a success rate), repeatable: the one that moved first is the symptom, the others are said to be steady; `$__rate_interval` is replaced by the rate window [default: auto-detected]')
            [CompletionResult]::new('--error-query', '--error-query', [CompletionResultType]::ParameterName, 'The symptom as PromQL (any SLI: an error ratio, a latency, a success rate), repeatable: the one that moved first is the symptom, the others are said to be steady; `$__rate_interval` is replaced by the rate window [default: auto-detected]')
            [CompletionResult]::new('--direction', '--direction', [CompletionResultType]::ParameterName, 'Which way the symptom gets worse: up (an error ratio, a latency), down (a success rate, a throughput) or auto (whichever way it moved) [default: up]')
            [CompletionResult]::new('--latency-query', '--latency-query', [CompletionResultType]::ParameterName, 'Latency histogram selector to take exemplars from, e.g. ''http_request_duration_seconds_bucket{service="checkout"}''')
            [CompletionResult]::new('--candidate-match', '--candidate-match', [CompletionResultType]::ParameterName, 'Only consider candidate metrics matching this series selector, e.g. ''{namespace="shop"}''')
            [CompletionResult]::new('--candidate', '--candidate', [CompletionResultType]::ParameterName, 'An extra candidate as PromQL (repeatable)')
            [CompletionResult]::new('--max-candidates', '--max-candidates', [CompletionResultType]::ParameterName, 'Most metric names fetched in full and ranked; with more names, a first pass scores every one and the most changed are fetched [default: 500]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Queries in flight at once [default: 16]')
            [CompletionResult]::new('--prometheus-url', '--prometheus-url', [CompletionResultType]::ParameterName, 'Prometheus-compatible base URL [env: OBS_PROMETHEUS_URL]')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant sent as X-Scope-OrgID (Mimir, Cortex, Thanos) [env: OBS_TENANT]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Per-request timeout, e.g. 30s [env: OBS_TIMEOUT] [default: 30s]')
            [CompletionResult]::new('--scrape-interval', '--scrape-interval', [CompletionResultType]::ParameterName, 'The backend''s scrape interval: the smallest step and the basis of rate windows [default: measured, else 15s]')
            [CompletionResult]::new('--exemplars', '--exemplars', [CompletionResultType]::ParameterName, 'Most exemplars to report')
            [CompletionResult]::new('--traces', '--traces', [CompletionResultType]::ParameterName, 'Traces to fetch and summarise (failing exemplars first, then the slowest); 0 skips traces and logs')
            [CompletionResult]::new('--tempo-url', '--tempo-url', [CompletionResultType]::ParameterName, 'Tempo base URL [env: OBS_TEMPO_URL]')
            [CompletionResult]::new('--jaeger-url', '--jaeger-url', [CompletionResultType]::ParameterName, 'Jaeger query service base URL (the UI''s address) [env: OBS_JAEGER_URL]')
            [CompletionResult]::new('--loki-url', '--loki-url', [CompletionResultType]::ParameterName, 'Loki base URL, for the logs of those traces [env: OBS_LOKI_URL, LOKI_ADDR]')
            [CompletionResult]::new('--trace-match', '--trace-match', [CompletionResultType]::ParameterName, 'How a trace id is found in logs [default: auto]')
            [CompletionResult]::new('--log-selector', '--log-selector', [CompletionResultType]::ParameterName, 'Stream selector the traces'' logs are searched under, e.g. ''{namespace="shop"}''')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Read traces and logs (and, for investigate, metrics) from this obs store file instead of the remote backends; the file a running `obs sink --store PATH` writes is readable')
            [CompletionResult]::new('--top', '--top', [CompletionResultType]::ParameterName, 'Ranked candidates shown in the text report (JSON has all)')
            [CompletionResult]::new('--model', '--model', [CompletionResultType]::ParameterName, 'The model [default: gpt-4o, or model in [contexts.NAME.llm]]')
            [CompletionResult]::new('--max-input-tokens', '--max-input-tokens', [CompletionResultType]::ParameterName, 'Input budget in tokens, counted with the model''s encoding; evidence that does not fit is left out by priority and listed [default: 8000]')
            [CompletionResult]::new('--llm-timeout', '--llm-timeout', [CompletionResultType]::ParameterName, 'How long to wait for the answer to start, and between two chunks of it [default: 120s]')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured in auto)')
            [CompletionResult]::new('--full-series', '--full-series', [CompletionResultType]::ParameterName, 'JSON: the values of every ranked series, not only of the top 50 rows')
            [CompletionResult]::new('--tui', '--tui', [CompletionResultType]::ParameterName, 'Open the report in the interactive UI instead of printing it (needs a terminal)')
            [CompletionResult]::new('--explain', '--explain', [CompletionResultType]::ParameterName, 'Ask an LLM (OpenAI-compatible) for a root-cause summary that cites the report''s evidence; only the redacted report is sent')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print exactly the request that would be sent (redacted) and its token count; send nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'obs;inv' {
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Start of the window: 14:30, 14:30:05 (local, today or yesterday), 30m, 2h, RFC 3339, unix seconds')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'End of the window (same forms as --since) [default: now]')
            [CompletionResult]::new('--baseline', '--baseline', [CompletionResultType]::ParameterName, 'Start of the baseline window, which ends at --since [default: as long as the window, just before it]')
            [CompletionResult]::new('--step', '--step', [CompletionResultType]::ParameterName, 'Query resolution, e.g. 15s or 1m [default: 200–400 points over the window]')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Narrow the symptom to one service')
            [CompletionResult]::new('--service-label', '--service-label', [CompletionResultType]::ParameterName, 'Label that holds the service name [default: the first of service, service_name, job]')
            [CompletionResult]::new('--symptom', '--symptom', [CompletionResultType]::ParameterName, 'Which auto-detected symptom to examine: the error ratio, the p99 latency of the request-duration histogram, or both (the one that moved is the symptom) [default: auto]')
            [CompletionResult]::new('--symptom-query', '--symptom-query', [CompletionResultType]::ParameterName, 'The symptom as PromQL (any SLI: an error ratio, a latency, a success rate), repeatable: the one that moved first is the symptom, the others are said to be steady; `$__rate_interval` is replaced by the rate window [default: auto-detected]')
            [CompletionResult]::new('--error-query', '--error-query', [CompletionResultType]::ParameterName, 'The symptom as PromQL (any SLI: an error ratio, a latency, a success rate), repeatable: the one that moved first is the symptom, the others are said to be steady; `$__rate_interval` is replaced by the rate window [default: auto-detected]')
            [CompletionResult]::new('--direction', '--direction', [CompletionResultType]::ParameterName, 'Which way the symptom gets worse: up (an error ratio, a latency), down (a success rate, a throughput) or auto (whichever way it moved) [default: up]')
            [CompletionResult]::new('--latency-query', '--latency-query', [CompletionResultType]::ParameterName, 'Latency histogram selector to take exemplars from, e.g. ''http_request_duration_seconds_bucket{service="checkout"}''')
            [CompletionResult]::new('--candidate-match', '--candidate-match', [CompletionResultType]::ParameterName, 'Only consider candidate metrics matching this series selector, e.g. ''{namespace="shop"}''')
            [CompletionResult]::new('--candidate', '--candidate', [CompletionResultType]::ParameterName, 'An extra candidate as PromQL (repeatable)')
            [CompletionResult]::new('--max-candidates', '--max-candidates', [CompletionResultType]::ParameterName, 'Most metric names fetched in full and ranked; with more names, a first pass scores every one and the most changed are fetched [default: 500]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Queries in flight at once [default: 16]')
            [CompletionResult]::new('--prometheus-url', '--prometheus-url', [CompletionResultType]::ParameterName, 'Prometheus-compatible base URL [env: OBS_PROMETHEUS_URL]')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant sent as X-Scope-OrgID (Mimir, Cortex, Thanos) [env: OBS_TENANT]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Per-request timeout, e.g. 30s [env: OBS_TIMEOUT] [default: 30s]')
            [CompletionResult]::new('--scrape-interval', '--scrape-interval', [CompletionResultType]::ParameterName, 'The backend''s scrape interval: the smallest step and the basis of rate windows [default: measured, else 15s]')
            [CompletionResult]::new('--exemplars', '--exemplars', [CompletionResultType]::ParameterName, 'Most exemplars to report')
            [CompletionResult]::new('--traces', '--traces', [CompletionResultType]::ParameterName, 'Traces to fetch and summarise (failing exemplars first, then the slowest); 0 skips traces and logs')
            [CompletionResult]::new('--tempo-url', '--tempo-url', [CompletionResultType]::ParameterName, 'Tempo base URL [env: OBS_TEMPO_URL]')
            [CompletionResult]::new('--jaeger-url', '--jaeger-url', [CompletionResultType]::ParameterName, 'Jaeger query service base URL (the UI''s address) [env: OBS_JAEGER_URL]')
            [CompletionResult]::new('--loki-url', '--loki-url', [CompletionResultType]::ParameterName, 'Loki base URL, for the logs of those traces [env: OBS_LOKI_URL, LOKI_ADDR]')
            [CompletionResult]::new('--trace-match', '--trace-match', [CompletionResultType]::ParameterName, 'How a trace id is found in logs [default: auto]')
            [CompletionResult]::new('--log-selector', '--log-selector', [CompletionResultType]::ParameterName, 'Stream selector the traces'' logs are searched under, e.g. ''{namespace="shop"}''')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Read traces and logs (and, for investigate, metrics) from this obs store file instead of the remote backends; the file a running `obs sink --store PATH` writes is readable')
            [CompletionResult]::new('--top', '--top', [CompletionResultType]::ParameterName, 'Ranked candidates shown in the text report (JSON has all)')
            [CompletionResult]::new('--model', '--model', [CompletionResultType]::ParameterName, 'The model [default: gpt-4o, or model in [contexts.NAME.llm]]')
            [CompletionResult]::new('--max-input-tokens', '--max-input-tokens', [CompletionResultType]::ParameterName, 'Input budget in tokens, counted with the model''s encoding; evidence that does not fit is left out by priority and listed [default: 8000]')
            [CompletionResult]::new('--llm-timeout', '--llm-timeout', [CompletionResultType]::ParameterName, 'How long to wait for the answer to start, and between two chunks of it [default: 120s]')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured in auto)')
            [CompletionResult]::new('--full-series', '--full-series', [CompletionResultType]::ParameterName, 'JSON: the values of every ranked series, not only of the top 50 rows')
            [CompletionResult]::new('--tui', '--tui', [CompletionResultType]::ParameterName, 'Open the report in the interactive UI instead of printing it (needs a terminal)')
            [CompletionResult]::new('--explain', '--explain', [CompletionResultType]::ParameterName, 'Ask an LLM (OpenAI-compatible) for a root-cause summary that cites the report''s evidence; only the redacted report is sent')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print exactly the request that would be sent (redacted) and its token count; send nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'obs;trace' {
            [CompletionResult]::new('--depth', '--depth', [CompletionResultType]::ParameterName, 'Show spans down to this depth (the root is depth 0)')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Show only this service''s spans (and the path to them)')
            [CompletionResult]::new('--tempo-url', '--tempo-url', [CompletionResultType]::ParameterName, 'Tempo base URL [env: OBS_TEMPO_URL]')
            [CompletionResult]::new('--jaeger-url', '--jaeger-url', [CompletionResultType]::ParameterName, 'Jaeger query service base URL (the UI''s address) [env: OBS_JAEGER_URL]')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant sent as X-Scope-OrgID [env: OBS_TENANT]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Per-request timeout, e.g. 30s [env: OBS_TIMEOUT] [default: 30s]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Read traces and logs (and, for investigate, metrics) from this obs store file instead of the remote backends; the file a running `obs sink --store PATH` writes is readable')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured in auto)')
            [CompletionResult]::new('--errors-only', '--errors-only', [CompletionResultType]::ParameterName, 'Show only failing spans (and the path to them)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'obs;logs' {
            [CompletionResult]::new('--trace', '--trace', [CompletionResultType]::ParameterName, 'Lines of this trace')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Lines of this service (its stream label: service_name, service, app or job, or log_service_label)')
            [CompletionResult]::new('--grep', '--grep', [CompletionResultType]::ParameterName, 'Only lines containing this text')
            [CompletionResult]::new('--level', '--level', [CompletionResultType]::ParameterName, 'Only lines at least this severe')
            [CompletionResult]::new('--query', '--query', [CompletionResultType]::ParameterName, 'A LogQL log query, passed through as it is')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Stream selector to search under, e.g. ''{namespace="shop"}'' [default: all streams with a service label]')
            [CompletionResult]::new('--trace-match', '--trace-match', [CompletionResultType]::ParameterName, 'How a trace id is found [default: auto]')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Start of the window (same forms as investigate''s --since)')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'End of the window [default: now]')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Most lines to print: the newest, or the oldest with --forward')
            [CompletionResult]::new('--loki-url', '--loki-url', [CompletionResultType]::ParameterName, 'Loki base URL [env: OBS_LOKI_URL, LOKI_ADDR]')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant sent as X-Scope-OrgID [env: LOKI_ORG_ID, OBS_TENANT]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Per-request timeout, e.g. 30s [env: OBS_TIMEOUT] [default: 30s]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Read traces and logs (and, for investigate, metrics) from this obs store file instead of the remote backends; the file a running `obs sink --store PATH` writes is readable')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured in auto)')
            [CompletionResult]::new('--forward', '--forward', [CompletionResultType]::ParameterName, 'Take the oldest lines of the window instead of the newest')
            [CompletionResult]::new('--patterns', '--patterns', [CompletionResultType]::ParameterName, 'Print the patterns of the lines fetched instead of the lines (raise --limit to group more)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'obs;sink' {
            [CompletionResult]::new('--grpc', '--grpc', [CompletionResultType]::ParameterName, 'Where to listen for OTLP/gRPC: host:port (port 0 picks a free port), or "off"')
            [CompletionResult]::new('--http', '--http', [CompletionResultType]::ParameterName, 'Where to listen for OTLP/HTTP: host:port (port 0 picks a free port), or "off"')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store file [default: $XDG_DATA_HOME/obs/sink.db, else ~/.local/share/obs/sink.db]')
            [CompletionResult]::new('--max-age', '--max-age', [CompletionResultType]::ParameterName, 'Delete data older than this, by its own timestamps, e.g. 7d or 12h [default: keep all]')
            [CompletionResult]::new('--max-size', '--max-size', [CompletionResultType]::ParameterName, 'Keep the store''s data under this size by deleting the oldest first, e.g. 2GiB or 500MB [default: no limit]')
            [CompletionResult]::new('--max-request-size', '--max-request-size', [CompletionResultType]::ParameterName, 'Largest request accepted (HTTP body after decompression, gRPC message)')
            [CompletionResult]::new('--min-free', '--min-free', [CompletionResultType]::ParameterName, 'Free space the store''s file system must keep: below it the sink refuses data (503, UNAVAILABLE, Retry-After) until space returns; 0 turns the check off')
            [CompletionResult]::new('--max-connections', '--max-connections', [CompletionResultType]::ParameterName, 'Connections each receiver keeps open; more wait until one closes')
            [CompletionResult]::new('--header-timeout', '--header-timeout', [CompletionResultType]::ParameterName, 'Time for an HTTP request''s headers to arrive')
            [CompletionResult]::new('--body-timeout', '--body-timeout', [CompletionResultType]::ParameterName, 'Time for a request''s body (HTTP) or message (gRPC) to arrive after its headers')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'Close a connection on which the client sends nothing for this long')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Bearer token clients must send as "Authorization: Bearer <token>"; prefer the environment variable, which other users cannot see in the process list')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured in auto)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'obs;store' {
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured in auto)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('info', 'info', [CompletionResultType]::ParameterValue, 'What the store holds: counts of spans, traces, logs, metric points and exemplars, the services seen, and the time range (works while a sink writes to it)')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write one signal of the store as OTLP JSON Lines (the OpenTelemetry file exporter''s format), to stdout or a file')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Read OTLP JSON Lines files (as the Collector''s file exporter writes them, gzip too) into the store; re-importing adds nothing')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'obs;store;info' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store file [default: $XDG_DATA_HOME/obs/sink.db, else ~/.local/share/obs/sink.db]')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured in auto)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'obs;store;export' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store file [default: $XDG_DATA_HOME/obs/sink.db, else ~/.local/share/obs/sink.db]')
            [CompletionResult]::new('--signal', '--signal', [CompletionResultType]::ParameterName, 'Which signal to write (one signal per file, as the file exporter specifies)')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only data at or after this time (same forms as investigate''s --since) [default: all]')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only data at or before this time [default: all]')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Write to this file instead of stdout; a name ending in .gz is gzip-compressed')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured in auto)')
            [CompletionResult]::new('--gzip', '--gzip', [CompletionResultType]::ParameterName, 'Gzip-compress the output (also to stdout)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'obs;store;import' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store file, created when missing [default: $XDG_DATA_HOME/obs/sink.db, else ~/.local/share/obs/sink.db]')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured in auto)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'obs;store;help' {
            [CompletionResult]::new('info', 'info', [CompletionResultType]::ParameterValue, 'What the store holds: counts of spans, traces, logs, metric points and exemplars, the services seen, and the time range (works while a sink writes to it)')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write one signal of the store as OTLP JSON Lines (the OpenTelemetry file exporter''s format), to stdout or a file')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Read OTLP JSON Lines files (as the Collector''s file exporter writes them, gzip too) into the store; re-importing adds nothing')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'obs;store;help;info' {
            break
        }
        'obs;store;help;export' {
            break
        }
        'obs;store;help;import' {
            break
        }
        'obs;store;help;help' {
            break
        }
        'obs;snapshot' {
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Start of the window: 14:30, 14:30:05 (local, today or yesterday), 30m, 2h, RFC 3339, unix seconds')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'End of the window (same forms as --since) [default: now]')
            [CompletionResult]::new('--baseline', '--baseline', [CompletionResultType]::ParameterName, 'Start of the baseline window, which ends at --since [default: as long as the window, just before it]')
            [CompletionResult]::new('--step', '--step', [CompletionResultType]::ParameterName, 'Query resolution, e.g. 15s or 1m [default: 200–400 points over the window]')
            [CompletionResult]::new('--service', '--service', [CompletionResultType]::ParameterName, 'Narrow the symptom to one service')
            [CompletionResult]::new('--service-label', '--service-label', [CompletionResultType]::ParameterName, 'Label that holds the service name [default: the first of service, service_name, job]')
            [CompletionResult]::new('--symptom', '--symptom', [CompletionResultType]::ParameterName, 'Which auto-detected symptom to examine: the error ratio, the p99 latency of the request-duration histogram, or both (the one that moved is the symptom) [default: auto]')
            [CompletionResult]::new('--symptom-query', '--symptom-query', [CompletionResultType]::ParameterName, 'The symptom as PromQL (any SLI: an error ratio, a latency, a success rate), repeatable: the one that moved first is the symptom, the others are said to be steady; `$__rate_interval` is replaced by the rate window [default: auto-detected]')
            [CompletionResult]::new('--error-query', '--error-query', [CompletionResultType]::ParameterName, 'The symptom as PromQL (any SLI: an error ratio, a latency, a success rate), repeatable: the one that moved first is the symptom, the others are said to be steady; `$__rate_interval` is replaced by the rate window [default: auto-detected]')
            [CompletionResult]::new('--direction', '--direction', [CompletionResultType]::ParameterName, 'Which way the symptom gets worse: up (an error ratio, a latency), down (a success rate, a throughput) or auto (whichever way it moved) [default: up]')
            [CompletionResult]::new('--latency-query', '--latency-query', [CompletionResultType]::ParameterName, 'Latency histogram selector to take exemplars from, e.g. ''http_request_duration_seconds_bucket{service="checkout"}''')
            [CompletionResult]::new('--candidate-match', '--candidate-match', [CompletionResultType]::ParameterName, 'Only consider candidate metrics matching this series selector, e.g. ''{namespace="shop"}''')
            [CompletionResult]::new('--candidate', '--candidate', [CompletionResultType]::ParameterName, 'An extra candidate as PromQL (repeatable)')
            [CompletionResult]::new('--max-candidates', '--max-candidates', [CompletionResultType]::ParameterName, 'Most metric names fetched in full and ranked; with more names, a first pass scores every one and the most changed are fetched [default: 500]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Queries in flight at once [default: 16]')
            [CompletionResult]::new('--prometheus-url', '--prometheus-url', [CompletionResultType]::ParameterName, 'Prometheus-compatible base URL [env: OBS_PROMETHEUS_URL]')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant sent as X-Scope-OrgID (Mimir, Cortex, Thanos) [env: OBS_TENANT]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Per-request timeout, e.g. 30s [env: OBS_TIMEOUT] [default: 30s]')
            [CompletionResult]::new('--scrape-interval', '--scrape-interval', [CompletionResultType]::ParameterName, 'The backend''s scrape interval: the smallest step and the basis of rate windows [default: measured, else 15s]')
            [CompletionResult]::new('--exemplars', '--exemplars', [CompletionResultType]::ParameterName, 'Most exemplars to report')
            [CompletionResult]::new('--traces', '--traces', [CompletionResultType]::ParameterName, 'Traces to fetch and summarise (failing exemplars first, then the slowest); 0 skips traces and logs')
            [CompletionResult]::new('--tempo-url', '--tempo-url', [CompletionResultType]::ParameterName, 'Tempo base URL [env: OBS_TEMPO_URL]')
            [CompletionResult]::new('--jaeger-url', '--jaeger-url', [CompletionResultType]::ParameterName, 'Jaeger query service base URL (the UI''s address) [env: OBS_JAEGER_URL]')
            [CompletionResult]::new('--loki-url', '--loki-url', [CompletionResultType]::ParameterName, 'Loki base URL, for the logs of those traces [env: OBS_LOKI_URL, LOKI_ADDR]')
            [CompletionResult]::new('--trace-match', '--trace-match', [CompletionResultType]::ParameterName, 'How a trace id is found in logs [default: auto]')
            [CompletionResult]::new('--log-selector', '--log-selector', [CompletionResultType]::ParameterName, 'Stream selector the traces'' logs are searched under, e.g. ''{namespace="shop"}''')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured in auto)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace FILE if it already exists')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'obs;replay' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store to replay [default: $XDG_DATA_HOME/obs/sink.db, else ~/.local/share/obs/sink.db]')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'The OTLP endpoint: for OTLP/HTTP the base URL (`/v1/traces` etc. are appended), e.g. http://localhost:4318; with --grpc, e.g. http://localhost:4317')
            [CompletionResult]::new('--shift', '--shift', [CompletionResultType]::ParameterName, 'Move every timestamp: `now` puts the store''s newest timestamp at the current time; a duration (1h, 30m) moves everything that much later [default: no shift]')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'Send at most this many items (spans, log records, data points) per second [default: no limit]')
            [CompletionResult]::new('--batch', '--batch', [CompletionResultType]::ParameterName, 'Items per request')
            [CompletionResult]::new('--signals', '--signals', [CompletionResultType]::ParameterName, 'Only these signals [default: traces, logs and metrics]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Where progress is kept so that a restarted replay resumes [default: the store path + `.replay.json`]')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Extra header on every request, `Name: value` (repeatable), e.g. an auth token or X-Scope-OrgID')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Per-request timeout')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured in auto)')
            [CompletionResult]::new('--grpc', '--grpc', [CompletionResultType]::ParameterName, 'Send OTLP/gRPC instead of OTLP/HTTP protobuf')
            [CompletionResult]::new('--restart', '--restart', [CompletionResultType]::ParameterName, 'Start over: ignore (and replace) the progress recorded for this target')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'obs;config' {
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured in auto)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'obs;doctor' {
            [CompletionResult]::new('--prometheus-url', '--prometheus-url', [CompletionResultType]::ParameterName, 'Prometheus-compatible base URL [env: OBS_PROMETHEUS_URL]')
            [CompletionResult]::new('--tempo-url', '--tempo-url', [CompletionResultType]::ParameterName, 'Tempo base URL [env: OBS_TEMPO_URL]')
            [CompletionResult]::new('--jaeger-url', '--jaeger-url', [CompletionResultType]::ParameterName, 'Jaeger query service base URL (the UI''s address) [env: OBS_JAEGER_URL]')
            [CompletionResult]::new('--loki-url', '--loki-url', [CompletionResultType]::ParameterName, 'Loki base URL [env: OBS_LOKI_URL, LOKI_ADDR]')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant sent as X-Scope-OrgID [env: OBS_TENANT]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long each probe may take, e.g. 10s [default: the context''s timeout, at most 5s]')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured in auto)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'obs;demo' {
            [CompletionResult]::new('--keep', '--keep', [CompletionResultType]::ParameterName, 'Keep the demo''s store at this path (a new file) for `obs investigate --store PATH`, `obs trace --store PATH` and `obs logs --store PATH`')
            [CompletionResult]::new('--model', '--model', [CompletionResultType]::ParameterName, 'The model [default: gpt-4o, or model in [contexts.NAME.llm]]')
            [CompletionResult]::new('--max-input-tokens', '--max-input-tokens', [CompletionResultType]::ParameterName, 'Input budget in tokens, counted with the model''s encoding; evidence that does not fit is left out by priority and listed [default: 8000]')
            [CompletionResult]::new('--llm-timeout', '--llm-timeout', [CompletionResultType]::ParameterName, 'How long to wait for the answer to start, and between two chunks of it [default: 120s]')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured in auto)')
            [CompletionResult]::new('--explain', '--explain', [CompletionResultType]::ParameterName, 'Also ask an LLM for a root-cause summary of the demo''s report (see `obs explain`)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print exactly the request that would be sent (redacted) and its token count; send nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'obs;query' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'Evaluate over this obs store file (offline PromQL) instead of Prometheus')
            [CompletionResult]::new('--prometheus-url', '--prometheus-url', [CompletionResultType]::ParameterName, 'Prometheus-compatible base URL [env: OBS_PROMETHEUS_URL]')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant sent as X-Scope-OrgID (Mimir, Cortex, Thanos) [env: OBS_TENANT]')
            [CompletionResult]::new('--time', '--time', [CompletionResultType]::ParameterName, 'Evaluate at this instant (same forms as --since) [default: now]')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Make it a range query from this time: 14:30, 30m, 2h, RFC 3339, unix seconds')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'End of the range (same forms as --since) [default: now]')
            [CompletionResult]::new('--step', '--step', [CompletionResultType]::ParameterName, 'Resolution of the range, e.g. 15s or 1m [default: 200–400 points over the range]')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured in auto)')
            [CompletionResult]::new('--pretty', '--pretty', [CompletionResultType]::ParameterName, 'With -o json, indent the JSON (it is compact unless stdout is a terminal)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'obs;tui' {
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'An obs store file: with a report, where its traces and logs are read; alone, its newest traces, refreshed while a sink writes to it')
            [CompletionResult]::new('--tempo-url', '--tempo-url', [CompletionResultType]::ParameterName, 'Tempo base URL [env: OBS_TEMPO_URL]')
            [CompletionResult]::new('--jaeger-url', '--jaeger-url', [CompletionResultType]::ParameterName, 'Jaeger query service base URL (the UI''s address) [env: OBS_JAEGER_URL]')
            [CompletionResult]::new('--loki-url', '--loki-url', [CompletionResultType]::ParameterName, 'Loki base URL [env: OBS_LOKI_URL, LOKI_ADDR]')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Tenant sent as X-Scope-OrgID [env: OBS_TENANT]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Per-request timeout, e.g. 30s [env: OBS_TIMEOUT] [default: 30s]')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured in auto)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'obs;patterns' {
            [CompletionResult]::new('--max-patterns', '--max-patterns', [CompletionResultType]::ParameterName, 'Most distinct patterns kept; lines of further shapes are counted, not grouped')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured in auto)')
            [CompletionResult]::new('--per-line', '--per-line', [CompletionResultType]::ParameterName, 'Print, for each input line in order, {"line": N, "pattern": ID, "template": T} (JSON lines)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'obs;explain' {
            [CompletionResult]::new('--model', '--model', [CompletionResultType]::ParameterName, 'The model [default: gpt-4o, or model in [contexts.NAME.llm]]')
            [CompletionResult]::new('--max-input-tokens', '--max-input-tokens', [CompletionResultType]::ParameterName, 'Input budget in tokens, counted with the model''s encoding; evidence that does not fit is left out by priority and listed [default: 8000]')
            [CompletionResult]::new('--llm-timeout', '--llm-timeout', [CompletionResultType]::ParameterName, 'How long to wait for the answer to start, and between two chunks of it [default: 120s]')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured in auto)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print exactly the request that would be sent (redacted) and its token count; send nothing')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'obs;completions' {
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (NO_COLOR is honoured in auto)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr: no progress, no warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'obs;help' {
            [CompletionResult]::new('investigate', 'investigate', [CompletionResultType]::ParameterValue, 'Find the error spike and rank the metrics that moved with it, and before it')
            [CompletionResult]::new('trace', 'trace', [CompletionResultType]::ParameterValue, 'Show one trace as a waterfall, with its critical path and errors (Tempo or Jaeger)')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Print log lines from Loki: of a trace, of a service, or for a LogQL query')
            [CompletionResult]::new('sink', 'sink', [CompletionResultType]::ParameterValue, 'Receive OTLP traces, logs and metrics (gRPC and HTTP) into the embedded store until stopped')
            [CompletionResult]::new('store', 'store', [CompletionResultType]::ParameterValue, 'Inspect the embedded store')
            [CompletionResult]::new('snapshot', 'snapshot', [CompletionResultType]::ParameterValue, 'Run an investigation against the remote backends and capture everything it used into one new store file')
            [CompletionResult]::new('replay', 'replay', [CompletionResultType]::ParameterValue, 'Re-send a store''s traces, logs and metrics to an OTLP endpoint (Collector, Tempo, Loki, Prometheus, another obs sink); resumable')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Print the resolved configuration (secrets masked) and where each value came from')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Probe every backend of the context: reachable, version, auth, and what investigate needs')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Run a simulated shop with an injected fault into a temporary store and investigate it')
            [CompletionResult]::new('query', 'query', [CompletionResultType]::ParameterValue, 'Evaluate PromQL against Prometheus or, offline, against an obs store file')
            [CompletionResult]::new('tui', 'tui', [CompletionResultType]::ParameterValue, 'Explore a saved report (`investigate -o json`) or a store''s traces in the interactive UI')
            [CompletionResult]::new('patterns', 'patterns', [CompletionResultType]::ParameterValue, 'Group log lines (one message per line) into patterns with the variable parts masked')
            [CompletionResult]::new('explain', 'explain', [CompletionResultType]::ParameterValue, 'Ask an LLM for a root-cause summary of a saved report (-o json) that cites its evidence')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'obs;help;investigate' {
            break
        }
        'obs;help;trace' {
            break
        }
        'obs;help;logs' {
            break
        }
        'obs;help;sink' {
            break
        }
        'obs;help;store' {
            [CompletionResult]::new('info', 'info', [CompletionResultType]::ParameterValue, 'What the store holds: counts of spans, traces, logs, metric points and exemplars, the services seen, and the time range (works while a sink writes to it)')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write one signal of the store as OTLP JSON Lines (the OpenTelemetry file exporter''s format), to stdout or a file')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Read OTLP JSON Lines files (as the Collector''s file exporter writes them, gzip too) into the store; re-importing adds nothing')
            break
        }
        'obs;help;store;info' {
            break
        }
        'obs;help;store;export' {
            break
        }
        'obs;help;store;import' {
            break
        }
        'obs;help;snapshot' {
            break
        }
        'obs;help;replay' {
            break
        }
        'obs;help;config' {
            break
        }
        'obs;help;doctor' {
            break
        }
        'obs;help;demo' {
            break
        }
        'obs;help;query' {
            break
        }
        'obs;help;tui' {
            break
        }
        'obs;help;patterns' {
            break
        }
        'obs;help;explain' {
            break
        }
        'obs;help;completions' {
            break
        }
        'obs;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
