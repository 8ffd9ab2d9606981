//! The embedded archive: a write-once directory tree under the data dir.
//!
//! Each object is written to a temporary file, fsynced and made read-only,
//! then hard-linked to its final name. `link` fails if the name exists, so
//! a file at the final name is always complete, an existing one is never
//! replaced, and a crash leaves at most a stray temporary file. The
//! directory is fsynced so the new name survives a power cut.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::super::preview::{Preview, PreviewStep};
use super::super::{Delivered, SinkError, SinkKind};
use super::ArchiveObject;
use crate::sinks::idempotency::content_digest;

/// Archived files are read-only for everyone, directories owner-only.
const FILE_MODE: u32 = 0o444;
const DIR_MODE: u32 = 0o700;

#[derive(Debug, Clone)]
pub struct LocalDirArchive {
    root: PathBuf,
    /// `[s3] prefix`, so the layout matches the bucket's.
    prefix: String,
}

impl LocalDirArchive {
    pub fn new(root: PathBuf, prefix: &str) -> LocalDirArchive {
        LocalDirArchive {
            root,
            prefix: prefix.to_owned(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn path_of(&self, object: &ArchiveObject) -> PathBuf {
        self.root.join(object.relative_path())
    }

    pub(super) fn preview(&self, object: &ArchiveObject) -> Preview {
        Preview {
            steps: vec![PreviewStep {
                purpose: "write the archive file once (read-only, fsynced)".into(),
                method: "WRITE".into(),
                url: self.path_of(object).display().to_string(),
                headers: vec![("Content-MD5".into(), object.digest.md5_base64.clone())],
                body: Some(String::from_utf8_lossy(&object.body).into_owned()),
            }],
        }
    }

    /// Writes `object` unless an identical file is already there.
    pub fn put(&self, object: &ArchiveObject) -> Result<Delivered, SinkError> {
        let target = self.path_of(object);
        let shown = target.display().to_string();
        let io_error = |what: &str, e: io::Error| io_failure(&shown, what, e);
        let dir = target.parent().unwrap_or(&self.root).to_path_buf();
        create_private_dirs(&dir).map_err(|e| io_error("creating its directory", e))?;

        let temp = dir.join(format!(
            ".{}.{}-{:016x}.tmp",
            target
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("object"),
            std::process::id(),
            fastrand::u64(..)
        ));
        let written =
            write_read_only(&temp, &object.body).and_then(|()| fs::hard_link(&temp, &target));
        // The temporary name has done its job either way.
        let _ = fs::remove_file(&temp);
        match written {
            Ok(()) => {
                sync_dir(&dir).map_err(|e| io_error("syncing its directory", e))?;
                Ok(Delivered::created(shown, None))
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let existing =
                    fs::read(&target).map_err(|e| io_error("reading the existing file", e))?;
                if content_digest(&existing) == object.digest {
                    Ok(Delivered::found(shown, None))
                } else {
                    Err(SinkError::permanent(
                        SinkKind::Archive,
                        format!(
                            "{shown} exists with different content (MD5 {} here, {} wanted); \
                             archived files are never replaced",
                            content_digest(&existing).md5_hex,
                            object.digest.md5_hex
                        ),
                    ))
                }
            }
            Err(e) => Err(io_error("writing it", e)),
        }
    }
}

fn io_failure(path: &str, what: &str, error: io::Error) -> SinkError {
    let message = format!("archive file {path}: {what} failed: {error}");
    // A full disk or a permission problem needs a person; an interrupted
    // call does not.
    match error.kind() {
        io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
            SinkError::transient(SinkKind::Archive, message)
        }
        _ => SinkError::permanent(SinkKind::Archive, message),
    }
}

fn create_private_dirs(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(DIR_MODE)
            .create(dir)
    }
    #[cfg(not(unix))]
    {
        fs::create_dir_all(dir)
    }
}

fn write_read_only(path: &Path, body: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).create_new(true).open(path)?;
    file.write_all(body)?;
    file.sync_all()?;
    set_read_only(&file)?;
    Ok(())
}

#[cfg(unix)]
fn set_read_only(file: &File) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(Permissions::from_mode(FILE_MODE))
}

#[cfg(not(unix))]
fn set_read_only(file: &File) -> io::Result<()> {
    let mut permissions = file.metadata()?.permissions();
    permissions.set_readonly(true);
    file.set_permissions(permissions)
}

/// Makes a new directory entry durable (a no-op where directories cannot be opened).
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::sinks::request::{ArchiveMetadata, DeliveryRequest};

    fn object(raw: &str) -> ArchiveObject {
        let request = DeliveryRequest::ArchiveObject {
            event_id: "e1".into(),
            account: Some("acc".into()),
            time: chrono::Utc
                .with_ymd_and_hms(2026, 11, 20, 11, 2, 0)
                .unwrap(),
            raw_event: raw.into(),
            metadata: ArchiveMetadata {
                finding_key: "token:e1".into(),
                actor: "m@example.com".into(),
                rules: vec![],
                severity: "high".into(),
            },
        };
        ArchiveObject::of("", &request).unwrap()
    }

    #[test]
    fn writes_once_read_only_and_a_retry_is_delivered() {
        let dir = tempfile::tempdir().unwrap();
        let archive = LocalDirArchive::new(dir.path().join("archive"), "");
        let first = archive.put(&object(r#"{"id":"e1"}"#)).unwrap();
        assert!(!first.already_delivered);
        let path = dir.path().join("archive/acc/2026/11/20/e1.json");
        assert_eq!(first.remote_id, path.display().to_string());
        assert_eq!(fs::read(&path).unwrap(), object(r#"{"id":"e1"}"#).body);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                FILE_MODE
            );
        }
        let again = archive.put(&object(r#"{"id":"e1"}"#)).unwrap();
        assert!(again.already_delivered);
        let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "temporary files left: {leftovers:?}");
    }

    #[test]
    fn different_content_at_the_same_key_is_refused_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let archive = LocalDirArchive::new(dir.path().to_path_buf(), "soc-tui/");
        archive.put(&object(r#"{"id":"e1"}"#)).unwrap();
        let err = archive.put(&object(r#"{"id":"e1","x":1}"#)).unwrap_err();
        assert!(err.is_permanent());
        assert!(
            err.message().contains("exists with different content"),
            "{err}"
        );
        let kept = fs::read(archive.path_of(&object(r#"{"id":"e1"}"#))).unwrap();
        assert_eq!(kept, object(r#"{"id":"e1"}"#).body);
    }
}
