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

#[test]
fn basic_and_bearer_conflict() {
    let f = file("[contexts.default]\nusername = \"a\"\npassword = \"p\"\nbearer_token = \"t\"\n");
    let err = load_file(&f, &Overrides::default(), &no_env).unwrap_err();
    let from = format!("file {}", f.path.display());
    assert_eq!(
        err.to_string(),
        format!(
            "both basic auth (username/password, from {from}) and bearer_token (from {from}) \
             are set: keep only one of them"
        )
    );
    let env = env_of(&[("OBS_PASSWORD", "p"), ("OBS_BEARER_TOKEN", "t")]);
    let err = load(None, &Overrides::default(), &env).unwrap_err();
    assert!(matches!(err, ConfigError::AuthConflict { .. }), "{err}");
    assert!(!err.to_string().contains("\"t\""));
}

#[test]
fn auth_layers_as_a_unit() {
    // Username in the file, password from env: combined.
    let f = file("[contexts.default]\nusername = \"alice\"\n");
    let env = env_of(&[("OBS_PASSWORD", "pw-from-env")]);
    let c = load_file(&f, &Overrides::default(), &env).unwrap();
    assert_eq!(
        c.prometheus.auth,
        Some(Auth::Basic {
            username: "alice".into(),
            password: Secret::new("pw-from-env")
        })
    );
    assert_eq!(c.source("password"), Some(&Source::Env("OBS_PASSWORD")));
    assert_eq!(c.source("username"), Some(&Source::File(f.path.clone())));

    // Bearer from env replaces basic from the file.
    let f = file("[contexts.default]\nusername = \"alice\"\npassword = \"pw\"\n");
    let env = env_of(&[("OBS_BEARER_TOKEN", " tok ")]);
    let c = load_file(&f, &Overrides::default(), &env).unwrap();
    assert_eq!(
        c.prometheus.auth,
        Some(Auth::Bearer {
            token: Secret::new("tok")
        })
    );
    assert_eq!(c.source("username"), None);

    // Flag username beats env username; password still from env.
    let env = env_of(&[("OBS_USERNAME", "env-user"), ("OBS_PASSWORD", "pw")]);
    let o = Overrides {
        username: Some("flag-user".into()),
        ..Overrides::default()
    };
    let c = load(None, &o, &env).unwrap();
    assert!(
        matches!(&c.prometheus.auth, Some(Auth::Basic { username, .. }) if username == "flag-user")
    );
    assert_eq!(c.source("username"), Some(&Source::Flag("--username")));
}

#[test]
fn incomplete_basic_auth() {
    let env = env_of(&[("OBS_USERNAME", "alice")]);
    let err = load(None, &Overrides::default(), &env).unwrap_err();
    assert_eq!(
        err.to_string(),
        "username is set (from env OBS_USERNAME) but password is not: set password too, \
         or remove username"
    );
    let f = file("[contexts.default]\npassword = \"hunter2\"\n");
    let msg = load_file(&f, &Overrides::default(), &no_env)
        .unwrap_err()
        .to_string();
    assert!(msg.starts_with("password is set (from file "), "{msg}");
    assert!(!msg.contains("hunter2"), "{msg}");
    let env = env_of(&[("OBS_USERNAME", "a:b"), ("OBS_PASSWORD", "x")]);
    let msg = load(None, &Overrides::default(), &env)
        .unwrap_err()
        .to_string();
    assert!(
        msg.starts_with("invalid username \"a:b\" (from env OBS_USERNAME)"),
        "{msg}"
    );
}

