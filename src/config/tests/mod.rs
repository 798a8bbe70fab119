//! The configuration as users write it: file, environment and flags layered, contexts chosen,
//! bad values named. `connection` tests one backend's connection settings, `output` what
//! `obs config` prints (and never prints).

mod connection;
mod output;

use std::collections::HashMap;

use super::*;

/// An env lookup over fixed pairs.
fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |k| map.get(k).cloned()
}

fn no_env(_: &str) -> Option<String> {
    None
}

struct Fixture {
    dir: tempfile::TempDir,
    path: PathBuf,
}

fn file(text: &str) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    Fixture { dir, path }
}

fn load_file(
    f: &Fixture,
    o: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    load(Some(&f.path), o, env)
}

const PROD: &str = r#"
current_context = "prod"

[contexts.prod]
prometheus_url = "https://prom.example.com/"
tenant = "team-a"
timeout = "10s"
error_query = "file_query"
service_label = "app"
candidates = ["rate(foo_total[5m])", "rate(bar_total[5m])"]
candidate_match = '{namespace="shop"}'
max_candidates = 100
concurrency = 4
scrape_interval = "30s"

[contexts.dev]
prometheus_url = "http://dev:9090"
"#;

#[test]
fn defaults_without_any_file() {
    let c = load(None, &Overrides::default(), &no_env).unwrap();
    assert_eq!(c.context, "default");
    assert_eq!(c.config_file, None);
    assert_eq!(c.prometheus.url, "http://localhost:9090");
    assert_eq!(c.prometheus.timeout, Duration::from_secs(30));
    assert_eq!(c.prometheus.auth, None);
    assert_eq!(c.concurrency, 16);
    assert_eq!(c.max_candidates, 500);
    assert_eq!(c.scrape_interval, Duration::from_secs(15));
    assert_eq!(c.service_label, None);
    assert_eq!(c.service_labels(), ["service", "service_name", "job"]);
    assert!(c.candidates.is_empty());
    assert_eq!(c.source("prometheus_url"), Some(&Source::Default));
    assert_eq!(c.source("context"), Some(&Source::Default));
    assert_eq!(c.source("tenant"), None);
}

#[test]
fn missing_default_file_means_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let xdg = dir.path().to_string_lossy().into_owned();
    let c = load(
        None,
        &Overrides::default(),
        &env_of(&[("XDG_CONFIG_HOME", &xdg)]),
    )
    .unwrap();
    assert_eq!(c.prometheus.url, DEFAULT_PROMETHEUS_URL);
    assert_eq!(c.config_file, None);
}

#[test]
fn xdg_path_resolution() {
    let env = env_of(&[("XDG_CONFIG_HOME", "/x/cfg"), ("HOME", "/home/a")]);
    assert_eq!(
        default_config_path(&env),
        Some(PathBuf::from("/x/cfg/obs/config.toml"))
    );
    let env = env_of(&[("HOME", "/home/a")]);
    assert_eq!(
        default_config_path(&env),
        Some(PathBuf::from("/home/a/.config/obs/config.toml"))
    );
    // Relative or empty XDG_CONFIG_HOME is ignored, as the spec says.
    let env = env_of(&[("XDG_CONFIG_HOME", "rel"), ("HOME", "/home/a")]);
    assert_eq!(
        default_config_path(&env),
        Some(PathBuf::from("/home/a/.config/obs/config.toml"))
    );
    let env = env_of(&[("XDG_CONFIG_HOME", ""), ("HOME", "/home/a")]);
    assert_eq!(
        default_config_path(&env),
        Some(PathBuf::from("/home/a/.config/obs/config.toml"))
    );
    assert_eq!(default_config_path(&no_env), None);
}

#[test]
fn default_file_is_found_via_xdg_and_home() {
    let dir = tempfile::tempdir().unwrap();
    let obs = dir.path().join("obs");
    std::fs::create_dir_all(&obs).unwrap();
    std::fs::write(obs.join("config.toml"), PROD).unwrap();
    let xdg = dir.path().to_string_lossy().into_owned();
    let c = load(
        None,
        &Overrides::default(),
        &env_of(&[("XDG_CONFIG_HOME", &xdg)]),
    )
    .unwrap();
    assert_eq!(c.context, "prod");
    assert_eq!(c.config_file, Some(obs.join("config.toml")));
    assert_eq!(c.source("config_file"), Some(&Source::Default));

    let home = tempfile::tempdir().unwrap();
    let obs = home.path().join(".config").join("obs");
    std::fs::create_dir_all(&obs).unwrap();
    std::fs::write(obs.join("config.toml"), PROD).unwrap();
    let h = home.path().to_string_lossy().into_owned();
    let c = load(None, &Overrides::default(), &env_of(&[("HOME", &h)])).unwrap();
    assert_eq!(c.prometheus.url, "https://prom.example.com");
}

