//! The object stores of the lake, the same in every medallion process (client, scheduler and
//! executors), so a lake URL means the same files everywhere.
//!
//! [`LakeStores`] is a DataFusion [`ObjectStoreRegistry`] that builds a store the first time a URL
//! of a bucket or namenode is used and keeps it for the life of the process:
//!
//! - `file:///path` (and plain paths) — the local file system;
//! - `s3://bucket/prefix` (also `s3a://`) — object_store's Amazon S3 client, configured from the
//!   environment ([`S3Settings::from_env`]): `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//!   `AWS_SESSION_TOKEN`, `AWS_REGION`, `AWS_ENDPOINT_URL` or `MEDALLION_S3_ENDPOINT` for an
//!   S3-compatible server (path-style requests, plain HTTP allowed for an `http://` endpoint);
//! - `hdfs://namenode:port/path` (also `viewfs://`) — hdfs-native; a host without a port is a
//!   name service resolved from `HADOOP_CONF_DIR` / `HADOOP_HOME`.
//!
//! Credentials never appear in logs: [`S3Settings`] masks them in `Debug` and `Display`, and
//! [`mask_url`] hides a URL's password.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::object_store::ObjectStoreRegistry;
use hdfs_native_object_store::HdfsObjectStoreBuilder;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::{BackoffConfig, ClientConfigKey, ObjectStore, RetryConfig};
use url::Url;

use crate::error::Error;

/// The environment variable naming an S3-compatible endpoint; it wins over `AWS_ENDPOINT_URL`.
pub const S3_ENDPOINT_ENV: &str = "MEDALLION_S3_ENDPOINT";

/// How medallion reaches S3: everything the environment says, with secrets masked when shown.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct S3Settings {
    /// An S3-compatible endpoint (`http://minio:9000`); `None` for AWS itself.
    pub endpoint: Option<String>,
    /// The region (`AWS_REGION`, else `AWS_DEFAULT_REGION`).
    pub region: Option<String>,
    /// The access key id.
    pub access_key_id: Option<String>,
    /// The secret access key.
    pub secret_access_key: Option<String>,
    /// A session token for temporary credentials.
    pub session_token: Option<String>,
    /// `bucket.host` requests instead of `host/bucket`; off by default for a custom endpoint.
    pub virtual_hosted_style: Option<bool>,
    /// Plain HTTP to the endpoint (`AWS_ALLOW_HTTP`, or implied by an `http://` endpoint).
    pub allow_http: bool,
}

impl S3Settings {
    /// The settings from the process environment.
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// The settings from `var`, a lookup of environment variables (tests pass a map).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let endpoint = var(S3_ENDPOINT_ENV)
            .or_else(|| var("AWS_ENDPOINT_URL_S3"))
            .or_else(|| var("AWS_ENDPOINT_URL"))
            .or_else(|| var("AWS_ENDPOINT"));
        let truthy = |v: Option<String>| {
            v.map(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
        };
        let allow_http = truthy(var("AWS_ALLOW_HTTP")).unwrap_or(false)
            || endpoint
                .as_deref()
                .is_some_and(|e| e.starts_with("http://"));
        Self {
            region: var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")),
            access_key_id: var("AWS_ACCESS_KEY_ID"),
            secret_access_key: var("AWS_SECRET_ACCESS_KEY"),
            session_token: var("AWS_SESSION_TOKEN"),
            virtual_hosted_style: truthy(var("AWS_VIRTUAL_HOSTED_STYLE_REQUEST")),
            allow_http,
            endpoint,
        }
    }

