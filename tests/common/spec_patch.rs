//! Builds a spec for Prism from the files in `../shared/specs` when the
//! trimmed file lacks an operation: the operation is copied verbatim from
//! the full upstream file, with the transitive closure of the components it
//! references. The result is written to a temp dir; nothing in `shared/` is
//! modified.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// `base` plus `method path` (and its `$ref` closure) from `donor`.
pub fn with_operation(
    base: &Path,
    donor: &Path,
    path: &str,
    method: &str,
) -> (tempfile::TempDir, PathBuf) {
    let read = |p: &Path| -> Value {
        let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    };
    let mut spec = read(base);
    let donor = read(donor);
    let operation = donor["paths"][path][method].clone();
    assert!(
        operation.is_object(),
        "{method} {path} not in the donor spec"
    );
    spec["paths"][path][method] = operation.clone();

    let mut pending: Vec<String> = Vec::new();
    collect_refs(&operation, &mut pending);
    let mut seen = BTreeSet::new();
    while let Some(reference) = pending.pop() {
        if !seen.insert(reference.clone()) {
            continue;
        }
        let Some(pointer) = reference.strip_prefix('#') else {
            continue;
        };
        let component = donor
            .pointer(pointer)
            .unwrap_or_else(|| panic!("dangling $ref {reference} in the donor spec"))
            .clone();
        collect_refs(&component, &mut pending);
        if spec.pointer(pointer).is_none() {
            insert_at(&mut spec, pointer, component);
        }
    }

    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join(
        base.file_name()
            .and_then(|n| n.to_str())
            .map(|n| {
                format!(
                    "with-{method}-{}.{n}",
                    path.trim_matches('/').replace('/', "-")
                )
            })
            .unwrap_or_else(|| "spec.json".into()),
    );
    std::fs::write(&file, serde_json::to_vec_pretty(&spec).expect("json")).expect("write spec");
    (dir, file)
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if key == "$ref" {
                    if let Some(r) = child.as_str() {
                        out.push(r.to_owned());
                    }
                } else {
                    collect_refs(child, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// Sets `/a/b/c` in `root`, creating objects on the way (JSON pointer
/// escapes `~1` and `~0` are decoded).
fn insert_at(root: &mut Value, pointer: &str, value: Value) {
    let parts: Vec<String> = pointer
        .trim_start_matches('/')
        .split('/')
        .map(|p| p.replace("~1", "/").replace("~0", "~"))
        .collect();
    let mut node = root;
    for part in &parts[..parts.len() - 1] {
        node = node
            .as_object_mut()
            .expect("object on the path")
            .entry(part.clone())
            .or_insert_with(|| Value::Object(Default::default()));
    }
    node[parts[parts.len() - 1].as_str()] = value;
}
