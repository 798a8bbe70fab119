//! One backend's connection settings (URL, tenant, auth, headers, CA, timeout), layered flags >
//! env > file, where within one layer the backend's own setting (`[contexts.NAME.loki]`,
//! `LOKI_ORG_ID`) beats the context's shared one. Auth is layered as a unit.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::error::ConfigError;
use super::file::FileBackend;
use super::layer::{Resolver, env_get, nonempty};
use super::secrets::{MaybeSecret, Secret};
use super::validate::{invalid, is_header_value, is_token, parse_timeout, validate_url};
use super::{
    Auth, DEFAULT_TIMEOUT, ENV_BEARER_TOKEN, ENV_CA_FILE, ENV_LOKI_BEARER_TOKEN, ENV_LOKI_ORG_ID,
    ENV_LOKI_PASSWORD, ENV_LOKI_USERNAME, ENV_PASSWORD, ENV_TENANT, ENV_TIMEOUT, ENV_USERNAME,
    HttpSettings, Source, flag_name,
};

/// A backend whose connection settings can be overridden in a `[contexts.NAME.<backend>]`
/// table, and the environment variables that override them for it alone.
pub(super) struct BackendSpec {
    name: &'static str,
    tenant_env: Option<&'static str>,
    username_env: Option<&'static str>,
    password_env: Option<&'static str>,
    bearer_env: Option<&'static str>,
}

pub(super) const PROMETHEUS: BackendSpec = BackendSpec {
    name: "prometheus",
    tenant_env: None,
    username_env: None,
    password_env: None,
    bearer_env: None,
};
pub(super) const TEMPO: BackendSpec = BackendSpec {
    name: "tempo",
    ..PROMETHEUS
};
pub(super) const JAEGER: BackendSpec = BackendSpec {
    name: "jaeger",
    ..PROMETHEUS
};
pub(super) const LOKI: BackendSpec = BackendSpec {
    name: "loki",
    tenant_env: Some(ENV_LOKI_ORG_ID),
    username_env: Some(ENV_LOKI_USERNAME),
    password_env: Some(ENV_LOKI_PASSWORD),
    bearer_env: Some(ENV_LOKI_BEARER_TOKEN),
};