    /// An S3 client builder for `bucket`: object_store's environment defaults (credential chain,
    /// container and web-identity credentials) overridden by these settings, with bounded retries
    /// so an unreachable endpoint fails in seconds rather than minutes.
    pub fn builder(&self, bucket: &str) -> AmazonS3Builder {
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: 3,
                retry_timeout: Duration::from_secs(60),
            })
            .with_config(
                object_store::aws::AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout),
                "5s",
            );
        if let Some(endpoint) = &self.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_virtual_hosted_style_request(self.virtual_hosted_style.unwrap_or(false));
        } else if let Some(virtual_hosted) = self.virtual_hosted_style {
            builder = builder.with_virtual_hosted_style_request(virtual_hosted);
        }
        if let Some(region) = &self.region {
            builder = builder.with_region(region);
        }
        if let (Some(key), Some(secret)) = (&self.access_key_id, &self.secret_access_key) {
            builder = builder
                .with_access_key_id(key)
                .with_secret_access_key(secret);
            if let Some(token) = &self.session_token {
                builder = builder.with_token(token);
            }
        }
        builder.with_allow_http(self.allow_http)
    }
}

/// `AKIA…` → `AKIA****`; a secret → `****`.
fn mask_key(key: &str) -> String {
    let visible: String = key.chars().take(4).collect();
    format!("{visible}****")
}

impl fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint.as_deref().map(mask_url))
            .field("region", &self.region)
            .field(
                "access_key_id",
                &self.access_key_id.as_deref().map(mask_key),
            )
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "****"),
            )
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "****"),
            )
            .field("virtual_hosted_style", &self.virtual_hosted_style)
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

impl fmt::Display for S3Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "endpoint {}, region {}, access key {}",
            self.endpoint.as_deref().map_or("AWS".to_string(), mask_url),
            self.region.as_deref().unwrap_or("default"),
            self.access_key_id
                .as_deref()
                .map_or("from the credential chain".to_string(), mask_key)
        )
    }
}

/// `url` with its password (if any) replaced by `***`; anything unparsable is returned as is.
pub fn mask_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

/// The kind of store behind a URL scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// The local file system (`file://`, or no scheme).
    Local,
    /// Amazon S3 or an S3-compatible server (`s3://`, `s3a://`).
    S3,
    /// HDFS (`hdfs://`, `viewfs://`).
    Hdfs,
}

impl StoreKind {
    /// The kind of store for `scheme`, or `None` for a scheme medallion cannot read.
    pub fn of_scheme(scheme: &str) -> Option<Self> {
        match scheme {
            "" | "file" => Some(StoreKind::Local),
            "s3" | "s3a" => Some(StoreKind::S3),
            "hdfs" | "viewfs" => Some(StoreKind::Hdfs),
            _ => None,
        }
    }

    /// How an error message names the store (`S3`, `HDFS`, `local file system`).
    pub fn name(self) -> &'static str {
        match self {
            StoreKind::Local => "local file system",
            StoreKind::S3 => "S3",
            StoreKind::Hdfs => "HDFS",
        }
    }
}

/// The registry key of `url`: scheme, host and port (`s3://bucket`, `hdfs://nn:8020`), without
/// credentials or path — one store per bucket or namenode.
pub fn store_key(url: &Url) -> String {
    format!(
        "{}://{}",
        url.scheme(),
        &url[url::Position::BeforeHost..url::Position::AfterPort]
    )
}

/// The object store registry of every medallion runtime: local files, plus S3 buckets and HDFS
/// namenodes built on first use and cached.
pub struct LakeStores {
    local: Arc<LocalFileSystem>,
    s3: S3Settings,
    stores: RwLock<HashMap<String, Arc<dyn ObjectStore>>>,
}

impl fmt::Debug for LakeStores {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<String> = self
            .stores
            .read()
            .map(|stores| stores.keys().cloned().collect())
            .unwrap_or_default();
        f.debug_struct("LakeStores")
            .field("s3", &self.s3)
            .field("stores", &keys)
            .finish()
    }
}

impl LakeStores {
    /// A registry that configures S3 stores with `s3`.
    pub fn new(s3: S3Settings) -> Self {
        Self {
            local: Arc::new(LocalFileSystem::new()),
            s3,
            stores: RwLock::new(HashMap::new()),
        }
    }

    /// A registry configured from the process environment.
    pub fn from_env() -> Self {
        Self::new(S3Settings::from_env())
    }