#[test]
fn headers_and_conflicts() {
    let f = file(
        "[contexts.default]\nheaders = { \"X-Extra\" = \"1\", \"X-Api-Key\" = \"k3y-value\", \
         Cookie = \"c00kie\" }\n",
    );
    let c = load_file(&f, &Overrides::default(), &no_env).unwrap();
    let h = &c.prometheus.headers;
    assert_eq!(h["X-Extra"], MaybeSecret::Plain("1".into()));
    assert!(h["X-Api-Key"].is_secret());
    assert_eq!(h["X-Api-Key"].expose(), "k3y-value");
    assert!(h["Cookie"].is_secret());
    assert_eq!(
        c.source("headers.X-Extra"),
        Some(&Source::File(f.path.clone()))
    );

    let f = file(
        "[contexts.default]\nbearer_token = \"t\"\nheaders = { authorization = \"Basic x\" }\n",
    );
    let msg = load_file(&f, &Overrides::default(), &no_env)
        .unwrap_err()
        .to_string();
    assert!(
        msg.starts_with("header \"authorization\" (from file "),
        "{msg}"
    );
    assert!(msg.contains("conflicts with bearer_token"), "{msg}");
    assert!(!msg.contains("Basic x"), "{msg}");

    let f = file("[contexts.default]\nheaders = { \"X-Scope-OrgID\" = \"a\" }\n");
    let env = env_of(&[("OBS_TENANT", "b")]);
    let msg = load_file(&f, &Overrides::default(), &env)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("conflicts with tenant (from env OBS_TENANT)"),
        "{msg}"
    );

    let f = file("[contexts.default]\nheaders = { \"Bad Name\" = \"a\" }\n");
    let msg = load_file(&f, &Overrides::default(), &no_env)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("\"Bad Name\" is not a valid HTTP header name"),
        "{msg}"
    );

    let f = file("[contexts.default]\nheaders = { \"X-Token\" = \"bad\\nsecretline\" }\n");
    let msg = load_file(&f, &Overrides::default(), &no_env)
        .unwrap_err()
        .to_string();
    assert!(
        msg.starts_with("invalid headers.X-Token (from file "),
        "{msg}"
    );
    assert!(!msg.contains("secretline"), "{msg}");
}

#[test]
fn sensitive_header_names() {
    for name in [
        "Authorization",
        "cookie",
        "X-Auth-Token",
        "X-API-KEY",
        "Client-Secret",
        "Proxy-Authorization",
    ] {
        assert!(is_sensitive_header(name), "{name}");
    }
    for name in ["X-Extra", "Accept", "X-Scope-OrgID", "User-Agent"] {
        assert!(!is_sensitive_header(name), "{name}");
    }
}

#[test]
fn ca_file_relative_to_config_file() {
    let f = file("[contexts.default]\nca_file = \"ca.pem\"\n");
    std::fs::write(f.dir.path().join("ca.pem"), "pem").unwrap();
    let c = load_file(&f, &Overrides::default(), &no_env).unwrap();
    assert_eq!(c.prometheus.ca_file, Some(f.dir.path().join("ca.pem")));

    let env = env_of(&[("OBS_CA_FILE", "/nonexistent/ca.pem")]);
    let msg = load(None, &Overrides::default(), &env)
        .unwrap_err()
        .to_string();
    assert_eq!(
        msg,
        "invalid ca_file \"/nonexistent/ca.pem\" (from env OBS_CA_FILE): no such file; \
         give the path to a PEM CA bundle"
    );
}

const SECRETS: [&str; 4] = ["hunter2-pass", "tok-abc-123", "k3y-value", "c00kie-val"];

fn secret_configs() -> Vec<(Config, Fixture)> {
    let basic = file(
        "[contexts.default]\nusername = \"alice\"\npassword = \"hunter2-pass\"\n\
         headers = { \"X-Api-Key\" = \"k3y-value\", Cookie = \"c00kie-val\", \"X-Extra\" = \"1\" }\n",
    );
    let bearer = file("[contexts.default]\nbearer_token = \"tok-abc-123\"\n");
    vec![
        (
            load_file(&basic, &Overrides::default(), &no_env).unwrap(),
            basic,
        ),
        (
            load_file(&bearer, &Overrides::default(), &no_env).unwrap(),
            bearer,
        ),
    ]
}

