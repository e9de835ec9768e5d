//! Flight SQL users: an htpasswd file of bcrypt hashes, checked at each client's handshake.
//!
//! The file is what `htpasswd -B` writes: one `user:hash` line per user, the hash bcrypt's
//! (`$2y$`, `$2b$` or `$2a$`); blank lines and `#` comments are skipped. Any other hash scheme
//! (MD5 `$apr1$`, SHA `{SHA}`, crypt, plain text) is refused when the file is read, with the line
//! that holds it. A client authenticates with HTTP Basic credentials in the Flight handshake (what
//! ADBC, JDBC and arrow-flight clients send for a user name and password); Ballista's frontend
//! then gives it a bearer token bound to a session of its own. A token unused for 30 minutes
//! expires (Ballista's session time-to-live), and the client must handshake again.
//!
//! Wrong passwords, unknown users and missing credentials are all refused with gRPC
//! `Unauthenticated` and logged with the user name and the client's address, never the password.

use std::collections::HashMap;
use std::path::Path;

use async_trait::async_trait;
use ballista_flight_sql::{Authenticator, Identity};
use base64::Engine;
use tonic::Status;
use tonic::metadata::MetadataMap;

/// A bcrypt hash of a password nobody has, verified for unknown users so that they take as long
/// to refuse as a wrong password.
const NOBODY_HASH: &str = "$2y$05$TqzDXCb6n0Hyr/oCmjgLBeCDrLXnJmeC.OzRLdcFTfu7fVsBTJqsW";

/// The users allowed to query over Flight SQL, from an htpasswd file.
#[derive(Clone)]
pub struct HtpasswdUsers {
    hashes: HashMap<String, String>,
}

impl std::fmt::Debug for HtpasswdUsers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // user names only: the hashes stay out of logs
        let mut users: Vec<&String> = self.hashes.keys().collect();
        users.sort();
        f.debug_struct("HtpasswdUsers")
            .field("users", &users)
            .finish()
    }
}

/// Why a users file cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct UsersFileError {
    /// The file.
    pub path: String,
    /// What is wrong, with the line number where there is one.
    pub message: String,
}

impl HtpasswdUsers {
    /// Reads `path`.
    pub fn from_file(path: &Path) -> Result<Self, UsersFileError> {
        let fail = |message: String| UsersFileError {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        Self::parse(&text).map_err(fail)
    }

    /// Parses the text of an htpasswd file.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut hashes = HashMap::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = || format!("line {}", number + 1);
            let (user, hash) = line
                .split_once(':')
                .ok_or_else(|| format!("{}: not `user:hash`", at()))?;
            if user.is_empty() {
                return Err(format!("{}: empty user name", at()));
            }
            let bcrypt = ["$2y$", "$2b$", "$2a$"]
                .iter()
                .any(|prefix| hash.starts_with(prefix));
            if !bcrypt {
                return Err(format!(
                    "{}: user '{user}' has no bcrypt hash (write the file with `htpasswd -B`)",
                    at()
                ));
            }
            if hashes.insert(user.to_string(), hash.to_string()).is_some() {
                return Err(format!("{}: user '{user}' appears twice", at()));
            }
        }
        if hashes.is_empty() {
            return Err("no user".into());
        }
        Ok(Self { hashes })
    }

    /// The number of users.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether there is no user (never true for a parsed file).
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// Whether `password` is `user`'s (false for an unknown user, after as long a check).
    pub fn verify(&self, user: &str, password: &str) -> bool {
        match self.hashes.get(user) {
            Some(hash) => bcrypt::verify(password, hash).unwrap_or(false),
            None => {
                let _ = bcrypt::verify(password, NOBODY_HASH);
                false
            }
        }
    }
}

/// The user name and password of an `authorization: Basic ...` header.
fn basic_credentials(headers: &MetadataMap) -> Option<(String, String)> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    // with or without `=` padding: Go's Flight client (under ADBC) sends it unpadded
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let decoded = engine.decode(encoded.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

#[async_trait]
impl Authenticator for HtpasswdUsers {
    async fn authenticate(&self, headers: &MetadataMap) -> Result<Identity, Status> {
        let Some((user, password)) = basic_credentials(headers) else {
            let keys: Vec<String> = headers
                .keys()
                .map(|key| match key {
                    tonic::metadata::KeyRef::Ascii(key) => key.as_str().to_string(),
                    tonic::metadata::KeyRef::Binary(key) => key.as_str().to_string(),
                })
                .collect();
            tracing::warn!(
                headers = ?keys,"Flight SQL handshake refused: no Basic user name and password");
            return Err(Status::unauthenticated(
                "Flight SQL needs a user name and password (HTTP Basic in the handshake)",
            ));
        };
        let users = self.clone();
        let checked_user = user.clone();
        // bcrypt takes milliseconds of CPU on purpose: off the async workers
        let valid = tokio::task::spawn_blocking(move || users.verify(&checked_user, &password))
            .await
            .unwrap_or(false);
        if valid {
            tracing::info!(%user, "Flight SQL client authenticated");
            Ok(Identity::user(user))
        } else {
            tracing::warn!(%user, "Flight SQL handshake refused: unknown user or wrong password");
            Err(Status::unauthenticated("invalid user name or password"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user: &str, password: &str) -> MetadataMap {
        let mut headers = MetadataMap::new();
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        headers.insert("authorization", format!("Basic {encoded}").parse().unwrap());
        headers
    }

    fn users() -> HtpasswdUsers {
        let hash = bcrypt::hash("s3cret", 4)
            .unwrap()
            .replacen("$2b$", "$2y$", 1);
        HtpasswdUsers::parse(&format!("# BI users\n\nanalyst:{hash}\n")).unwrap()
    }

    #[tokio::test]
    async fn the_right_password_authenticates_and_nothing_else_does() {
        let users = users();
        assert_eq!(users.len(), 1);
        let identity = users
            .authenticate(&basic("analyst", "s3cret"))
            .await
            .unwrap();
        assert_eq!(identity, Identity::user("analyst"));
        for headers in [
            basic("analyst", "wrong"),
            basic("nobody", "s3cret"),
            MetadataMap::new(),
        ] {
            let status = users.authenticate(&headers).await.expect_err("refused");
            assert_eq!(status.code(), tonic::Code::Unauthenticated);
            assert!(!status.message().contains("s3cret"));
        }
        let mut bearer = MetadataMap::new();
        bearer.insert("authorization", "Bearer abc".parse().unwrap());
        assert!(users.authenticate(&bearer).await.is_err());
        assert!(!format!("{users:?}").contains("$2"), "{users:?}");
    }

    #[test]
    fn only_bcrypt_htpasswd_files_are_read() {
        for (text, expected) in [
            (
                "analyst:$apr1$abc$def\n",
                "line 1: user 'analyst' has no bcrypt hash",
            ),
            (
                "analyst:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n",
                "no bcrypt hash",
            ),
            ("# only a comment\n", "no user"),
            ("analyst\n", "line 1: not `user:hash`"),
            (":$2y$05$x\n", "empty user name"),
            ("a:$2y$05$x\na:$2y$05$y\n", "line 2: user 'a' appears twice"),
        ] {
            let err = HtpasswdUsers::parse(text).expect_err(text);
            assert!(err.contains(expected), "{text}: {err}");
        }
    }
}
