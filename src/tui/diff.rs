//! Line diff between the AI's draft and the analyst's edits, shown in the
//! verdict editor and summarized in the approve dialog.

use super::model::{DraftFields, FieldEdit};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffOp<'a> {
    Same(&'a str),
    Removed(&'a str),
    Added(&'a str),
}

/// Above this many line pairs the LCS table is skipped and the whole text
/// shown as replaced: drafts are short, and the cost must stay bounded.
const MAX_CELLS: usize = 250_000;

/// Longest-common-subsequence line diff of `old` and `new`.
pub fn lines<'a>(old: &'a str, new: &'a str) -> Vec<DiffOp<'a>> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    if a.len().saturating_mul(b.len()) > MAX_CELLS {
        let mut out: Vec<DiffOp> = a.into_iter().map(DiffOp::Removed).collect();
        out.extend(b.into_iter().map(DiffOp::Added));
        return out;
    }
    // lcs[i][j]: LCS length of a[i..] and b[j..].
    let w = b.len() + 1;
    let mut lcs = vec![0u32; (a.len() + 1) * w];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i * w + j] = if a[i] == b[j] {
                lcs[(i + 1) * w + j + 1] + 1
            } else {
                lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len() + b.len());
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            out.push(DiffOp::Same(a[i]));
            i += 1;
            j += 1;
        } else if lcs[(i + 1) * w + j] >= lcs[i * w + j + 1] {
            out.push(DiffOp::Removed(a[i]));
            i += 1;
        } else {
            out.push(DiffOp::Added(b[j]));
            j += 1;
        }
    }
    out.extend(a[i..].iter().map(|l| DiffOp::Removed(l)));
    out.extend(b[j..].iter().map(|l| DiffOp::Added(l)));
    out
}

/// The fields that differ, with their before/after text, for the analyst log.
pub fn field_edits(before: &DraftFields, after: &DraftFields) -> Vec<FieldEdit> {
    let mut edits = Vec::new();
    let mut push = |field: &'static str, b: String, a: String| {
        if b != a {
            edits.push(FieldEdit {
                field,
                before: b,
                after: a,
            });
        }
    };
    push(
        "verdict",
        before.verdict.label().into(),
        after.verdict.label().into(),
    );
    push(
        "confidence",
        format!("{:.2}", before.confidence),
        format!("{:.2}", after.confidence),
    );
    push(
        "summary",
        before.summary.to_string(),
        after.summary.to_string(),
    );
    push(
        "next_step",
        before.next_step.to_string(),
        after.next_step.to_string(),
    );
    push(
        "free_text",
        before.free_text.to_string(),
        after.free_text.to_string(),
    );
    edits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::model::{SafeText, Verdict};

    #[test]
    fn diff_keeps_common_lines() {
        let ops = lines("a\nb\nc", "a\nx\nc\nd");
        assert_eq!(
            ops,
            [
                DiffOp::Same("a"),
                DiffOp::Removed("b"),
                DiffOp::Added("x"),
                DiffOp::Same("c"),
                DiffOp::Added("d"),
            ]
        );
        assert!(lines("", "").is_empty());
    }

    #[test]
    fn huge_inputs_fall_back_to_replace() {
        let old = "x\n".repeat(1000);
        let new = "y\n".repeat(1000);
        let ops = lines(&old, &new);
        assert_eq!(ops.len(), 2000);
    }

    #[test]
    fn field_edits_list_changed_fields_only() {
        let before = DraftFields {
            verdict: Verdict::Suspicious,
            confidence: 0.5,
            summary: SafeText::new("s"),
            next_step: SafeText::new("n"),
            free_text: SafeText::new(""),
        };
        let mut after = before.clone();
        after.verdict = Verdict::Benign;
        after.free_text = SafeText::new("checked with the owner");
        let edits = field_edits(&before, &after);
        let names: Vec<&str> = edits.iter().map(|e| e.field).collect();
        assert_eq!(names, ["verdict", "free_text"]);
        assert_eq!(edits[0].before, "suspicious");
    }
}
