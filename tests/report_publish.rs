//! Approving a report with `--publish confluence` queues its page in the
//! same transaction; the outbox worker publishes it to a Confluence that
//! validates what it receives (the demo's simulator); `report show` then
//! shows the link, and delivering again never creates a second page.

mod scenarios;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use soc_tui::demo::sim::confluence::ConfluenceSim;
use soc_tui::secrets::Secret;
use soc_tui::store::Store;

const EMAIL: &str = "soc@example.com";
const TOKEN: &str = "confluence-test-token-7d1e";

fn soc(config: &Path, data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_soc-tui"))
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("SOC_TUI_CONFLUENCE_TOKEN", TOKEN)
        .env_remove("SOC_TUI_CONFIG")
        .env_remove("SOC_TUI_DATA")
        .output()
        .expect("run soc-tui")
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_report_is_published_once_and_linked() {
    let sim = ConfluenceSim::start(EMAIL, Secret::new(TOKEN.to_owned()))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[analyst]\nname = \"alice\"\n\n[confluence]\nbase_url = \"{}\"\nspace_key = \"{}\"\n\
             email = \"{EMAIL}\"\n\n[outbox]\nbase_backoff = \"50ms\"\nmax_backoff = \"200ms\"\n\
             \n[workflows]\ninvestigation = \"on\"\n",
            sim.base_url(),
            sim.space_key()
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    let (actor, at, events) = scenarios::compromised_admin();
    let mut store = Store::open(&data.join("soc-tui.db")).unwrap();
    store.insert_events(&events).unwrap();
    drop(store);

    let at = at.to_rfc3339();
    let blocking = {
        let (config, data) = (config.clone(), data.clone());
        move |args: Vec<String>| {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            soc(&config, &data, &args)
        }
    };
    let run = |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let blocking = blocking.clone();
        tokio::task::spawn_blocking(move || blocking(args))
    };

    ok(&run(&["investigate", "--actor", &actor, "--at", &at])
        .await
        .unwrap());
    let approved = ok(
        &run(&["report", "approve", "INV-1", "--publish", "confluence"])
            .await
            .unwrap(),
    );
    assert!(
        approved.contains("Confluence page queued as outbox #"),
        "{approved}"
    );
    assert!(
        sim.pages().is_empty(),
        "nothing leaves before the worker runs"
    );

    let listed = ok(&run(&["outbox", "list", "--json"]).await.unwrap());
    let rows: Value = serde_json::from_str(&listed).unwrap();
    let rows = rows
        .as_array()
        .cloned()
        .unwrap_or_else(|| rows["items"].as_array().cloned().unwrap_or_default());
    assert_eq!(rows.len(), 1, "{listed}");
    assert_eq!(rows[0]["sink"], "confluence", "{listed}");

    ok(&run(&["outbox", "deliver"]).await.unwrap());
    let pages = sim.pages();
    assert_eq!(pages.len(), 1, "{pages:?}");
    assert!(pages[0].title.contains(&actor), "{}", pages[0].title);
    assert!(pages[0].title.contains("(INV-1)"), "{}", pages[0].title);

    let shown = ok(&run(&["report", "show", "INV-1", "--format", "json"])
        .await
        .unwrap());
    let shown: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["confluence"]["state"], "delivered", "{shown}");
    let url = shown["confluence"]["url"].as_str().unwrap_or_default();
    assert!(url.starts_with("http://127.0.0.1:"), "{shown}");

    // A delivered row cannot be sent again by hand...
    let outbox_id = rows[0]["id"].as_i64().unwrap().to_string();
    let refused = run(&["outbox", "retry", &outbox_id]).await.unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is delivered"));

    // ...and when a crash lost our record of the delivery (the page was
    // created, the commit was not), the retry finds the page by its title.
    let db = rusqlite::Connection::open(data.join("soc-tui.db")).unwrap();
    db.execute(
        "UPDATE outbox SET state = 'queued', remote_id = NULL, remote_url = NULL",
        [],
    )
    .unwrap();
    drop(db);
    ok(&run(&["outbox", "deliver"]).await.unwrap());
    assert_eq!(sim.pages().len(), 1, "the retry created a second page");
    let shown = ok(&run(&["report", "show", "INV-1"]).await.unwrap());
    assert!(
        shown.contains("Confluence page: delivered http://127.0.0.1:"),
        "{shown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_dry_run_the_page_is_recorded_never_published_and_off_refuses() {
    let sim = ConfluenceSim::start(EMAIL, Secret::new(TOKEN.to_owned()))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    // No [workflows]: investigation is in dry-run.
    std::fs::write(
        &config,
        format!(
            "[analyst]\nname = \"alice\"\n\n[confluence]\nbase_url = \"{}\"\nspace_key = \"{}\"\n\
             email = \"{EMAIL}\"\n",
            sim.base_url(),
            sim.space_key()
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    let (actor, at, events) = scenarios::compromised_admin();
    let mut store = Store::open(&data.join("soc-tui.db")).unwrap();
    store.insert_events(&events).unwrap();
    drop(store);
    let run = |args: Vec<String>| {
        let (config, data) = (config.clone(), data.clone());
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            soc(&config, &data, &args)
        })
    };
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let at = at.to_rfc3339();
    ok(&run(args(&["investigate", "--actor", &actor, "--at", &at]))
        .await
        .unwrap());
    ok(&run(args(&["investigate", "--actor", &actor, "--at", &at]))
        .await
        .unwrap());

    // Off: --publish is refused and nothing is approved.
    ok(&run(args(&["workflows", "set", "investigation", "off"]))
        .await
        .unwrap());
    let refused = run(args(&[
        "report",
        "approve",
        "INV-1",
        "--publish",
        "confluence",
    ]))
    .await
    .unwrap();
    assert!(!refused.status.success());
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(why.contains("the investigation workflow is off"), "{why}");
    let row = Store::open(&data.join("soc-tui.db"))
        .unwrap()
        .draft(1)
        .unwrap()
        .unwrap();
    assert_eq!(row.status.as_str(), "draft");

    // Dry-run: approved, the page recorded as a dry-run item, never sent.
    ok(&run(args(&["workflows", "reset", "investigation"]))
        .await
        .unwrap());
    let approved = ok(&run(args(&[
        "report",
        "approve",
        "INV-2",
        "--publish",
        "confluence",
    ]))
    .await
    .unwrap());
    assert!(
        approved.contains("Confluence page recorded as dry-run item #"),
        "{approved}"
    );
    ok(&run(args(&["outbox", "deliver"])).await.unwrap());
    assert!(sim.pages().is_empty(), "a dry-run page was published");
    let listed = ok(&run(args(&["outbox", "list", "--json"])).await.unwrap());
    let rows: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(rows[0]["state"], "dry_run", "{listed}");
    let shown = ok(&run(args(&["outbox", "show", &rows[0]["id"].to_string()]))
        .await
        .unwrap());
    assert!(shown.contains("Body (storage XHTML):"), "{shown}");
    assert!(
        shown.contains(&format!("POST {}/api/v2/pages", sim.base_url())),
        "{shown}"
    );
    assert!(!shown.contains(TOKEN), "{shown}");
}