    /// The S3 settings in use.
    pub fn s3_settings(&self) -> &S3Settings {
        &self.s3
    }

    /// The keys of the stores built or registered so far.
    pub fn cached_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .stores
            .read()
            .map(|stores| stores.keys().cloned().collect())
            .unwrap_or_default();
        keys.sort();
        keys
    }

    fn build(&self, kind: StoreKind, url: &Url) -> DfResult<Arc<dyn ObjectStore>> {
        match kind {
            StoreKind::Local => Ok(self.local.clone()),
            StoreKind::S3 => {
                let bucket = url.host_str().filter(|b| !b.is_empty()).ok_or_else(|| {
                    DataFusionError::Configuration(format!(
                        "{}: an S3 URL names a bucket (s3://bucket/prefix)",
                        mask_url(url.as_str())
                    ))
                })?;
                tracing::debug!(bucket, settings = %self.s3, "building the S3 store");
                let store = self.s3.builder(bucket).build().map_err(|e| {
                    DataFusionError::Configuration(format!("S3 bucket '{bucket}': {e}"))
                })?;
                Ok(Arc::new(store))
            }
            StoreKind::Hdfs => {
                let key = store_key(url);
                tracing::debug!(namenode = %key, "building the HDFS store");
                let store = HdfsObjectStoreBuilder::new()
                    .with_url(key.as_str())
                    .build()
                    .map_err(|e| DataFusionError::Configuration(format!("HDFS {key}: {e}")))?;
                Ok(Arc::new(store))
            }
        }
    }
}

impl ObjectStoreRegistry for LakeStores {
    fn register_store(
        &self,
        url: &Url,
        store: Arc<dyn ObjectStore>,
    ) -> Option<Arc<dyn ObjectStore>> {
        match self.stores.write() {
            Ok(mut stores) => stores.insert(store_key(url), store),
            Err(poisoned) => poisoned.into_inner().insert(store_key(url), store),
        }
    }

    fn deregister_store(&self, url: &Url) -> DfResult<Arc<dyn ObjectStore>> {
        let removed = match self.stores.write() {
            Ok(mut stores) => stores.remove(&store_key(url)),
            Err(poisoned) => poisoned.into_inner().remove(&store_key(url)),
        };
        removed.ok_or_else(|| {
            DataFusionError::Execution(format!("no object store registered for {}", store_key(url)))
        })
    }