impl Resolver<'_> {
    /// A backend URL (`tempo_url`, `loki_url`, …): flag, then the env variables in order,
    /// then the file; `None` when the backend is not configured.
    pub(super) fn backend_url(
        &mut self,
        key: &'static str,
        flag: Option<&String>,
        env_vars: &[&'static str],
        file: Option<&String>,
    ) -> Result<Option<String>, ConfigError> {
        let hit = nonempty(flag)
            .map(|v| (v, Source::Flag(flag_name(key))))
            .or_else(|| env_vars.iter().find_map(|n| self.env(n)))
            .or_else(|| nonempty(file).map(|v| (v, self.file_source())));
        let Some((url, origin)) = hit else {
            return Ok(None);
        };
        self.sources.insert(key.to_owned(), origin.clone());
        validate_url(key, &url, &origin).map(Some)
    }

    /// One backend's connection settings. Each setting is layered flags > env > file, and
    /// within a layer the backend's own setting (`LOKI_ORG_ID`, `[contexts.X.loki]`) beats the
    /// context's shared one (`OBS_TENANT`, `tenant`). Provenance is recorded under the shared
    /// key (`tenant`) or the backend's (`loki.tenant`).
    pub(super) fn http_settings(
        &mut self,
        spec: &BackendSpec,
        url: String,
        table: Option<&FileBackend>,
    ) -> Result<HttpSettings, ConfigError> {
        let o = self.overrides;
        let c = self.ctx;
        let own = |k: &str| format!("{}.{k}", spec.name);
        let file = self.file_source();
        let env_pair = |name: Option<&'static str>| {
            name.and_then(|n| env_get(self.env, n).map(|v| (v.trim().to_owned(), Source::Env(n))))
        };
        let t = table;

        let tenant_candidates = [
            (
                nonempty(o.tenant.as_ref()).map(|v| (v, Source::Flag(flag_name("tenant")))),
                "tenant".to_owned(),
            ),
            (env_pair(spec.tenant_env), own("tenant")),
            (env_pair(Some(ENV_TENANT)), "tenant".to_owned()),
            (
                nonempty(t.and_then(|t| t.tenant.as_ref())).map(|v| (v, file.clone())),
                own("tenant"),
            ),
            (
                nonempty(c.tenant.as_ref()).map(|v| (v, file.clone())),
                "tenant".to_owned(),
            ),
        ];
        let tenant = match tenant_candidates
            .into_iter()
            .find_map(|(hit, key)| hit.map(|(v, s)| (v, s, key)))
        {
            Some((t, origin, key)) => {
                if !is_header_value(&t) {
                    return Err(invalid(
                        &key,
                        &origin,
                        Some(&t),
                        "it may only contain visible ASCII characters and spaces",
                    ));
                }
                self.sources.insert(key, origin);
                Some(t)
            }
            None => None,
        };

        let auth = self.auth(spec, table)?;
        let headers = self.headers(spec, table)?;
        // Headers must not duplicate what a dedicated setting sends.
        let auth_setting = auth.as_ref().map(|a| match a {
            Auth::Basic { .. } => "username",
            Auth::Bearer { .. } => "bearer_token",
        });
        let dedicated = [
            ("authorization", auth_setting),
            ("x-scope-orgid", tenant.as_ref().map(|_| "tenant")),
        ];
        for (header, setting) in dedicated {
            let Some(setting) = setting else { continue };
            if let Some(name) = headers.keys().find(|n| n.eq_ignore_ascii_case(header)) {
                let setting_origin = self
                    .sources
                    .get(&own(setting))
                    .or_else(|| self.sources.get(setting))
                    .cloned()
                    .unwrap_or(Source::Default);
                return Err(ConfigError::HeaderConflict {
                    header: name.clone(),
                    origin: self.file_source(),
                    setting,
                    setting_origin,
                });
            }
        }

        let ca_file = self.ca_file(spec, table)?;
        let table_timeout = nonempty(t.and_then(|t| t.timeout.as_ref()));
        let timeout = match (&o.timeout, env_get(self.env, ENV_TIMEOUT), &table_timeout) {
            (None, None, Some(v)) => {
                let key = own("timeout");
                let origin = file.clone();
                self.sources.insert(key.clone(), origin.clone());
                parse_timeout(&key, v, &origin)?
            }
            _ => self.duration(
                "timeout",
                o.timeout.as_ref(),
                Some(ENV_TIMEOUT),
                c.timeout.as_ref(),
                DEFAULT_TIMEOUT,
            )?,
        };
        Ok(HttpSettings {
            url,
            tenant,
            auth,
            headers,
            ca_file,
            timeout,
        })
    }

    pub(super) fn auth(
        &mut self,
        spec: &BackendSpec,
        table: Option<&FileBackend>,
    ) -> Result<Option<Auth>, ConfigError> {
        let o = self.overrides;
        let c = self.ctx;
        let file = self.file_source();
        let own = |k: &str| format!("{}.{k}", spec.name);
        let shared = |k: &str| k.to_owned();
        let env_hit = |name: Option<&'static str>, trim: bool| {
            name.and_then(|n| {
                env_get(self.env, n).map(|v| {
                    let v = if trim { v.trim().to_owned() } else { v };
                    (v, Source::Env(n))
                })
            })
        };
        let file_hit = |v: Option<&String>, trim: bool| {
            let v = if trim {
                nonempty(v)
            } else {
                v.cloned().filter(|p| !p.is_empty())
            };
            v.map(|v| (v, file.clone()))
        };
        type Hit = Option<(String, Source, String)>;
        let with =
            |hit: Option<(String, Source)>, key: String| -> Hit { hit.map(|(v, s)| (v, s, key)) };
        // Per layer, highest first: (username, password, bearer_token).
        let layers: Vec<[Hit; 3]> = vec![
            [
                with(
                    nonempty(o.username.as_ref()).map(|v| (v, Source::Flag(flag_name("username")))),
                    shared("username"),
                ),
                None,
                None,
            ],
            [
                with(env_hit(spec.username_env, true), own("username")),
                with(env_hit(spec.password_env, false), own("password")),
                with(env_hit(spec.bearer_env, true), own("bearer_token")),
            ],
            [
                with(env_hit(Some(ENV_USERNAME), true), shared("username")),
                with(env_hit(Some(ENV_PASSWORD), false), shared("password")),
                with(
                    env_hit(Some(ENV_BEARER_TOKEN), true),
                    shared("bearer_token"),
                ),
            ],
            [
                with(
                    file_hit(table.and_then(|t| t.username.as_ref()), true),
                    own("username"),
                ),
                with(
                    file_hit(table.and_then(|t| t.password.as_ref()), false),
                    own("password"),
                ),
                with(
                    file_hit(table.and_then(|t| t.bearer_token.as_ref()), true),
                    own("bearer_token"),
                ),
            ],
            [
                with(file_hit(c.username.as_ref(), true), shared("username")),
                with(file_hit(c.password.as_ref(), false), shared("password")),
                with(
                    file_hit(c.bearer_token.as_ref(), true),
                    shared("bearer_token"),
                ),
            ],
        ];
        let Some(top) = layers.iter().find(|l| l.iter().any(Option::is_some)) else {
            return Ok(None);
        };
        let first = |i: usize| layers.iter().find_map(|l| l[i].clone());
        match top {
            [_, _, Some((_, bearer, _))] if top[0].is_some() || top[1].is_some() => {
                let basic = top[0]
                    .as_ref()
                    .or(top[1].as_ref())
                    .map(|(_, s, _)| s.clone())
                    .unwrap_or(Source::Default);
                Err(ConfigError::AuthConflict {
                    basic,
                    bearer: bearer.clone(),
                })
            }
            [_, _, Some((token, origin, key))] => {
                let token = token.trim();
                if !is_header_value(token) {
                    return Err(invalid(
                        key,
                        origin,
                        None,
                        "it may only contain visible ASCII characters; check for stray \
                         quotes or line breaks",
                    ));
                }
                self.sources.insert(key.clone(), origin.clone());
                Ok(Some(Auth::Bearer {
                    token: Secret::new(token),
                }))
            }
            _ => match (first(0), first(1)) {
                (Some((username, u_origin, u_key)), Some((password, p_origin, p_key))) => {
                    if username.contains(':') || !is_header_value(&username) {
                        return Err(invalid(
                            &u_key,
                            &u_origin,
                            Some(&username),
                            "it may not contain ':' or control characters",
                        ));
                    }
                    self.sources.insert(u_key, u_origin);
                    self.sources.insert(p_key, p_origin);
                    Ok(Some(Auth::Basic {
                        username,
                        password: Secret::new(password),
                    }))
                }
                (Some((_, origin, _)), None) => Err(ConfigError::IncompleteBasicAuth {
                    set: "username",
                    origin,
                    missing: "password",
                }),
                (None, Some((_, origin, _))) => Err(ConfigError::IncompleteBasicAuth {
                    set: "password",
                    origin,
                    missing: "username",
                }),
                (None, None) => Ok(None),
            },
        }
    }

    /// The context's headers, then the backend table's (which replace same-named ones).
    pub(super) fn headers(
        &mut self,
        spec: &BackendSpec,
        table: Option<&FileBackend>,
    ) -> Result<BTreeMap<String, MaybeSecret>, ConfigError> {
        let mut out: BTreeMap<String, MaybeSecret> = BTreeMap::new();
        let origin = self.file_source();
        let layers = [
            (self.ctx.headers.as_ref(), String::new()),
            (
                table.and_then(|t| t.headers.as_ref()),
                format!("{}.", spec.name),
            ),
        ];
        for (headers, prefix) in layers {
            let Some(headers) = headers else { continue };
            let mut seen: Vec<&String> = Vec::new();
            for (name, value) in headers {
                let key = format!("{prefix}headers.{name}");
                if !is_token(name) {
                    return Err(invalid(
                        &key,
                        &origin,
                        None,
                        format!("{name:?} is not a valid HTTP header name"),
                    ));
                }
                if seen.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                    return Err(invalid(
                        &key,
                        &origin,
                        None,
                        "the header is set twice (names are case-insensitive); keep one",
                    ));
                }
                seen.push(name);
                let value = MaybeSecret::for_header(name, value.trim().to_owned());
                if !is_header_value(value.expose()) {
                    let shown = (!value.is_secret()).then(|| value.expose());
                    return Err(invalid(
                        &key,
                        &origin,
                        shown,
                        "header values may only contain visible ASCII characters and spaces",
                    ));
                }
                out.retain(|n, _| !n.eq_ignore_ascii_case(name));
                self.sources.insert(key, origin.clone());
                out.insert(name.clone(), value);
            }
        }
        Ok(out)
    }

    pub(super) fn ca_file(
        &mut self,
        spec: &BackendSpec,
        table: Option<&FileBackend>,
    ) -> Result<Option<PathBuf>, ConfigError> {
        let flag = self
            .overrides
            .ca_file
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned());
        let from_table = nonempty(table.and_then(|t| t.ca_file.as_ref()));
        let hit = match (&flag, env_get(self.env, ENV_CA_FILE), from_table) {
            (None, None, Some(path)) => {
                let key = format!("{}.ca_file", spec.name);
                let origin = self.file_source();
                self.sources.insert(key.clone(), origin.clone());
                Some((path, origin, key))
            }
            _ => self
                .pick(
                    "ca_file",
                    flag.as_ref(),
                    Some(ENV_CA_FILE),
                    self.ctx.ca_file.as_ref(),
                )
                .map(|(p, o)| (p, o, "ca_file".to_owned())),
        };
        let Some((path, origin, key)) = hit else {
            return Ok(None);
        };
        let mut path = PathBuf::from(path);
        // Relative paths in the file are relative to the file's folder.
        let base = match &origin {
            Source::File(file) if path.is_relative() => file.parent(),
            _ => None,
        };
        if let Some(dir) = base {
            path = dir.join(path);
        }
        if !path.is_file() {
            return Err(invalid(
                &key,
                &origin,
                Some(&path.display().to_string()),
                "no such file; give the path to a PEM CA bundle",
            ));
        }
        Ok(Some(path))
    }
}
