//! The Confluence storage-format builder under hostile input: the output is
//! parsed back as XML, and the only markup in it is ours. Attacker text
//! (`<ac:structured-macro …>`, `]]>`, `&`, quotes, control and BiDi
//! characters) comes back as text, never as an element, a macro or a
//! macro parameter.

use proptest::prelude::*;
use quick_xml::Reader;
use quick_xml::events::Event;
use soc_tui::sinks::confluence::storage::OUR_MACROS;
use soc_tui::sinks::confluence::{CodeLanguage, StatusColour, StatusLabel, StorageDoc};

/// What the builder may emit, and nothing else.
const OUR_ELEMENTS: [&str; 16] = [
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "p",
    "ul",
    "li",
    "table",
    "tbody",
    "tr",
    "th",
    "td",
    "ac:structured-macro",
    "ac:parameter",
];
const OUR_BODY_ELEMENT: &str = "ac:plain-text-body";
const OUR_PARAMETER_VALUES: [&str; 14] = [
    "json",
    "text",
    "Grey",
    "Red",
    "Yellow",
    "Green",
    "Blue",
    "likely malicious",
    "suspicious",
    "misconfiguration",
    "benign",
    "inconclusive",
    "draft",
    "approved",
];

const HOSTILE: [&str; 8] = [
    "<ac:structured-macro ac:name=\"html\"><ac:plain-text-body><![CDATA[<script>alert(1)</script>]]></ac:plain-text-body></ac:structured-macro>",
    "]]>",
    "a]]>b]]]]>c",
    "Tom & Jerry &amp; &#x3c; &nbsp;",
    "\"double\" 'single' <b>bold</b>",
    "ctl\u{0}\u{1}\u{8}\u{b}\u{c}\u{1b}[2J\u{7f}\u{9b}end",
    "bidi \u{202e}gnp.exe\u{200b}\u{feff}",
    "nonchar \u{fffe}\u{ffff} tab\tnewline\nreturn\r",
];

#[derive(Debug, Default)]
struct Parsed {
    elements: Vec<String>,
    /// `(macro name, [(parameter name, value)])`.
    macros: Vec<(String, Vec<(String, String)>)>,
    /// Character data outside macros, references resolved.
    text: String,
    /// CDATA bodies of code macros, sections joined.
    code: Vec<String>,
}

/// Parses `storage` (a fragment, so it is wrapped in one root) strictly
/// enough to fail on anything malformed.
fn parse(storage: &str) -> Result<Parsed, String> {
    let wrapped = format!("<root>{storage}</root>");
    let mut reader = Reader::from_str(&wrapped);
    reader.config_mut().check_end_names = true;
    let mut parsed = Parsed::default();
    let mut stack: Vec<String> = Vec::new();
    let mut in_parameter: Option<(String, String)> = None;
    loop {
        match reader
            .read_event()
            .map_err(|e| format!("at {}: {e}", reader.buffer_position()))?
        {
            Event::Start(start) => {
                let name = start.name().as_ref().to_owned();
                let attributes: Vec<(String, String)> = start
                    .attributes()
                    .map(|a| {
                        let a = a.map_err(|e| e.to_string())?;
                        Ok((
                            a.key.as_ref().to_owned(),
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .map_err(|e| e.to_string())?
                                .into_owned(),
                        ))
                    })
                    .collect::<Result<_, String>>()?;
                let attribute = |key: &str| {
                    attributes
                        .iter()
                        .find(|(k, _)| k == key)
                        .map(|(_, v)| v.clone())
                };
                match name.as_str() {
                    "ac:structured-macro" => parsed.macros.push((
                        attribute("ac:name").ok_or("macro without a name")?,
                        Vec::new(),
                    )),
                    "ac:parameter" => {
                        in_parameter = Some((
                            attribute("ac:name").ok_or("parameter without a name")?,
                            String::new(),
                        ))
                    }
                    OUR_BODY_ELEMENT => parsed.code.push(String::new()),
                    _ => {}
                }
                if name != "root" {
                    parsed.elements.push(name.clone());
                }
                stack.push(name);
            }
            Event::End(end) => {
                let name = end.name().as_ref().to_owned();
                if name == "ac:parameter" {
                    let parameter = in_parameter.take().ok_or("unbalanced parameter")?;
                    parsed
                        .macros
                        .last_mut()
                        .ok_or("parameter outside a macro")?
                        .1
                        .push(parameter);
                }
                stack.pop();
            }
            Event::Text(text) => push_text(&mut parsed, &mut in_parameter, &text.xml10_content()),
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&reference)
                        .ok_or_else(|| format!("undefined entity &{};", &*reference))?
                        .to_owned(),
                };
                push_text(&mut parsed, &mut in_parameter, &resolved);
            }
            Event::CData(data) => {
                if stack.last().map(String::as_str) != Some(OUR_BODY_ELEMENT) {
                    return Err("CDATA outside a code body".into());
                }
                let section = data.into_inner().into_owned();
                parsed
                    .code
                    .last_mut()
                    .ok_or("no code body")?
                    .push_str(&section);
            }
            Event::Empty(empty) => {
                return Err(format!("unexpected empty element {:?}", empty.name()));
            }
            Event::Eof => break,
            other => return Err(format!("unexpected {other:?}")),
        }
    }
    if !stack.is_empty() {
        return Err(format!("unclosed {stack:?}"));
    }
    Ok(parsed)
}

