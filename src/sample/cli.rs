//! Printing `check <workflow> --sample FILE`: text for people (sanitized),
//! or `--json`.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::{Value, json};

use super::{SampleOptions, SampleRequest, SampleRun, run_sample};
use crate::config::{Config, workflow_key};
use crate::detect::rules;
use crate::engine::cli::CheckArgs;
use crate::investigate::render::to_text;
use crate::outbox::preview::rendered_text;
use crate::paths::Paths;
use crate::sanitize::sanitize_multiline;

/// The output is cut past this (a sample of megabytes of attacker text).
const MAX_OUTPUT_CHARS: usize = 16 << 20;

pub fn run(args: CheckArgs, paths: &Paths) -> Result<ExitCode> {
    let Some(file) = args.sample.as_deref() else {
        anyhow::bail!("--sample FILE is required here");
    };
    let config = Config::load_or_default(&paths.config_file)?;
    let rules = rules::load(paths)?.rules;
    let options = SampleOptions {
        workflow: args.check.workflow(),
        at: args.at,
        actor: args.actor.clone(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let run = runtime.block_on(run_sample(file, &config, &rules, &paths.data_dir, &options))?;
    if args.json {
        println!(
            "{}",
            crate::terminal_json::to_terminal_json(&to_json(&run, file))?
        );
    } else {
        for rejection in &run.rejections {
            eprintln!(
                "warning: skipped {}",
                crate::sanitize::sanitize_with_limit(rejection, 300)
            );
        }
        print!(
            "{}",
            sanitize_multiline(&to_text_report(&run, file), MAX_OUTPUT_CHARS)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The report for people. Raw: sanitize before printing.
pub fn to_text_report(run: &SampleRun, file: &std::path::Path) -> String {
    let mut out = String::new();
    let key = workflow_key(run.workflow);
    let stamp = "%Y-%m-%dT%H:%M:%SZ";
    let _ = writeln!(
        out,
        "{key} on the sample {}: {} event(s) ({} rejected), {} to {}",
        file.display(),
        run.events,
        run.rejected,
        run.first_event.format(stamp),
        run.last_event.format(stamp)
    );
    if let (Some(first), Some(last)) = (run.windows.first(), run.windows.last()) {
        let _ = writeln!(
            out,
            "checked {} window(s) from {} to {}",
            run.windows.len(),
            first.start.format(stamp),
            last.end.format(stamp)
        );
    }
    let _ = writeln!(
        out,
        "Nothing was sent and your store was not touched: this ran in a throwaway store.\n"
    );
    if let Some(inv) = &run.investigation {
        let _ = writeln!(
            out,
            "Investigation of {} at {} (the heuristic engine: no model and no live query is \
             called on a sample):\n",
            inv.actor,
            inv.at.format(stamp)
        );
        out.push_str(&to_text(&inv.report.document("draft")));
        for request in &inv.requests {
            request_text(&mut out, request, "on approval it would send");
        }
        return out;
    }
    let _ = writeln!(
        out,
        "{} finding(s), {} request(s) it would send.",
        run.findings.len(),
        run.request_count()
    );
    let total = run.findings.len();
    for (i, f) in run.findings.iter().enumerate() {
        let finding = &f.finding;
        let _ = writeln!(
            out,
            "\n── finding {} of {total} ── {} · {} · {}",
            i + 1,
            finding.severity.as_str(),
            finding.workflow.as_str(),
            finding.actor
        );
        let _ = writeln!(out, "{}", finding.title);
        let _ = writeln!(
            out,
            "window {} to {}; rules: {}{}",
            finding.window_start.format(stamp),
            finding.window_end.format(stamp),
            if finding.rules.is_empty() {
                "-".to_owned()
            } else {
                finding.rules.join(", ")
            },
            if finding.suppressed.is_empty() {
                String::new()
            } else {
                format!("; {} suppressed hit(s)", finding.suppressed.len())
            }
        );
        let _ = writeln!(out, "summary: {}", finding.summary);
        let _ = writeln!(
            out,
            "evidence:\n{}",
            serde_json::to_string_pretty(&finding.evidence).unwrap_or_default()
        );
        if !finding.event_ids.is_empty() {
            let _ = writeln!(out, "events: {}", finding.event_ids.join(", "));
        }
        if f.requests.is_empty() {
            let _ = writeln!(out, "(no request: everything that fired is suppressed)");
        }
        for request in &f.requests {
            request_text(&mut out, request, "would send");
        }
    }
    out
}

fn request_text(out: &mut String, request: &SampleRequest, what: &str) {
    let _ = writeln!(
        out,
        "\n  ── {what}: {} {} ({}) ──",
        request.sink, request.kind, request.dedup_key
    );
    let text = match &request.rendered {
        Ok(rendered) => rendered_text(rendered),
        Err(why) => format!("the request cannot be built: {why}\n"),
    };
    for line in text.lines() {
        let _ = writeln!(out, "  {line}");
    }
}

fn request_json(request: &SampleRequest) -> Value {
    let mut doc = json!({
        "sink": request.sink,
        "kind": request.kind,
        "dedup_key": request.dedup_key,
    });
    match &request.request {
        Ok(r) => doc["request"] = json!(r),
        Err(why) => doc["request_error"] = json!(why),
    }
    if let Ok(rendered) = &request.rendered {
        doc["content"] = rendered
            .content
            .iter()
            .map(|(label, text)| json!({"label": label, "text": text}))
            .collect();
        match &rendered.calls {
            Ok(preview) => {
                doc["calls"] = preview
                    .steps
                    .iter()
                    .map(|s| {
                        json!({"purpose": s.purpose, "method": s.method, "url": s.url,
                               "headers": s.headers, "body": s.body})
                    })
                    .collect();
            }
            Err(why) => doc["calls_error"] = json!(why),
        }
    }
    doc
}

pub fn to_json(run: &SampleRun, file: &std::path::Path) -> Value {
    let findings: Vec<Value> = run
        .findings
        .iter()
        .map(|f| {
            let mut doc = json!(f.finding);
            doc["requests"] = f.requests.iter().map(request_json).collect();
            doc
        })
        .collect();
    let investigation = run.investigation.as_ref().map(|inv| {
        json!({
            "id": inv.label,
            "actor": inv.actor,
            "at": inv.at,
            "report": inv.report,
            "requests": inv.requests.iter().map(request_json).collect::<Vec<_>>(),
        })
    });
    json!({
        "workflow": workflow_key(run.workflow),
        "sample": file.display().to_string(),
        "events": run.events,
        "rejected": run.rejected,
        "first_event": run.first_event,
        "last_event": run.last_event,
        "windows": run.windows,
        "findings": findings,
        "investigation": investigation,
    })
}
