//! The DuckDB file in S3. Downloads remember the object's ETag; an upload only replaces the
//! object if it still has that ETag (`If-Match`), or only creates it if there is none
//! (`If-None-Match: *`). A writer that lost the race gets [`S3Error::Conflict`] and its changes
//! are not written over the winner's.

use std::path::Path;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use thiserror::Error;

/// What S3 can fail with.
#[derive(Debug, Error)]
pub enum S3Error {
    /// The object changed (or appeared) since it was read: another writer won.
    #[error(
        "s3://{bucket}/{key} was changed by another writer since it was downloaded; this run's changes were not uploaded"
    )]
    Conflict {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
    },
    /// Any other S3 failure.
    #[error("S3 {action} of s3://{bucket}/{key} failed: {detail}")]
    Request {
        /// What was attempted.
        action: &'static str,
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// What S3 said.
        detail: String,
    },
    /// The local file could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was attempted.
        action: &'static str,
        /// Where.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

/// One object holding the database.
#[derive(Clone, Debug)]
pub struct DatabaseObject {
    client: Client,
    bucket: String,
    key: String,
}

impl DatabaseObject {
    /// `s3://bucket/key`.
    pub fn new(client: Client, bucket: impl Into<String>, key: impl Into<String>) -> Self {
        DatabaseObject {
            client,
            bucket: bucket.into(),
            key: key.into(),
        }
    }

    fn request(&self, action: &'static str, detail: String) -> S3Error {
        S3Error::Request {
            action,
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            detail,
        }
    }

    /// The object's ETag, or `None` when there is no object.
    pub async fn etag(&self) -> Result<Option<String>, S3Error> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .send()
            .await
        {
            Ok(out) => Ok(out.e_tag().map(str::to_owned)),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(None),
            Err(e) => Err(self.request("head", e.to_string())),
        }
    }

    /// Downloads the object to `path` (atomically: a temporary file renamed into place) and
    /// returns its ETag; `None` (and nothing written) when there is no object yet.
    pub async fn download(&self, path: &Path) -> Result<Option<String>, S3Error> {
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let service = e.into_service_error();
                if service.is_no_such_key() {
                    return Ok(None);
                }
                return Err(self.request(
                    "download",
                    format!(
                        "{}: {}",
                        service.code().unwrap_or("unknown"),
                        service.message().unwrap_or("")
                    ),
                ));
            }
        };
        let etag = out.e_tag().map(str::to_owned);
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| self.request("download", e.to_string()))?
            .into_bytes();
        let io = |action, source| S3Error::Io {
            action,
            path: path.display().to_string(),
            source,
        };
        let partial = path.with_extension("download");
        std::fs::write(&partial, &bytes).map_err(|e| io("writing", e))?;
        std::fs::rename(&partial, path).map_err(|e| io("replacing", e))?;
        Ok(etag)
    }

    /// Uploads `path` if the object still has `expected` as its ETag (or, with `None`, if there
    /// is no object yet); returns the new ETag.
    pub async fn upload(&self, path: &Path, expected: Option<&str>) -> Result<String, S3Error> {
        let body = ByteStream::from_path(path)
            .await
            .map_err(|e| self.request("upload", e.to_string()))?;
        let mut put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .body(body);
        put = match expected {
            Some(etag) => put.if_match(etag),
            None => put.if_none_match("*"),
        };
        match put.send().await {
            Ok(out) => Ok(out.e_tag().unwrap_or_default().to_owned()),
            Err(e)
                if e.raw_response()
                    .is_some_and(|r| matches!(r.status().as_u16(), 412 | 409)) =>
            {
                Err(S3Error::Conflict {
                    bucket: self.bucket.clone(),
                    key: self.key.clone(),
                })
            }
            Err(e) => {
                let detail = e.as_service_error().map_or_else(
                    || e.to_string(),
                    |s| {
                        format!(
                            "{}: {}",
                            s.code().unwrap_or("unknown"),
                            s.message().unwrap_or("")
                        )
                    },
                );
                Err(self.request("upload", detail))
            }
        }
    }
}

