//! Backend connections: auth layered as a unit, headers, CA files, per-backend overrides.

use super::*;

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
fn grafana_url_and_datasource_uids_for_explore_links() {
    let f = file(
        r#"
[contexts.default]
grafana_url = "https://grafana.example.com/"
grafana_prometheus_uid = "prom-uid"
grafana_loki_uid = "loki-uid"
"#,
    );
    let c = load_file(&f, &Overrides::default(), &no_env).unwrap();
    let g = c.grafana.as_ref().expect("grafana is configured");
    assert_eq!(g.url, "https://grafana.example.com");
    assert_eq!(g.prometheus_uid.as_deref(), Some("prom-uid"));
    assert_eq!(g.traces_uid, None);
    assert_eq!(g.loki_uid.as_deref(), Some("loki-uid"));
    assert!(
        crate::config::render_toml(&c).contains("grafana_url = \"https://grafana.example.com\"")
    );
    // OBS_GRAFANA_URL beats the file, and is validated like every URL.
    let env = env_of(&[("OBS_GRAFANA_URL", "http://g:3000")]);
    let c = load_file(&f, &Overrides::default(), &env).unwrap();
    assert_eq!(c.grafana.unwrap().url, "http://g:3000");
    assert_eq!(
        c.sources.get("grafana_url"),
        Some(&Source::Env("OBS_GRAFANA_URL"))
    );
    let env = env_of(&[("OBS_GRAFANA_URL", "grafana:3000")]);
    let err = load_file(&f, &Overrides::default(), &env)
        .unwrap_err()
        .to_string();
    assert!(err.contains("grafana_url"), "{err}");
    // Not set: no links.
    let c = load_file(
        &file("[contexts.default]\n"),
        &Overrides::default(),
        &no_env,
    )
    .unwrap();
    assert_eq!(c.grafana, None);
}