fn push_text(parsed: &mut Parsed, in_parameter: &mut Option<(String, String)>, text: &str) {
    match in_parameter {
        Some((_, value)) => value.push_str(text),
        None => parsed.text.push_str(text),
    }
}

/// XML 1.0 `Char`: what may appear in a document at all.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn assert_only_our_markup(storage: &str) -> Parsed {
    let bad: Vec<char> = storage.chars().filter(|c| !is_xml_char(*c)).collect();
    assert!(
        bad.is_empty(),
        "characters XML 1.0 forbids: {bad:?}\n{storage}"
    );
    let parsed = parse(storage).unwrap_or_else(|e| panic!("not well-formed: {e}\n{storage}"));
    for element in &parsed.elements {
        assert!(
            OUR_ELEMENTS.contains(&element.as_str()) || element == OUR_BODY_ELEMENT,
            "foreign element {element}\n{storage}"
        );
    }
    for (name, parameters) in &parsed.macros {
        assert!(
            OUR_MACROS.contains(&name.as_str()),
            "foreign macro {name}\n{storage}"
        );
        for (parameter, value) in parameters {
            assert!(
                ["language", "colour", "title"].contains(&parameter.as_str())
                    && OUR_PARAMETER_VALUES.contains(&value.as_str()),
                "foreign parameter {parameter}={value:?}\n{storage}"
            );
        }
    }
    parsed
}

fn hostile_report(hostile: &str) -> String {
    StorageDoc::new()
        .heading(2, hostile)
        .paragraph(hostile)
        .status(StatusColour::Red, StatusLabel::LikelyMalicious, hostile)
        .bullet_list(&[hostile, "plain"])
        .table(&["time", hostile], &[vec!["11:02", hostile], vec![hostile]])
        .code_block(CodeLanguage::Json, hostile)
        .finish()
}

#[test]
fn hostile_text_stays_text_in_every_block() {
    for hostile in HOSTILE {
        let storage = hostile_report(hostile);
        let parsed = assert_only_our_markup(&storage);
        let names: Vec<&str> = parsed.macros.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["status", "code"], "{storage}");
        assert_eq!(parsed.code.len(), 1);
    }
}

#[test]
fn markup_in_input_comes_back_as_the_same_text() {
    let storage = hostile_report(HOSTILE[0]);
    let parsed = assert_only_our_markup(&storage);
    assert!(parsed.text.contains(HOSTILE[0]), "{}", parsed.text);
    assert_eq!(
        parsed.code,
        [HOSTILE[0]],
        "the code body must round-trip exactly"
    );
    let amp = assert_only_our_markup(&hostile_report(HOSTILE[3]));
    assert!(
        amp.text.contains("Tom & Jerry &amp; &#x3c; &nbsp;"),
        "{}",
        amp.text
    );
}

#[test]
fn cdata_terminators_are_split_and_rejoin_exactly() {
    for text in ["]]>", "a]]>b]]]]>c", "]]>]]>", "x]]", "]>"] {
        let storage = StorageDoc::new()
            .code_block(CodeLanguage::Text, text)
            .finish();
        let parsed = assert_only_our_markup(&storage);
        assert_eq!(parsed.code, [text], "{storage}");
    }
}

#[test]
fn control_characters_are_replaced_visibly() {
    let parsed = assert_only_our_markup(&hostile_report(HOSTILE[5]));
    assert!(
        parsed
            .text
            .contains("ctl\\x00\\x01\\x08\\x0b\\x0c\\x1b[2J\\x7f\\u{9b}end"),
        "{}",
        parsed.text
    );
    let bidi = assert_only_our_markup(&hostile_report(HOSTILE[6]));
    assert!(
        bidi.text.contains("\\u{202e}gnp.exe\\u{200b}\\u{feff}"),
        "{}",
        bidi.text
    );
}

#[test]
fn the_checker_itself_catches_foreign_markup() {
    let injected = "<p>x</p><ac:structured-macro ac:name=\"html\"></ac:structured-macro>";
    let parsed = parse(injected).expect("well-formed");
    assert_eq!(parsed.macros[0].0, "html");
    assert!(parse("<p>a]]>b</p><![CDATA[x]]>").is_err());
    assert!(parse("<p>&bogus;</p>").is_err());
    assert!(parse("<p><b></p></b>").is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_text_in_any_block_yields_only_our_markup(text in any::<String>(), code in ".*\\]\\]>.*") {
        let storage = StorageDoc::new()
            .heading(3, &text)
            .paragraph(&text)
            .status(StatusColour::Yellow, StatusLabel::Suspicious, &text)
            .table(&[text.as_str()], &[vec![text.clone()]])
            .code_block(CodeLanguage::Text, &code)
            .code_block(CodeLanguage::Json, &text)
            .finish();
        let parsed = assert_only_our_markup(&storage);
        prop_assert_eq!(parsed.macros.len(), 3);
        prop_assert_eq!(parsed.code.len(), 2);
    }
}
