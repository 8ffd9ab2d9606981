//! `soc-tui investigate` and `soc-tui report`: the whole flow (investigate,
//! read the draft, approve it) without the TUI.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use super::draft::InvestigationRequest;
use super::render::{to_markdown, to_storage, to_text};
use super::report::Report;
use super::setup;
use super::verdict::Verdict;
use crate::config::Config;
use crate::detect::Workflow;
use crate::paths::Paths;
use crate::sanitize::sanitize;
use crate::secrets::Resolver;
use crate::store::{
    Approval, Delivery, DraftEdit, DraftRow, DraftStatus, Store, draft_label, parse_draft_label,
};
use crate::workflows::ModePolicy;

#[derive(Debug, Args)]
#[command(after_help = "\
Reads the actor's Cloudflare and Datadog events in [TIME - 24h, TIME + 1h] (see [investigation] in the
config) from the store, builds the correlated timeline and stores a draft report awaiting approval.
Read it with `soc-tui report show ID`, approve it with `soc-tui report approve ID`.")]
pub struct InvestigateArgs {
    /// The actor: an email, a Cloudflare actor id or a Datadog user uuid.
    #[arg(long, value_name = "EMAIL")]
    pub actor: String,
    /// When the anomaly happened: RFC 3339 (2026-11-21T03:00:00Z) or `now`.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub at: DateTime<Utc>,
    /// Print the draft as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// List drafts, newest first.
    List {
        /// Only drafts in this status.
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Show one draft report.
    Show {
        /// The draft id (INV-12 or 12).
        id: String,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Same as --format markdown.
        #[arg(long, conflicts_with = "format")]
        markdown: bool,
    },
    /// Approve a draft, optionally with edits, and record it in the analyst log.
    Approve(ApproveArgs),
    /// Show the analyst log of a draft (or of everything).
    Log {
        id: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The draft id (INV-12 or 12).
    pub id: String,
    /// Where the approved report goes. The page follows the investigation workflow's
    /// mode (`soc-tui workflows`): queued when on, a dry-run item when in dry-run
    /// (never sent), refused when off.
    #[arg(long, value_enum)]
    pub publish: Option<PublishTarget>,
    /// Replace the verdict (benign, misconfiguration, suspicious, likely_malicious).
    #[arg(long, value_parser = parse_verdict)]
    pub verdict: Option<Verdict>,
    /// Replace the confidence (0 to 1).
    #[arg(long, value_parser = parse_confidence)]
    pub confidence: Option<f64>,
    /// Replace the summary.
    #[arg(long)]
    pub summary: Option<String>,
    /// A note for the analyst log.
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PublishTarget {
    Confluence,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Markdown,
    /// Confluence storage format (XHTML).
    Storage,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusArg {
    Running,
    Draft,
    Failed,
    Approved,
}

impl From<StatusArg> for DraftStatus {
    fn from(s: StatusArg) -> DraftStatus {
        match s {
            StatusArg::Running => DraftStatus::Running,
            StatusArg::Draft => DraftStatus::Draft,
            StatusArg::Failed => DraftStatus::Failed,
            StatusArg::Approved => DraftStatus::Approved,
        }
    }
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    if text.eq_ignore_ascii_case("now") {
        return Ok(Utc::now());
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            format!("expected an RFC 3339 time such as 2026-11-21T03:00:00Z, or `now` ({e})")
        })
}

fn parse_verdict(text: &str) -> Result<Verdict, String> {
    text.parse()
}

fn parse_confidence(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("{value} is not between 0 and 1"))
    }
}

fn open_store(paths: &Paths) -> Result<Store> {
    paths.ensure_data_dir()?;
    let path = paths.store_file();
    Store::open(&path).with_context(|| format!("opening the store {}", path.display()))
}

/// `soc-tui investigate`.
pub fn run_investigate(args: InvestigateArgs, paths: &Paths) -> Result<ExitCode> {
    let config = Config::load_or_default(&paths.config_file)?;
    if args.actor.trim().is_empty() {
        bail!("--actor is empty: give an email, a Cloudflare actor id or a Datadog user uuid");
    }
    let store = open_store(paths)?;
    // Run on demand whatever the mode; say when publishing would be refused.
    let mode = ModePolicy::from_config(&config).effective(&store, Workflow::Investigation)?;
    if mode.is_off() {
        eprintln!(
            "note: the draft is stored, but publishing it is refused while {}",
            mode.off_message()
        );
    }
    let store = Arc::new(Mutex::new(store));
    let investigator = setup::investigator(
        &config,
        &paths.config_dir,
        Arc::clone(&store),
        &Resolver::system(),
    )?;
    let request = InvestigationRequest::from_cli(&args.actor, args.at);
    let id = investigator.open(&request)?.id();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = runtime
        .block_on(investigator.run(id))
        .with_context(|| format!("investigating {}", draft_label(id)))?;
    if args.json {
        let out = json!({"id": draft_label(id), "status": "draft", "report": report});
        println!("{}", crate::terminal_json::to_terminal_json(&out)?);
    } else {
        print!("{}", to_text(&report.document(DraftStatus::Draft.as_str())));
        println!(
            "\nStored as draft {}. Approve with: soc-tui report approve {}",
            draft_label(id),
            draft_label(id)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `soc-tui report ...`.
pub fn run_report(cmd: ReportCommand, paths: &Paths) -> Result<ExitCode> {
    match cmd {
        ReportCommand::List {
            status,
            limit,
            json,
        } => list(paths, status.map(Into::into), limit, json),
        ReportCommand::Show {
            id,
            format,
            markdown,
        } => show(paths, &id, if markdown { Format::Markdown } else { format }),
        ReportCommand::Approve(args) => approve(paths, args),
        ReportCommand::Log { id, limit } => log(paths, id.as_deref(), limit),
    }
}

fn draft_id(text: &str) -> Result<i64> {
    parse_draft_label(text.trim()).ok_or_else(|| {
        anyhow!(
            "{:?} is not a draft id: expected INV-<number> or a number",
            sanitize(text)
        )
    })
}

fn load(store: &Store, id: i64) -> Result<DraftRow> {
    store.draft(id)?.ok_or_else(|| {
        anyhow!(
            "draft {} does not exist (see `soc-tui report list`)",
            draft_label(id)
        )
    })
}

fn report_of(row: &DraftRow) -> Result<Report> {
    let text = row.report_json.as_deref().ok_or_else(|| match row.status {
        DraftStatus::Failed => anyhow!(
            "draft {} failed: {}",
            draft_label(row.id),
            sanitize(row.error.as_deref().unwrap_or("no reason recorded"))
        ),
        _ => anyhow!(
            "draft {} is {} and has no report yet",
            draft_label(row.id),
            row.status
        ),
    })?;
    serde_json::from_str(text).with_context(|| {
        format!(
            "draft {}: the stored report cannot be read",
            draft_label(row.id)
        )
    })
}

fn list(paths: &Paths, status: Option<DraftStatus>, limit: usize, json: bool) -> Result<ExitCode> {
    let store = open_store(paths)?;
    let rows = store.drafts(status, limit)?;
    if json {
        let items: Vec<_> = rows
            .iter()
            .map(|r| {
                json!({"id": draft_label(r.id), "actor": r.actor, "at": r.at, "status": r.status.as_str(),
                       "verdict": r.verdict, "confidence": r.confidence,
                       "untrusted_output": r.untrusted_output, "trigger": r.trigger_kind.as_str()})
            })
            .collect();
        println!("{}", crate::terminal_json::to_terminal_json(&items)?);
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        println!("No drafts.");
    }
    for r in rows {
        let verdict = r
            .verdict
            .as_deref()
            .and_then(|v| v.parse::<Verdict>().ok())
            .map(|v| format!("{v} {:.2}", r.confidence.unwrap_or_default()))
            .unwrap_or_else(|| "-".into());
        let flag = if r.untrusted_output {
            "  [untrusted model output]"
        } else {
            ""
        };
        println!(
            "{:<8} {:<9} {:<32} {:<22} {}{flag}",
            draft_label(r.id),
            r.status.as_str(),
            sanitize(&r.actor),
            verdict,
            r.at.format("%Y-%m-%d %H:%M UTC"),
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn show(paths: &Paths, id: &str, format: Format) -> Result<ExitCode> {
    let store = open_store(paths)?;
    let row = load(&store, draft_id(id)?)?;
    let report = report_of(&row)?;
    let doc = report.document(row.status.as_str());
    let page = store.outbox_item_by_key(&super::publish::confluence_page_key(row.id))?;
    match format {
        Format::Text => print!("{}", to_text(&doc)),
        Format::Markdown => print!("{}", to_markdown(&doc)),
        Format::Storage => println!("{}", to_storage(&doc)),
        Format::Json => {
            let confluence = page.as_ref().map(|p| {
                json!({"outbox_id": p.id, "state": p.state.as_str(), "url": p.remote_url,
                       "last_error": p.last_error})
            });
            let out = json!({"id": draft_label(row.id), "status": row.status.as_str(),
                             "approved_by": row.approved_by, "publish_to": row.publish_to,
                             "confluence": confluence, "report": report});
            println!("{}", crate::terminal_json::to_terminal_json(&out)?);
        }
    }
    if let (Format::Text | Format::Markdown, Some(page)) = (format, page) {
        let link = page.remote_url.as_deref().map(sanitize).unwrap_or_default();
        println!("\nConfluence page: {} {}", page.state.as_str(), link);
    }
    Ok(ExitCode::SUCCESS)
}

fn approve(paths: &Paths, args: ApproveArgs) -> Result<ExitCode> {
    let config = Config::load_or_default(&paths.config_file)?;
    if args.publish == Some(PublishTarget::Confluence) && !config.confluence.is_configured() {
        bail!(
            "--publish confluence: Confluence is not configured; set confluence.base_url, \
             space_key and email in {}",
            paths.config_file.display()
        );
    }
    let analyst = config.analyst.resolved_name();
    let mut store = open_store(paths)?;
    // The page is the investigation workflow's request: it follows its mode.
    let mode = ModePolicy::from_config(&config).effective(&store, Workflow::Investigation)?;
    let delivery = match (args.publish, mode.delivery()) {
        (Some(_), None) => bail!(
            "--publish confluence: {} (approve without --publish to record the approval only)",
            mode.off_message()
        ),
        (_, delivery) => delivery.unwrap_or(Delivery::DryRun),
    };
    let id = draft_id(&args.id)?;
    let row = load(&store, id)?;
    let mut report = report_of(&row)?;
    let mut before = serde_json::Map::new();
    let mut after = serde_json::Map::new();
    if let Some(verdict) = args.verdict.filter(|v| *v != report.assessment.verdict) {
        before.insert("verdict".into(), json!(report.assessment.verdict));
        after.insert("verdict".into(), json!(verdict));
        report.assessment.verdict = verdict;
    }
    if let Some(confidence) = args
        .confidence
        .filter(|c| *c != report.assessment.confidence)
    {
        before.insert("confidence".into(), json!(report.assessment.confidence));
        after.insert("confidence".into(), json!(confidence));
        report.assessment.confidence = confidence;
    }
    if let Some(summary) = args.summary.filter(|s| *s != report.assessment.summary) {
        before.insert("summary".into(), json!(report.assessment.summary));
        after.insert("summary".into(), json!(summary));
        report.assessment.summary = summary;
    }
    let edited_json;
    let (before_json, after_json) = (
        serde_json::Value::Object(before).to_string(),
        serde_json::Value::Object(after.clone()).to_string(),
    );
    let edit = if after.is_empty() {
        None
    } else {
        edited_json = serde_json::to_string(&report)?;
        Some(DraftEdit {
            report_json: &edited_json,
            verdict: report.assessment.verdict.as_str(),
            confidence: report.assessment.confidence,
            before_json: &before_json,
            after_json: &after_json,
        })
    };
    let publish_to = args.publish.map(|_| "confluence");
    let page = match args.publish {
        Some(PublishTarget::Confluence) => Some(super::publish::confluence_page_item(id, &report)?),
        None => None,
    };
    let queued = store.approve_and_enqueue(
        &Approval {
            id,
            analyst: &analyst,
            edit,
            publish_to,
            note: args.note.as_deref(),
        },
        page.as_ref(),
        Utc::now(),
        delivery,
    )?;
    println!(
        "Approved {} as {} ({:.2}) by {}.",
        draft_label(id),
        report.assessment.verdict,
        report.assessment.confidence,
        sanitize(&analyst)
    );
    match (queued, delivery) {
        (Some(outbox_id), Delivery::Live) => println!(
            "Confluence page queued as outbox #{outbox_id}: the daemon (or `soc-tui outbox deliver`) \
             publishes it; `soc-tui report show {}` then shows its link.",
            draft_label(id)
        ),
        (Some(outbox_id), Delivery::DryRun) => println!(
            "Confluence page recorded as dry-run item #{outbox_id}: the investigation workflow is in \
             dry-run, so it is never sent; `soc-tui outbox show {outbox_id}` prints it exactly as it \
             would be sent (`soc-tui workflows set investigation on` arms the workflow)."
        ),
        (None, _) => {}
    }
    Ok(ExitCode::SUCCESS)
}

fn log(paths: &Paths, id: Option<&str>, limit: usize) -> Result<ExitCode> {
    let store = open_store(paths)?;
    let subject = id.map(draft_id).transpose()?.map(draft_label);
    for entry in store.analyst_log(subject.as_deref(), limit)? {
        println!(
            "{} {} {} {} before={} after={}{}",
            entry.at.format("%Y-%m-%d %H:%M:%S"),
            sanitize(&entry.analyst),
            entry.action,
            entry.subject,
            sanitize(entry.before.as_deref().unwrap_or("-")),
            sanitize(entry.after.as_deref().unwrap_or("-")),
            entry
                .note
                .as_deref()
                .map(|n| format!(" note={}", sanitize(n)))
                .unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}