#[test]
fn secrets_never_printed() {
    for (c, _f) in secret_configs() {
        let outputs = [
            render_toml(&c),
            format!("{c:?}"),
            format!("{c:#?}"),
            serde_json::to_string(&c).unwrap(),
            serde_json::to_string_pretty(&c).unwrap(),
        ];
        for out in &outputs {
            for secret in SECRETS {
                assert!(!out.contains(secret), "{secret} leaked in:\n{out}");
            }
            assert!(out.contains(MASK), "{out}");
        }
    }
    let s = Secret::new("hunter2-pass");
    assert_eq!(format!("{s} {s:?}"), "******** ********");
    assert_eq!(s.expose(), "hunter2-pass");
}

#[test]
fn render_toml_shows_values_and_sources() {
    let (c, f) = secret_configs().into_iter().next().unwrap();
    let out = render_toml(&c);
    let file_src = format!("# file {}", f.path.display());
    let line = |prefix: &str| {
        out.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in:\n{out}"))
            .to_owned()
    };
    assert!(
        line("prometheus_url = \"http://localhost:9090\"").ends_with("# default"),
        "{out}"
    );
    assert!(line("username = \"alice\"").ends_with(&file_src), "{out}");
    assert!(
        line("password = \"********\"").ends_with(&file_src),
        "{out}"
    );
    assert!(line("timeout = \"30s\"").ends_with("# default"), "{out}");
    assert!(line("X-Extra = \"1\"").ends_with(&file_src), "{out}");
    assert!(line("X-Api-Key = \"********\"").contains("# file"), "{out}");
    assert!(out.contains("# tenant: not set"), "{out}");
    assert!(
        out.contains("# service_label: not set, trying \"service\", \"service_name\", \"job\""),
        "{out}"
    );
    assert!(out.contains("max_candidates = 500"), "{out}");

    let env = env_of(&[("OBS_TIMEOUT", "1m30s")]);
    let o = Overrides {
        candidates: vec!["up".into()],
        ..Overrides::default()
    };
    let c = load(None, &o, &env).unwrap();
    let out = render_toml(&c);
    assert!(
        out.contains("# obs configuration, context \"default\", no config file"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("timeout = \"1m30s\"") && l.ends_with("# env OBS_TIMEOUT")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("    \"up\",") && l.ends_with("# flag --candidate")),
        "{out}"
    );
}