/// A public prefix of a bucket where the runner's status files are published (`status.json`,
/// `badge.svg`, `streak.ics`), each with its content type and cache header.
#[derive(Clone, Debug)]
pub struct StatusPrefix {
    client: Client,
    bucket: String,
    prefix: String,
}

impl StatusPrefix {
    /// `s3://bucket/prefix/…` (the prefix without a trailing slash; empty for the bucket's root).
    pub fn new(client: Client, bucket: impl Into<String>, prefix: impl Into<String>) -> Self {
        StatusPrefix {
            client,
            bucket: bucket.into(),
            prefix: prefix.into().trim_matches('/').to_owned(),
        }
    }

    /// The key of `name` under the prefix.
    pub fn key(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{}/{name}", self.prefix)
        }
    }

    /// Writes one file, replacing what was there.
    pub async fn put(
        &self,
        name: &str,
        body: Vec<u8>,
        content_type: &str,
        cache_control: &str,
    ) -> Result<(), S3Error> {
        let key = self.key(name);
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type(content_type)
            .cache_control(cache_control)
            .body(ByteStream::from(body))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| S3Error::Request {
                action: "publish",
                bucket: self.bucket.clone(),
                key,
                detail: e
                    .as_service_error()
                    .and_then(|s| s.message().map(str::to_owned))
                    .unwrap_or_else(|| e.to_string()),
            })
    }
}

/// Deletes every version and every delete marker of every object under `prefix` (a runner's
/// folder, such as `runners/r-1/`): in a versioned bucket a plain delete only hides an object
/// behind a delete marker, and a runner who deletes their account must leave nothing behind.
/// The prefix must end with `/`, so that `runners/r-1/` never reaches `runners/r-10/`. Returns
/// how many versions and markers were deleted.
pub async fn delete_runner_objects(
    client: &Client,
    bucket: &str,
    prefix: &str,
) -> Result<usize, S3Error> {
    let request = |action: &'static str, detail: String| S3Error::Request {
        action,
        bucket: bucket.to_owned(),
        key: prefix.to_owned(),
        detail,
    };
    if prefix.trim_matches('/').is_empty() || !prefix.ends_with('/') {
        return Err(request(
            "deletion",
            "a runner's prefix is a folder such as runners/r-1/ (not empty, ending with /)".into(),
        ));
    }
    let code = |e: &dyn ProvideErrorMetadata| e.code().unwrap_or("unknown").to_owned();
    let mut deleted = 0;
    let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
    loop {
        let page = client
            .list_object_versions()
            .bucket(bucket)
            .prefix(prefix)
            .set_key_marker(key_marker.take())
            .set_version_id_marker(version_marker.take())
            .send()
            .await
            .map_err(|e| request("listing the versions", code(&e)))?;
        let versions = page
            .versions()
            .iter()
            .map(|v| (v.key(), v.version_id()))
            .chain(
                page.delete_markers()
                    .iter()
                    .map(|m| (m.key(), m.version_id())),
            );
        let mut objects = Vec::new();
        for (key, version) in versions {
            let Some(key) = key else { continue };
            let id = aws_sdk_s3::types::ObjectIdentifier::builder()
                .key(key)
                .set_version_id(version.map(str::to_owned))
                .build()
                .map_err(|e| request("deletion", e.to_string()))?;
            objects.push(id);
        }
        if !objects.is_empty() {
            let count = objects.len();
            let delete = aws_sdk_s3::types::Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .map_err(|e| request("deletion", e.to_string()))?;
            let out = client
                .delete_objects()
                .bucket(bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| request("deletion", code(&e)))?;
            if let Some(error) = out.errors().first() {
                return Err(request(
                    "deletion",
                    format!(
                        "{} of {} versions were not deleted (first: {}: {})",
                        out.errors().len(),
                        count,
                        error.key().unwrap_or("?"),
                        error.code().unwrap_or("unknown")
                    ),
                ));
            }
            deleted += count;
        }
        if page.is_truncated() != Some(true) {
            return Ok(deleted);
        }
        key_marker = page.next_key_marker().map(str::to_owned);
        version_marker = page.next_version_id_marker().map(str::to_owned);
        if key_marker.is_none() {
            return Ok(deleted);
        }
    }
}