#[test]
fn file_values_and_provenance() {
    let f = file(PROD);
    let c = load_file(&f, &Overrides::default(), &no_env).unwrap();
    let from_file = Source::File(f.path.clone());
    assert_eq!(c.context, "prod");
    assert_eq!(c.source("context"), Some(&from_file));
    assert_eq!(c.source("config_file"), Some(&Source::Flag("--config")));
    assert_eq!(c.prometheus.url, "https://prom.example.com");
    assert_eq!(c.prometheus.tenant.as_deref(), Some("team-a"));
    assert_eq!(c.prometheus.timeout, Duration::from_secs(10));
    assert_eq!(c.error_query.as_deref(), Some("file_query"));
    assert_eq!(c.service_labels(), ["app"]);
    assert_eq!(c.candidates, ["rate(foo_total[5m])", "rate(bar_total[5m])"]);
    assert_eq!(c.candidate_match.as_deref(), Some("{namespace=\"shop\"}"));
    assert_eq!(c.max_candidates, 100);
    assert_eq!(c.concurrency, 4);
    assert_eq!(c.scrape_interval, Duration::from_secs(30));
    for key in [
        "prometheus_url",
        "tenant",
        "timeout",
        "concurrency",
        "candidates[1]",
    ] {
        assert_eq!(c.source(key), Some(&from_file), "{key}");
    }
}

#[test]
fn env_wins_over_file_and_flag_wins_over_env() {
    let f = file(PROD);
    let env = env_of(&[
        ("OBS_PROMETHEUS_URL", "http://env:9090"),
        ("OBS_TENANT", "env-tenant"),
        ("OBS_TIMEOUT", "20s"),
        ("OBS_ERROR_QUERY", "env_query"),
        ("OBS_SERVICE_LABEL", "svc"),
    ]);
    let c = load_file(&f, &Overrides::default(), &env).unwrap();
    assert_eq!(c.prometheus.url, "http://env:9090");
    assert_eq!(c.prometheus.tenant.as_deref(), Some("env-tenant"));
    assert_eq!(c.prometheus.timeout, Duration::from_secs(20));
    assert_eq!(c.error_query.as_deref(), Some("env_query"));
    assert_eq!(c.service_label.as_deref(), Some("svc"));
    assert_eq!(
        c.source("prometheus_url"),
        Some(&Source::Env("OBS_PROMETHEUS_URL"))
    );
    assert_eq!(c.source("timeout"), Some(&Source::Env("OBS_TIMEOUT")));

    let o = Overrides {
        prometheus_url: Some("http://flag:9090".into()),
        tenant: Some("flag-tenant".into()),
        timeout: Some("5s".into()),
        error_query: Some("flag_query".into()),
        service_label: Some("flag_svc".into()),
        candidate_match: Some("{a=\"b\"}".into()),
        candidates: vec!["up".into(), "rate(foo_total[5m])".into()],
        max_candidates: Some(7),
        concurrency: Some(2),
        scrape_interval: Some("1m".into()),
        ..Overrides::default()
    };
    let c = load_file(&f, &o, &env).unwrap();
    assert_eq!(c.prometheus.url, "http://flag:9090");
    assert_eq!(c.prometheus.tenant.as_deref(), Some("flag-tenant"));
    assert_eq!(c.prometheus.timeout, Duration::from_secs(5));
    assert_eq!(c.error_query.as_deref(), Some("flag_query"));
    assert_eq!(c.service_label.as_deref(), Some("flag_svc"));
    assert_eq!(c.candidate_match.as_deref(), Some("{a=\"b\"}"));
    assert_eq!(c.max_candidates, 7);
    assert_eq!(c.concurrency, 2);
    assert_eq!(c.scrape_interval, Duration::from_secs(60));
    // Flag candidates are appended; duplicates dropped.
    assert_eq!(
        c.candidates,
        ["rate(foo_total[5m])", "rate(bar_total[5m])", "up"]
    );
    assert_eq!(
        c.source("candidates[2]"),
        Some(&Source::Flag("--candidate"))
    );
    assert_eq!(c.source("timeout"), Some(&Source::Flag("--timeout")));
    assert_eq!(
        c.source("max_candidates"),
        Some(&Source::Flag("--max-candidates"))
    );
}