#[test]
fn trace_and_log_backends_layer_with_their_own_overrides() {
    let f = file(
        r#"
[contexts.default]
prometheus_url = "http://prom:9090"
tempo_url = "http://tempo:3200/"
loki_url = "http://loki-from-file:3100"
tenant = "shared"
username = "shared-user"
password = "shared-pass"
trace_match = "line"
log_selector = '{job="shop"}'

[contexts.default.loki]
tenant = "logs-tenant"
username = "123456"
password = "loki-SECRET"
headers = { "X-Logs" = "1" }
"#,
    );
    let c = load_file(&f, &Overrides::default(), &no_env).unwrap();
    assert_eq!(c.prometheus.tenant.as_deref(), Some("shared"));
    let tempo = c.tempo.as_ref().unwrap();
    assert_eq!(tempo.url, "http://tempo:3200");
    assert_eq!(tempo.tenant.as_deref(), Some("shared"));
    let loki = c.loki.as_ref().unwrap();
    assert_eq!(loki.url, "http://loki-from-file:3100");
    assert_eq!(loki.tenant.as_deref(), Some("logs-tenant"));
    assert!(matches!(&loki.auth, Some(Auth::Basic { username, .. }) if username == "123456"));
    assert!(loki.headers.contains_key("X-Logs"));
    assert!(!c.prometheus.headers.contains_key("X-Logs"));
    assert_eq!(c.trace_match, TraceMatch::Line);
    assert_eq!(c.log_selector.as_deref(), Some(r#"{job="shop"}"#));
    assert_eq!(c.jaeger, None);
    assert_eq!(c.traces().map(|(k, _)| k), Some(TraceBackend::Tempo));

    // logcli's variables beat the file, and OBS_LOKI_URL beats LOKI_ADDR.
    let env = env_of(&[
        ("LOKI_ADDR", "http://loki-addr:3100"),
        ("LOKI_ORG_ID", "org-from-env"),
        ("LOKI_BEARER_TOKEN", "tok-SECRET"),
    ]);
    let c = load_file(&f, &Overrides::default(), &env).unwrap();
    let loki = c.loki.as_ref().unwrap();
    assert_eq!(loki.url, "http://loki-addr:3100");
    assert_eq!(loki.tenant.as_deref(), Some("org-from-env"));
    assert!(matches!(loki.auth, Some(Auth::Bearer { .. })));
    assert_eq!(c.source("loki.tenant"), Some(&Source::Env("LOKI_ORG_ID")));
    // Prometheus is untouched by Loki's variables.
    assert_eq!(c.prometheus.tenant.as_deref(), Some("shared"));
    let env = env_of(&[("LOKI_ADDR", "http://a:1"), ("OBS_LOKI_URL", "http://b:2")]);
    assert_eq!(
        load_file(&f, &Overrides::default(), &env)
            .unwrap()
            .loki
            .unwrap()
            .url,
        "http://b:2"
    );
    // A flag beats every layer.
    let o = Overrides {
        tenant: Some("flag-tenant".into()),
        ..Overrides::default()
    };
    let c = load_file(&f, &o, &env_of(&[("LOKI_ORG_ID", "x")])).unwrap();
    assert_eq!(c.loki.unwrap().tenant.as_deref(), Some("flag-tenant"));

    // Secrets stay masked, the per-backend table is shown with its sources.
    let c = load_file(
        &f,
        &Overrides::default(),
        &env_of(&[("LOKI_PASSWORD", "pw-SECRET")]),
    )
    .unwrap();
    let text = render_toml(&c);
    let json = serde_json::to_string(&c).unwrap();
    for out in [&text, &json, &format!("{c:?}")] {
        assert!(!out.contains("SECRET"), "{out}");
        assert!(!out.contains("shared-pass"), "{out}");
    }
    assert!(text.contains("[loki]"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("password = \"********\"")
                && l.ends_with("# env LOKI_PASSWORD")),
        "{text}"
    );
    assert!(text.contains("tempo_url = \"http://tempo:3200\""), "{text}");
    assert!(text.contains("# jaeger_url: not set"), "{text}");
}

#[test]
fn jaeger_wins_only_from_a_higher_layer() {
    let f = file(
        "[contexts.default]\ntempo_url = \"http://t:3200\"\njaeger_url = \"http://j:16686\"\n",
    );
    let c = load_file(&f, &Overrides::default(), &no_env).unwrap();
    assert_eq!(c.traces().map(|(k, _)| k), Some(TraceBackend::Tempo));
    let o = Overrides {
        jaeger_url: Some("http://j2:16686".into()),
        ..Overrides::default()
    };
    let c = load_file(&f, &o, &no_env).unwrap();
    let (kind, http) = c.traces().unwrap();
    assert_eq!(
        (kind, http.url.as_str()),
        (TraceBackend::Jaeger, "http://j2:16686")
    );
    let bad = file("[contexts.default]\ntrace_match = \"grep\"\n");
    let err = load_file(&bad, &Overrides::default(), &no_env)
        .unwrap_err()
        .to_string();
    assert!(err.contains("trace_match \"grep\""), "{err}");
    assert!(err.contains("auto, label, metadata or line"), "{err}");
    let bad = file("[contexts.default.loki]\nurl = \"http://x\"\n");
    let err = load_file(&bad, &Overrides::default(), &no_env)
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown field `url`"), "{err}");
}

#[test]
fn json_shape() {
    let env = env_of(&[("OBS_BEARER_TOKEN", "tok-abc-123")]);
    let c = load(None, &Overrides::default(), &env).unwrap();
    let v: serde_json::Value = serde_json::to_value(&c).unwrap();
    assert_eq!(v["prometheus"]["url"], "http://localhost:9090");
    assert_eq!(v["prometheus"]["timeout"], "30s");
    assert_eq!(v["prometheus"]["auth"]["type"], "bearer");
    assert_eq!(v["prometheus"]["auth"]["token"], MASK);
    assert_eq!(v["scrape_interval"], "15s");
    assert_eq!(v["sources"]["bearer_token"], "env OBS_BEARER_TOKEN");
    assert_eq!(v["sources"]["timeout"], "default");
}
