//! What `obs config` prints: values with their origin, never a secret.

use super::*;

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
