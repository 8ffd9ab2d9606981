//! Is a Confluence storage-format body well-formed? Confluence parses the
//! body as XHTML and refuses the page otherwise ("Error parsing xhtml: …").
//!
//! The body is a fragment (several top-level elements and text), so it is
//! checked inside a wrapper element. Namespace prefixes (`ac:`, `ri:`) need
//! no declaration, as in Confluence. Named entities are XML's five plus the
//! HTML ones Confluence's XHTML accepts; any other is an undeclared entity.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

const OPEN: &str = "<storage-root>";
const CLOSE: &str = "</storage-root>";

/// HTML named entities accepted besides `amp lt gt quot apos`.
const HTML_ENTITIES: [&str; 48] = [
    "nbsp", "copy", "reg", "trade", "mdash", "ndash", "hellip", "lsquo", "rsquo", "ldquo", "rdquo",
    "sbquo", "bdquo", "laquo", "raquo", "lsaquo", "rsaquo", "middot", "bull", "rarr", "larr",
    "uarr", "darr", "harr", "rArr", "lArr", "times", "divide", "deg", "plusmn", "para", "sect",
    "euro", "pound", "yen", "cent", "shy", "iexcl", "iquest", "ensp", "emsp", "thinsp", "zwj",
    "zwnj", "prime", "Prime", "minus", "check",
];

/// `Ok` when `body` is well-formed storage format; otherwise the message
/// Confluence would give, with the 1-based `[row,col]` in `body`.
pub(crate) fn check(body: &str) -> Result<(), String> {
    let wrapped = format!("{OPEN}{body}{CLOSE}");
    let mut reader = Reader::from_str(&wrapped);
    reader.config_mut().check_end_names = true;
    reader.config_mut().check_comments = true;
    let fail = |offset: u64, what: String| -> String {
        let at = (offset as usize).saturating_sub(OPEN.len()).min(body.len());
        let (row, col) = row_col(body, at);
        format!("Error parsing xhtml: {what} at [row,col]: [{row},{col}]")
    };
    let mut depth = 0usize;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| fail(reader.error_position(), e.to_string()))?;
        let here = reader.buffer_position();
        match event {
            Event::Start(tag) => {
                if depth == 0 && here as usize > OPEN.len() {
                    return Err(fail(here, "content after the end of the body".into()));
                }
                check_tag(&tag).map_err(|what| fail(here, what))?;
                depth += 1;
            }
            Event::Empty(tag) => check_tag(&tag).map_err(|what| fail(here, what))?,
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::GeneralRef(reference) => {
                let name: &str = &reference;
                check_reference(name).map_err(|what| fail(here, what))?;
            }
            Event::DocType(_) => {
                return Err(fail(here, "a DOCTYPE is not allowed in a page body".into()));
            }
            Event::Decl(_) => {
                return Err(fail(here, "an XML declaration is not allowed here".into()));
            }
            Event::Text(text) if depth == 0 && !text.chars().all(char::is_whitespace) => {
                return Err(fail(here, "content after the end of the body".into()));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if depth != 0 {
        return Err(fail(
            wrapped.len() as u64,
            "an element is not closed before the end of the body".into(),
        ));
    }
    Ok(())
}

fn check_tag(tag: &BytesStart<'_>) -> Result<(), String> {
    let name = tag.name().as_ref().to_owned();
    let valid_start = name
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_' || c == ':');
    if !valid_start {
        return Err(format!("{name:?} is not a valid element name"));
    }
    let mut attributes = tag.attributes();
    attributes.with_checks(true);
    for attribute in attributes {
        let attribute = attribute.map_err(|e| format!("in <{name}>: {e}"))?;
        let value = &attribute.value;
        if value.contains('<') {
            return Err(format!(
                "in <{name}>: the value of attribute {:?} contains '<'",
                attribute.key.as_ref()
            ));
        }
        check_attribute_references(value).map_err(|what| format!("in <{name}>: {what}"))?;
    }
    Ok(())
}

/// Every `&` in an attribute value starts a complete, known reference.
fn check_attribute_references(value: &str) -> Result<(), String> {
    let mut rest = value;
    while let Some(at) = rest.find('&') {
        let after = &rest[at + 1..];
        let Some(end) = after.find(';') else {
            return Err("the entity name must immediately follow the '&'".into());
        };
        check_reference(&after[..end])?;
        rest = &after[end + 1..];
    }
    Ok(())
}

fn check_reference(name: &str) -> Result<(), String> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number
            .strip_prefix('x')
            .or_else(|| number.strip_prefix('X'))
        {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => number.parse::<u32>().ok(),
        };
        return match code.and_then(char::from_u32) {
            Some(c) if xml_char(c) => Ok(()),
            _ => Err(format!("invalid character reference &{name};")),
        };
    }
    if ["amp", "lt", "gt", "quot", "apos"].contains(&name) || HTML_ENTITIES.contains(&name) {
        Ok(())
    } else if name.is_empty() {
        Err("the entity name must immediately follow the '&'".into())
    } else {
        Err(format!("Undeclared general entity \"{name}\""))
    }
}

/// XML 1.0 `Char`.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn row_col(text: &str, offset: usize) -> (usize, usize) {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let row = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map_or(0, |line| line.chars().count())
        + 1;
    (row, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_confluence_storage_with_macros_entities_and_fragments() {
        let body = r#"<h2>Summary</h2><p>Token &ldquo;deploy-all&rdquo; &amp; more&nbsp;&#8212; &#x2014;</p>
<ac:structured-macro ac:name="info"><ac:rich-text-body><p>x</p></ac:rich-text-body></ac:structured-macro>
<table><tbody><tr><th>a</th><td><a href="https://x/?a=1&amp;b=2">l</a></td></tr></tbody></table><br/>tail text"#;
        assert_eq!(check(body), Ok(()));
        assert_eq!(check(""), Ok(()));
        assert_eq!(check("plain text"), Ok(()));
    }

    #[test]
    fn refuses_what_an_xml_parser_refuses() {
        for bad in [
            "<p>unclosed",
            "<p><b>x</p></b>",
            "</p>",
            "<p>a & b</p>",
            "<p>&bogus;</p>",
            "<p>&#0;</p>",
            r#"<a href="x" href="y">l</a>"#,
            "<a href=x>l</a>",
            r#"<a title="a<b">l</a>"#,
            r#"<a title="a&b">l</a>"#,
            "<!DOCTYPE html><p>x</p>",
            "<p>x</p></storage-root><p>y</p>",
            "<!-- a -- b -->",
            "<1p>x</1p>",
        ] {
            let err = check(bad).expect_err(bad);
            assert!(err.starts_with("Error parsing xhtml: "), "{bad}: {err}");
            assert!(err.contains("[row,col]"), "{bad}: {err}");
        }
    }

    #[test]
    fn positions_are_in_the_body_not_the_wrapper() {
        let err = check("<p>ok</p>\n<p>x</b>").unwrap_err();
        assert!(err.ends_with("[2,8]") || err.contains("[2,"), "{err}");
    }
}