    fn get_store(&self, url: &Url) -> DfResult<Arc<dyn ObjectStore>> {
        let key = store_key(url);
        if let Some(store) = self.stores.read().ok().and_then(|s| s.get(&key).cloned()) {
            return Ok(store);
        }
        let kind = StoreKind::of_scheme(url.scheme()).ok_or_else(|| {
            DataFusionError::Configuration(format!(
                "unsupported storage scheme '{}://' in {} (use a local path, file://, s3://bucket/ or hdfs://namenode:port/)",
                url.scheme(),
                mask_url(url.as_str())
            ))
        })?;
        if kind == StoreKind::Local {
            return Ok(self.local.clone());
        }
        let mut stores = match self.stores.write() {
            Ok(stores) => stores,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(store) = stores.get(&key) {
            return Ok(store.clone());
        }
        let store = self.build(kind, url)?;
        stores.insert(key, store.clone());
        Ok(store)
    }
}

/// The process-wide registry, configured from the environment on first use; every runtime built by
/// [`crate::session`] shares it, so each bucket or namenode gets one client per process.
pub fn shared_stores() -> Arc<LakeStores> {
    static STORES: OnceLock<Arc<LakeStores>> = OnceLock::new();
    STORES
        .get_or_init(|| Arc::new(LakeStores::from_env()))
        .clone()
}

/// The first line of `message`, at most 300 characters.
fn short(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default();
    match line.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}

/// Turns an object store error met while reading lake table `table` at `url` into one clear
/// medallion error: a missing folder is [`Error::LakeNotFound`]; a missing bucket, refused
/// credentials or an unreachable endpoint is [`Error::Unreachable`] naming S3 or HDFS.
pub fn lake_error(table: &str, url: &str, error: &object_store::Error) -> Error {
    let location = mask_url(url);
    let kind = Url::parse(url)
        .ok()
        .and_then(|u| StoreKind::of_scheme(u.scheme()))
        .unwrap_or(StoreKind::Local);
    let bucket = Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let text = error.to_string();
    let unreachable = |message: String| Error::Unreachable {
        what: kind.name(),
        location: location.clone(),
        message,
    };
    match error {
        _ if kind == StoreKind::S3 && text.contains("NoSuchBucket") => {
            unreachable(format!("bucket '{bucket}' does not exist"))
        }
        object_store::Error::NotFound { .. } => Error::LakeNotFound {
            table: table.to_string(),
            location,
        },
        object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. } => unreachable(format!(
            "access denied{}: {}",
            if kind == StoreKind::S3 {
                " (check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)"
            } else {
                ""
            },
            short(&text)
        )),
        _ if kind == StoreKind::S3
            && (text.contains("InvalidAccessKeyId")
                || text.contains("SignatureDoesNotMatch")
                || text.contains("AccessDenied")) =>
        {
            unreachable(format!(
                "access denied (check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY): {}",
                short(&text)
            ))
        }
        // a local path is never "unreachable": a file where a folder should be, an unreadable
        // folder, ... is bad input (exit code 2)
        _ if kind == StoreKind::Local => Error::invalid(
            "lake URL",
            format!(
                "cannot read lake table '{table}' at {location}: {}",
                short(&text)
            ),
        ),
        _ => unreachable(short(&text)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn the_medallion_endpoint_wins_and_http_is_allowed_for_it() {
        let s3 = S3Settings::from_vars(vars(&[
            ("MEDALLION_S3_ENDPOINT", "http://minio:9000"),
            ("AWS_ENDPOINT_URL", "https://elsewhere"),
            ("AWS_DEFAULT_REGION", "eu-west-3"),
        ]));
        assert_eq!(s3.endpoint.as_deref(), Some("http://minio:9000"));
        assert!(s3.allow_http);
        assert_eq!(s3.region.as_deref(), Some("eu-west-3"));
        let aws = S3Settings::from_vars(vars(&[("AWS_ENDPOINT_URL", "https://s3.example")]));
        assert_eq!(aws.endpoint.as_deref(), Some("https://s3.example"));
        assert!(!aws.allow_http);
    }

    #[test]
    fn secrets_never_show() {
        let s3 = S3Settings::from_vars(vars(&[
            ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEY"),
            ("AWS_SECRET_ACCESS_KEY", "very-secret-value"),
            ("AWS_SESSION_TOKEN", "token-value"),
            ("MEDALLION_S3_ENDPOINT", "http://user:pw@minio:9000"),
        ]));
        for shown in [format!("{s3:?}"), s3.to_string()] {
            assert!(!shown.contains("very-secret-value"), "{shown}");
            assert!(!shown.contains("token-value"), "{shown}");
            assert!(!shown.contains("EXAMPLEKEY"), "{shown}");
            assert!(!shown.contains(":pw@"), "{shown}");
        }
        assert!(s3.to_string().contains("AKIA****"));
        assert_eq!(
            mask_url("mysql://u:secret@h:3306/db"),
            "mysql://u:***@h:3306/db"
        );
        assert_eq!(mask_url("s3://bucket/lake"), "s3://bucket/lake");
    }

    #[test]
    fn keys_are_one_per_bucket_or_namenode() {
        let key = |u: &str| store_key(&Url::parse(u).expect("url"));
        assert_eq!(key("s3://bucket/silver/accidents/"), "s3://bucket");
        assert_eq!(key("s3://user:pw@bucket/x"), "s3://bucket");
        assert_eq!(key("hdfs://namenode:8020/lake/x"), "hdfs://namenode:8020");
        assert_eq!(key("hdfs://nameservice1/lake"), "hdfs://nameservice1");
        assert_eq!(key("file:///tmp/lake"), "file://");
    }

    #[test]
    fn schemes_map_to_store_kinds() {
        assert_eq!(StoreKind::of_scheme("file"), Some(StoreKind::Local));
        assert_eq!(StoreKind::of_scheme("s3a"), Some(StoreKind::S3));
        assert_eq!(StoreKind::of_scheme("viewfs"), Some(StoreKind::Hdfs));
        assert_eq!(StoreKind::of_scheme("gs"), None);
    }

    #[tokio::test]
    async fn s3_and_hdfs_stores_are_built_once_per_bucket_and_namenode() {
        let stores = LakeStores::new(S3Settings {
            endpoint: Some("http://127.0.0.1:9".into()),
            region: Some("us-east-1".into()),
            access_key_id: Some("test".into()),
            secret_access_key: Some("test".into()),
            allow_http: true,
            ..S3Settings::default()
        });
        let get = |u: &str| stores.get_store(&Url::parse(u).expect("url")).expect(u);
        let a = get("s3://bucket-a/lake/accidents/");
        let a_again = get("s3://bucket-a/other/");
        let b = get("s3://bucket-b/lake/");
        assert!(Arc::ptr_eq(&a, &a_again));
        assert!(!Arc::ptr_eq(&a, &b));
        // hdfs-native connects lazily: building the store needs no namenode.
        let nn = get("hdfs://namenode.example:8020/lake/accidents/");
        let nn_again = get("hdfs://namenode.example:8020/elsewhere/");
        assert!(Arc::ptr_eq(&nn, &nn_again));
        assert_eq!(
            stores.cached_keys(),
            vec![
                "hdfs://namenode.example:8020".to_string(),
                "s3://bucket-a".to_string(),
                "s3://bucket-b".to_string()
            ]
        );
        get("file:///tmp/");
        assert_eq!(
            stores.cached_keys().len(),
            3,
            "local files need no cache entry"
        );
    }

    #[test]
    fn unknown_schemes_are_refused_with_the_url() {
        let stores = LakeStores::new(S3Settings::default());
        let err = stores
            .get_store(&Url::parse("gs://bucket/lake").expect("url"))
            .expect_err("gs is not supported");
        assert!(
            err.to_string()
                .contains("unsupported storage scheme 'gs://'")
        );
    }

    #[test]
    fn a_registered_store_is_returned_for_its_key() {
        let stores = LakeStores::new(S3Settings::default());
        let url = Url::parse("memory://scratch").expect("url");
        let memory: Arc<dyn ObjectStore> = Arc::new(object_store::memory::InMemory::new());
        assert!(stores.register_store(&url, memory.clone()).is_none());
        let found = stores.get_store(&url).expect("registered");
        assert!(Arc::ptr_eq(&found, &memory));
        assert!(stores.deregister_store(&url).is_ok());
        assert!(stores.get_store(&url).is_err());
    }

    #[test]
    fn store_errors_become_one_clear_line() {
        let not_found = object_store::Error::NotFound {
            path: "lake/accidents".into(),
            source: "404".into(),
        };
        let e = lake_error("accidents", "file:///nope/accidents/", &not_found);
        assert!(matches!(e, Error::LakeNotFound { .. }), "{e}");
        let no_bucket = object_store::Error::Generic {
            store: "S3",
            source: "Client error with status 404 Not Found: <Code>NoSuchBucket</Code>".into(),
        };
        let e = lake_error("accidents", "s3://missing/lake/accidents/", &no_bucket);
        assert_eq!(
            e.to_string(),
            "cannot reach S3 at s3://missing/lake/accidents/: bucket 'missing' does not exist"
        );
        assert_eq!(e.exit_code(), 3);
        let denied = object_store::Error::PermissionDenied {
            path: "lake".into(),
            source: "403 Forbidden\nmore".into(),
        };
        let e = lake_error("accidents", "s3://b/lake/accidents/", &denied);
        assert!(e.to_string().contains("access denied"), "{e}");
        assert!(!e.to_string().contains('\n'), "{e}");
    }
}
