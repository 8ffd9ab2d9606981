use super::*;
use chrono::TimeZone;

fn t(h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, h, 0, 0).unwrap()
}

fn new_draft<'a>(reference: Option<&'a str>) -> NewDraft<'a> {
    NewDraft {
        actor: "alice@example.com",
        at: t(3),
        trigger_kind: TriggerKind::Finding,
        trigger_ref: reference,
        trigger_json: "{}",
    }
}

#[test]
fn a_draft_runs_completes_and_is_approved_with_its_edit_logged() {
    let mut store = Store::open_in_memory().unwrap();
    let id = store.create_draft(&new_draft(Some("k")), t(4)).unwrap();
    let DraftCreated::New(id) = id else {
        panic!("expected a new draft")
    };
    assert_eq!(
        store.create_draft(&new_draft(Some("k")), t(4)).unwrap(),
        DraftCreated::Existing(id)
    );
    let err = store
        .approve_draft(
            &Approval {
                id,
                analyst: "bob",
                edit: None,
                publish_to: None,
                note: None,
            },
            t(5),
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("is running"), "{err}");
    store
        .complete_draft(
            id,
            &DraftResult {
                verdict: "suspicious",
                confidence: 0.6,
                untrusted_output: true,
                report_json: "{\"v\":1}",
            },
            t(5),
        )
        .unwrap();
    store
        .approve_draft(
            &Approval {
                id,
                analyst: "bob",
                edit: Some(DraftEdit {
                    report_json: "{\"v\":2}",
                    verdict: "benign",
                    confidence: 0.9,
                    before_json: "{\"verdict\":\"suspicious\"}",
                    after_json: "{\"verdict\":\"benign\"}",
                }),
                publish_to: Some("confluence"),
                note: Some("known change"),
            },
            t(6),
        )
        .unwrap();
    let row = store.draft(id).unwrap().unwrap();
    assert_eq!(row.status, DraftStatus::Approved);
    assert_eq!(row.verdict.as_deref(), Some("benign"));
    assert_eq!(row.report_json.as_deref(), Some("{\"v\":2}"));
    assert_eq!(row.approved_by.as_deref(), Some("bob"));
    assert_eq!(row.publish_to.as_deref(), Some("confluence"));
    assert!(row.untrusted_output);
    let log = store.analyst_log(Some(&draft_label(id)), 10).unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["edit", "approve"]);
    assert_eq!(
        log[0].before.as_deref(),
        Some("{\"verdict\":\"suspicious\"}")
    );
    assert_eq!(log[0].note.as_deref(), Some("known change"));
}

#[test]
fn failing_and_listing() {
    let mut store = Store::open_in_memory().unwrap();
    let a = store.create_draft(&new_draft(None), t(4)).unwrap().id();
    let b = store.create_draft(&new_draft(None), t(4)).unwrap().id();
    assert_ne!(a, b, "CLI runs without a ref are never merged");
    store.fail_draft(a, "store unreadable", t(5)).unwrap();
    let err = store.fail_draft(a, "again", t(5)).unwrap_err().to_string();
    assert!(err.contains("INV-1 is not running (it is failed)"), "{err}");
    let failed = store.drafts(Some(DraftStatus::Failed), 10).unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].error.as_deref(), Some("store unreadable"));
    let all = store.drafts(None, 10).unwrap();
    assert_eq!(all.iter().map(|d| d.id).collect::<Vec<_>>(), [b, a]);
    assert_eq!(
        store.draft_versions(10).unwrap(),
        [(b, t(4)), (a, t(5))],
        "newest first, stamped with the last change"
    );
    assert_eq!(store.draft_versions(1).unwrap().len(), 1);
    assert!(store.draft(99).unwrap().is_none());
}

#[test]
fn labels_parse_back() {
    assert_eq!(parse_draft_label(&draft_label(12)), Some(12));
    assert_eq!(parse_draft_label("12"), Some(12));
    assert_eq!(parse_draft_label("INV-0"), None);
    assert_eq!(parse_draft_label("INV-x"), None);
}