#[test]
fn empty_values_count_as_unset() {
    let f = file(PROD);
    let env = env_of(&[("OBS_TENANT", ""), ("OBS_CONTEXT", " ")]);
    let o = Overrides {
        prometheus_url: Some(String::new()),
        ..Overrides::default()
    };
    let c = load_file(&f, &o, &env).unwrap();
    assert_eq!(c.context, "prod");
    assert_eq!(c.prometheus.url, "https://prom.example.com");
    assert_eq!(c.prometheus.tenant.as_deref(), Some("team-a"));
}

#[test]
fn context_selection_layers() {
    let f = file(PROD);
    let env = env_of(&[("OBS_CONTEXT", "dev")]);
    let c = load_file(&f, &Overrides::default(), &env).unwrap();
    assert_eq!(c.context, "dev");
    assert_eq!(c.prometheus.url, "http://dev:9090");
    assert_eq!(c.source("context"), Some(&Source::Env("OBS_CONTEXT")));
    // dev sets nothing else: defaults, not prod's values.
    assert_eq!(c.prometheus.tenant, None);
    assert_eq!(c.concurrency, DEFAULT_CONCURRENCY);

    let o = Overrides {
        context: Some("prod".into()),
        ..Overrides::default()
    };
    let c = load_file(&f, &o, &env).unwrap();
    assert_eq!(c.context, "prod");
    assert_eq!(c.source("context"), Some(&Source::Flag("--context")));
}

#[test]
fn config_path_from_env() {
    let f = file(PROD);
    let p = f.path.to_string_lossy().into_owned();
    let c = load(None, &Overrides::default(), &env_of(&[("OBS_CONFIG", &p)])).unwrap();
    assert_eq!(c.context, "prod");
    assert_eq!(c.source("config_file"), Some(&Source::Env("OBS_CONFIG")));
}

#[test]
fn missing_explicit_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    let err = load(Some(&missing), &Overrides::default(), &no_env).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&format!("\"{}\"", missing.display())), "{msg}");
    assert!(msg.contains("(from flag --config) does not exist"), "{msg}");

    let m = missing.to_string_lossy().into_owned();
    let err = load(None, &Overrides::default(), &env_of(&[("OBS_CONFIG", &m)])).unwrap_err();
    assert!(err.to_string().contains("(from env OBS_CONFIG)"), "{err}");
}

#[test]
fn missing_context_lists_available() {
    let f = file(PROD);
    let o = Overrides {
        context: Some("staging".into()),
        ..Overrides::default()
    };
    let err = load_file(&f, &o, &no_env).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "context \"staging\" (from flag --context) is not defined in \"{}\": \
             available contexts: \"dev\", \"prod\"; pick one with --context or OBS_CONTEXT",
            f.path.display()
        )
    );

    // current_context naming a missing context.
    let f2 = file("current_context = \"gone\"\n[contexts.a]\n");
    let err = load_file(&f2, &Overrides::default(), &no_env).unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("context \"gone\" (from file "), "{msg}");
    assert!(msg.contains("available contexts: \"a\""), "{msg}");

    // No file at all.
    let err = load(None, &o, &no_env).unwrap_err();
    assert!(
        err.to_string().contains("no config file was found"),
        "{err}"
    );
}

#[test]
fn contexts_without_selection() {
    let f = file("[contexts.a]\n[contexts.b]\n");
    let err = load_file(&f, &Overrides::default(), &no_env).unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("no context selected"), "{msg}");
    assert!(msg.contains("\"a\", \"b\""), "{msg}");
    // A context named "default" is picked implicitly.
    let f = file("[contexts.default]\ntenant = \"t\"\n[contexts.b]\n");
    let c = load_file(&f, &Overrides::default(), &no_env).unwrap();
    assert_eq!(c.prometheus.tenant.as_deref(), Some("t"));
    // An empty file is fine.
    let f = file("");
    let c = load_file(&f, &Overrides::default(), &no_env).unwrap();
    assert_eq!(c.context, "default");
}

#[test]
fn unknown_key_names_key_file_and_position() {
    let f = file("current_context = \"p\"\n[contexts.p]\nprometheus_ur = \"http://x\"\n");
    let err = load_file(&f, &Overrides::default(), &no_env).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("prometheus_ur"), "{msg}");
    assert!(msg.contains(&f.path.display().to_string()), "{msg}");
    assert!(msg.contains("at line 3, column 1"), "{msg}");
    assert!(msg.starts_with("invalid config file \""), "{msg}");

    let f = file("color = true\n");
    let msg = load_file(&f, &Overrides::default(), &no_env)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("`color`") && msg.contains("line 1"), "{msg}");

    // A context key at the top level gets a hint.
    let f = file("prometheus_url = \"http://x\"\n");
    let msg = load_file(&f, &Overrides::default(), &no_env)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("go in a [contexts.NAME] table"), "{msg}");
}

