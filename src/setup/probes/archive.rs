//! The token archive: `HeadBucket` on the configured S3 bucket through the
//! archive's own SDK client, or, without a bucket, a test write in the
//! local archive directory.

use std::io::Write;
use std::path::{Path, PathBuf};

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use super::{Plan, Probe, probe_timeout};
use crate::config::Config;
use crate::sanitize::sanitize_with_limit;
use crate::secrets::{Credential, Resolver};
use crate::setup::check::{Check, Status, store_fix};
use crate::sinks::SinkSetupError;
use crate::sinks::archive::{LOCAL_ARCHIVE_DIR, S3Archive, S3Settings};

const SERVICE: &str = "archive";

pub fn plan(config: &Config, secrets: &Resolver<'_>, data_dir: &Path) -> Plan {
    let Some(bucket) = config.s3.bucket.clone() else {
        return Plan::Settled(local_dir(&data_dir.join(LOCAL_ARCHIVE_DIR)));
    };
    let target = format!("s3://{bucket}");
    let settings = match S3Settings::from_config(&config.s3, &config.http, secrets) {
        Ok(Some(settings)) => settings,
        Ok(None) => return Plan::Settled(local_dir(&data_dir.join(LOCAL_ARCHIVE_DIR))),
        Err(SinkSetupError::Secret(error)) => {
            return Plan::Settled(Check::credential_problem(SERVICE, target, &error));
        }
        Err(other) => {
            return Plan::Settled(
                Check::new(SERVICE, target, Status::Misconfigured, other.to_string())
                    .with_fix("correct the [s3] section"),
            );
        }
    };
    let endpoint = settings
        .endpoint
        .clone()
        .unwrap_or_else(|| format!("https://s3.{}.amazonaws.com", settings.region));
    let region = settings.region.clone();
    let archive = S3Archive::new(settings);
    Plan::Run(Probe {
        service: SERVICE,
        target: target.clone(),
        url: endpoint.clone(),
        base_key: "s3.endpoint".into(),
        timeout: probe_timeout(&config.http),
        future: Box::pin(async move {
            head_bucket(&archive, &bucket, &region, &endpoint, target).await
        }),
    })
}

async fn head_bucket(
    archive: &S3Archive,
    bucket: &str,
    region: &str,
    endpoint: &str,
    target: String,
) -> Check {
    let error = match archive
        .sdk_client()
        .head_bucket()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(_) => {
            return Check::ok(
                SERVICE,
                target,
                format!("bucket {bucket} reachable and readable at {endpoint} (HeadBucket)"),
            );
        }
        Err(error) => error,
    };
    let said = sanitize_with_limit(&DisplayErrorContext(&error).to_string(), 300).into_owned();
    let keys_fix = format!(
        "{}; {}",
        store_fix(Credential::S3AccessKeyId),
        store_fix(Credential::S3SecretAccessKey)
    );
    let check =
        |status: Status, detail: String| Check::new(SERVICE, target.clone(), status, detail);
    match &error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => check(
            Status::Unreachable,
            format!("cannot reach {endpoint}: {said}"),
        )
        .with_fix(
            "check s3.endpoint (or s3.region for AWS), DNS and the network path; behind a proxy \
             set [http] proxy",
        ),
        SdkError::ServiceError(_) => {
            let raw = error.raw_response();
            let status = raw.map(|r| r.status().as_u16()).unwrap_or_default();
            let real_region = raw
                .and_then(|r| r.headers().get("x-amz-bucket-region"))
                .map(str::to_owned);
            match status {
                301 | 400 if real_region.as_deref().is_some_and(|r| r != region) => check(
                    Status::Misconfigured,
                    format!(
                        "bucket {bucket} is in region {}, not {region}",
                        real_region.as_deref().unwrap_or_default()
                    ),
                )
                .with_fix(format!(
                    "set s3.region = \"{}\"",
                    real_region.as_deref().unwrap_or_default()
                )),
                401 => check(
                    Status::NotAuthenticated,
                    format!("{endpoint} refused the access keys: {said}"),
                )
                .with_fix(keys_fix),
                // HEAD answers carry no error body, so S3 cannot say which.
                403 => check(
                    Status::PermissionMissing,
                    format!(
                        "HeadBucket on {bucket} answered 403: the access keys are wrong, or \
                         they lack s3:ListBucket on the bucket"
                    ),
                )
                .with_fix(format!(
                    "{keys_fix}; the keys need s3:ListBucket, s3:PutObject and s3:GetObject on \
                     {bucket}"
                )),
                404 => check(
                    Status::Misconfigured,
                    format!("no bucket {bucket} at {endpoint}"),
                )
                .with_fix(
                    "check s3.bucket (and s3.endpoint / s3.path_style for an S3-compatible \
                     server), or create the bucket with Object Lock if you use it",
                ),
                _ => check(
                    Status::Failed,
                    format!(
                        "HeadBucket answered HTTP {status}{}: {said}",
                        error.code().map(|c| format!(" {c}")).unwrap_or_default()
                    ),
                )
                .with_fix("check the [s3] section against the message"),
            }
        }
        _ => check(Status::Failed, format!("HeadBucket failed: {said}"))
            .with_fix("check the [s3] section against the message"),
    }
}

/// The archive without a bucket: a directory the engine must be able to write.
fn local_dir(dir: &Path) -> Check {
    let target = dir.display().to_string();
    match try_write(dir) {
        Ok(()) => Check::ok(
            SERVICE,
            target,
            "local archive directory writable (no [s3] bucket set)",
        ),
        Err(error) => Check::new(
            SERVICE,
            target,
            Status::Misconfigured,
            format!("cannot write in the local archive directory: {error}"),
        )
        .with_fix(
            "make the directory writable, point --data-dir (SOC_TUI_DATA) elsewhere, or set \
             [s3] bucket",
        ),
    }
}

fn try_write(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let probe: PathBuf = dir.join(format!(".soc-tui-doctor-{}", std::process::id()));
    let written = std::fs::File::create(&probe).and_then(|mut file| {
        file.write_all(b"soc-tui doctor write test\n")?;
        file.sync_all()
    });
    let removed = std::fs::remove_file(&probe);
    written.and(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_directory_is_created_and_left_clean() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("data/archive");
        let check = local_dir(&archive);
        assert_eq!(check.status, Status::Ok, "{check:?}");
        assert_eq!(std::fs::read_dir(&archive).unwrap().count(), 0);
    }

    #[test]
    fn a_directory_that_cannot_be_made_is_misconfigured() {
        let dir = tempfile::tempdir().unwrap();
        // A file where a directory should be fails for root too.
        let blocker = dir.path().join("data");
        std::fs::write(&blocker, "not a directory").unwrap();
        let check = local_dir(&blocker.join("archive"));
        assert_eq!(check.status, Status::Misconfigured, "{check:?}");
        assert!(check.fix.unwrap().contains("--data-dir"));
    }
}
