//! Whole JSON documents: an API response page, a bare array of entries, or
//! one entry. Entries are split as `RawValue`s (verbatim slices of the
//! input) and parsed one by one, so one bad entry is one rejection.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::error::{DocumentError, EntryError, excerpt};
use super::lenient::{Kind, Loose, Obj};
use super::{Parsed, Rejection, dispatch, parse_any, utf8, wire};

/// The page keys of both services. Anything else in the object is ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct Envelope<'a> {
    /// Cloudflare v1 and v2.
    #[serde(borrow)]
    result: Option<&'a RawValue>,
    /// Datadog.
    #[serde(borrow)]
    data: Option<&'a RawValue>,
    /// Cloudflare: `false` on an error response.
    success: Loose<'a>,
    /// Cloudflare `[{code, message}]`, Datadog `["message"]`.
    #[serde(borrow)]
    errors: Option<&'a RawValue>,
}

pub(crate) fn parse(bytes: &[u8]) -> Result<Parsed, DocumentError> {
    let (text, bad_utf8) = utf8::repair(super::strip_bom(bytes));
    let text: &str = &text;
    match text.trim_start().as_bytes().first() {
        None => Err(DocumentError::Empty),
        Some(b'[') => {
            let entries: Vec<&RawValue> =
                serde_json::from_str(text).map_err(DocumentError::Syntax)?;
            Ok(load(&entries, text, &bad_utf8))
        }
        Some(b'{') => {
            let envelope: Envelope<'_> =
                serde_json::from_str(text).map_err(DocumentError::Syntax)?;
            parse_object(envelope, text, &bad_utf8)
        }
        Some(_) => {
            let value: Loose<'_> = serde_json::from_str(text).map_err(DocumentError::Syntax)?;
            Err(DocumentError::NotContainer(
                value.kind().unwrap_or(Kind::Null),
            ))
        }
    }
}

fn parse_object(
    envelope: Envelope<'_>,
    text: &str,
    bad_utf8: &[usize],
) -> Result<Parsed, DocumentError> {
    let failed = matches!(envelope.success, Loose::Bool(false));
    if failed {
        return Err(service_error(envelope.errors, failed));
    }
    let list = envelope
        .result
        .map(|list| ("result", list))
        .or(envelope.data.map(|list| ("data", list)));
    if let Some((key, list)) = list {
        let entries: Vec<&RawValue> =
            serde_json::from_str(list.get()).map_err(|_| DocumentError::ListNotArray {
                key,
                got: kind_of(list),
            })?;
        return Ok(load(&entries, text, bad_utf8));
    }
    if envelope.errors.is_some_and(|e| !is_empty_list(e)) {
        return Err(service_error(
            envelope.errors,
            !envelope.success.is_absent(),
        ));
    }
    parse_single_entry(text, bad_utf8)
}

/// A document that is one entry object: loaded as `entry 0` when it has a
/// recognizable shape; otherwise the document is not audit data at all.
fn parse_single_entry(text: &str, bad_utf8: &[usize]) -> Result<Parsed, DocumentError> {
    let raw = text.trim();
    let result = match wire::Entry::from_json(raw) {
        Ok(entry) => {
            let shape = entry.shape().map_err(|_| DocumentError::Unrecognized)?;
            check_utf8(raw, text, bad_utf8).and_then(|()| dispatch(shape, entry, raw))
        }
        // The syntax is sound (the envelope parsed): a fault of the entry.
        Err(e) => Err(e),
    };
    let mut parsed = Parsed::default();
    match result {
        Ok(event) => parsed.events.push(event),
        Err(e) => parsed.rejected.push(rejection(0, &e)),
    }
    Ok(parsed)
}

fn load(entries: &[&RawValue], text: &str, bad_utf8: &[usize]) -> Parsed {
    let mut parsed = Parsed {
        events: Vec::with_capacity(entries.len()),
        rejected: Vec::new(),
    };
    for (index, entry) in entries.iter().enumerate() {
        let raw = entry.get();
        match check_utf8(raw, text, bad_utf8).and_then(|()| parse_any(raw)) {
            Ok(event) => parsed.events.push(event),
            Err(e) => parsed.rejected.push(rejection(index, &e)),
        }
    }
    parsed
}

/// Rejects an entry whose bytes held invalid UTF-8 in the original input.
fn check_utf8(raw: &str, text: &str, bad_utf8: &[usize]) -> Result<(), EntryError> {
    if bad_utf8.is_empty() {
        return Ok(());
    }
    let bad = match utf8::offset_within(text, raw) {
        Some(start) => utf8::first_bad_in(bad_utf8, start, start + raw.len()),
        // Cannot place the entry: do not vouch for it.
        None => bad_utf8.first().copied(),
    };
    match bad {
        Some(offset) => Err(EntryError::InvalidUtf8 {
            offset,
            within: "document",
        }),
        None => Ok(()),
    }
}

fn rejection(index: usize, error: &EntryError) -> Rejection {
    Rejection {
        position: format!("entry {index}"),
        reason: error.to_string(),
    }
}

fn kind_of(value: &RawValue) -> Kind {
    serde_json::from_str::<Loose<'_>>(value.get())
        .ok()
        .and_then(|v| v.kind())
        .unwrap_or(Kind::Null)
}

fn is_empty_list(value: &RawValue) -> bool {
    serde_json::from_str::<Vec<&RawValue>>(value.get()).is_ok_and(|list| list.is_empty())
}

/// The service's own messages, bounded: Cloudflare `{code, message}`
/// objects (and a `success` flag) or Datadog strings.
fn service_error(errors: Option<&RawValue>, has_success_flag: bool) -> DocumentError {
    const MAX_MESSAGES: usize = 5;
    const MAX_CHARS: usize = 200;
    let list = errors.map_or("[]", RawValue::get);
    // Each item is read twice, leniently: as a string, and as an object.
    let texts: Vec<Loose<'_>> = serde_json::from_str(list).unwrap_or_default();
    let objects: Vec<Obj<ErrorItem<'_>>> = serde_json::from_str(list).unwrap_or_default();
    let service = if has_success_flag || objects.iter().any(|o| o.as_ref().is_some()) {
        "Cloudflare"
    } else {
        "Datadog"
    };
    let mut messages: Vec<String> = texts
        .into_iter()
        .zip(objects)
        .take(MAX_MESSAGES)
        .filter_map(|(text, object)| {
            text.into_text().or_else(|| {
                let item = object.present()?;
                let message = item.message.into_text()?;
                Some(match item.code.into_text() {
                    Some(code) => format!("[{code}] {message}"),
                    None => message,
                })
            })
        })
        .map(|message| excerpt(&message, MAX_CHARS))
        .collect();
    if messages.is_empty() {
        messages.push("(no error message)".into());
    }
    DocumentError::Service {
        service,
        messages: messages.join("; "),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
struct ErrorItem<'a> {
    code: Loose<'a>,
    message: Loose<'a>,
}