#[test]
fn parse_errors_do_not_echo_source_lines() {
    let f = file("[contexts.default]\npasword = \"hunter2-secret\"\n");
    let err = load_file(&f, &Overrides::default(), &no_env).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("pasword"), "{msg}");
    assert!(!msg.contains("hunter2-secret"), "{msg}");
    let f = file("[contexts.default\n");
    let msg = load_file(&f, &Overrides::default(), &no_env)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("at line 1"), "{msg}");
}

#[test]
fn bad_timeout() {
    let f = file("[contexts.default]\ntimeout = \"abc\"\n");
    let err = load_file(&f, &Overrides::default(), &no_env).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "invalid timeout \"abc\" (from file {}): expected a duration such as 500ms, \
             15s, 1m or 1h30m",
            f.path.display()
        )
    );
    let err = load(
        None,
        &Overrides::default(),
        &env_of(&[("OBS_TIMEOUT", "0s")]),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid timeout \"0s\" (from env OBS_TIMEOUT): it must be greater than zero, \
         such as 15s or 1m"
    );
    let o = Overrides {
        scrape_interval: Some("fast".into()),
        ..Overrides::default()
    };
    let msg = load(None, &o, &no_env).unwrap_err().to_string();
    assert!(
        msg.starts_with("invalid scrape_interval \"fast\" (from flag --scrape-interval)"),
        "{msg}"
    );
}

#[test]
fn bad_values() {
    let cases: [(&str, &str); 9] = [
        (
            "prometheus_url = \"ftp://x\"",
            "invalid prometheus_url \"ftp://x\"",
        ),
        (
            "prometheus_url = \"localhost:9090\"",
            "expected an http:// or https:// URL",
        ),
        ("prometheus_url = \"http://\"", "it has no host"),
        (
            "prometheus_url = \"http://x:port\"",
            "the port must be a number",
        ),
        (
            "prometheus_url = \"http://x/api/v1/query\"",
            "without /api/v1",
        ),
        ("prometheus_url = \"http://x?a=b\"", "query or fragment"),
        ("concurrency = 0", "invalid concurrency \"0\""),
        ("max_candidates = -1", "invalid max_candidates \"-1\""),
        ("service_label = \"9x\"", "invalid service_label \"9x\""),
    ];
    for (line, want) in cases {
        let f = file(&format!("[contexts.default]\n{line}\n"));
        let msg = load_file(&f, &Overrides::default(), &no_env)
            .unwrap_err()
            .to_string();
        assert!(msg.contains(want), "{line}: {msg}");
        assert!(
            msg.contains(&format!("(from file {})", f.path.display())),
            "{msg}"
        );
    }
    let o = Overrides {
        concurrency: Some(5000),
        ..Overrides::default()
    };
    let msg = load(None, &o, &no_env).unwrap_err().to_string();
    assert_eq!(
        msg,
        "invalid concurrency \"5000\" (from flag --concurrency): expected a whole number from 1 to 1024"
    );
}

#[test]
fn url_normalisation() {
    let o = |u: &str| Overrides {
        prometheus_url: Some(u.into()),
        ..Overrides::default()
    };
    for (input, want) in [
        ("HTTPS://prom.example.com/", "https://prom.example.com"),
        ("http://[::1]:9090", "http://[::1]:9090"),
        (
            "https://grafana.example.com/api/datasources/proxy/uid/abc/",
            "https://grafana.example.com/api/datasources/proxy/uid/abc",
        ),
        (" http://prom:9090//", "http://prom:9090"),
    ] {
        let c = load(None, &o(input), &no_env).unwrap();
        assert_eq!(c.prometheus.url, want, "{input}");
    }
}

#[test]
fn url_with_credentials_is_rejected_without_echo() {
    let env = env_of(&[("OBS_PROMETHEUS_URL", "https://bob:pa55word@prom")]);
    let msg = load(None, &Overrides::default(), &env)
        .unwrap_err()
        .to_string();
    assert!(
        msg.starts_with(
            "invalid prometheus_url (from env OBS_PROMETHEUS_URL): it contains credentials"
        ),
        "{msg}"
    );
    assert!(!msg.contains("pa55word"), "{msg}");
}

const SECRETS: [&str; 4] = ["hunter2-pass", "tok-abc-123", "k3y-value", "c00kie-val"];
