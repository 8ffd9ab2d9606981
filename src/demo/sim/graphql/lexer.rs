//! Tokens of a GraphQL document, with 1-based positions for errors.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SyntaxError {
    pub message: String,
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token {
    Punct(char),
    Spread,
    Name(String),
    Int(i64),
    Float(f64),
    Str(String),
    End,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Punct(c) => write!(f, "\"{c}\""),
            Token::Spread => f.write_str("\"...\""),
            Token::Name(n) => write!(f, "Name \"{n}\""),
            Token::Int(i) => write!(f, "Int \"{i}\""),
            Token::Float(x) => write!(f, "Float \"{x}\""),
            Token::Str(s) => write!(f, "String \"{s}\""),
            Token::End => f.write_str("<EOF>"),
        }
    }
}

pub(super) struct Lexer<'a> {
    pub(super) text: &'a str,
    pub(super) pos: usize,
}

impl<'a> Lexer<'a> {
    pub(super) fn error(&self, at: usize, message: String) -> SyntaxError {
        let before = &self.text[..at.min(self.text.len())];
        SyntaxError {
            message: format!("Syntax Error: {message}"),
            line: before.matches('\n').count() + 1,
            column: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1,
        }
    }

    fn skip_ignored(&mut self) {
        let bytes = self.text.as_bytes();
        while self.pos < bytes.len() {
            match bytes[self.pos] {
                b' ' | b'\t' | b'\n' | b'\r' | b',' => self.pos += 1,
                b'#' => {
                    while self.pos < bytes.len() && bytes[self.pos] != b'\n' {
                        self.pos += 1;
                    }
                }
                _ if self.text[self.pos..].starts_with('\u{feff}') => self.pos += 3,
                _ => break,
            }
        }
    }

    /// The next token and where it starts.
    pub(super) fn next(&mut self) -> Result<(Token, usize), SyntaxError> {
        self.skip_ignored();
        let start = self.pos;
        let rest = &self.text[self.pos..];
        let Some(c) = rest.chars().next() else {
            return Ok((Token::End, start));
        };
        if rest.starts_with("...") {
            self.pos += 3;
            return Ok((Token::Spread, start));
        }
        if "!$&():=@[]{}|".contains(c) {
            self.pos += 1;
            return Ok((Token::Punct(c), start));
        }
        if c == '_' || c.is_ascii_alphabetic() {
            let len = rest
                .find(|ch: char| !(ch == '_' || ch.is_ascii_alphanumeric()))
                .unwrap_or(rest.len());
            self.pos += len;
            return Ok((Token::Name(rest[..len].to_owned()), start));
        }
        if c == '-' || c.is_ascii_digit() {
            let len = rest
                .char_indices()
                .skip(1)
                .find(|(_, ch)| !(ch.is_ascii_digit() || "eE.+-".contains(*ch)))
                .map_or(rest.len(), |(i, _)| i);
            let number = &rest[..len];
            self.pos += len;
            if let Ok(i) = number.parse::<i64>() {
                return Ok((Token::Int(i), start));
            }
            return number
                .parse::<f64>()
                .map(|x| (Token::Float(x), start))
                .map_err(|_| self.error(start, format!("Invalid number, found \"{number}\".")));
        }
        if let Some(block) = rest.strip_prefix("\"\"\"") {
            let Some(end) = block.find("\"\"\"") else {
                return Err(self.error(start, "Unterminated string.".into()));
            };
            self.pos += end + 6;
            return Ok((Token::Str(block[..end].trim().to_owned()), start));
        }
        if c == '"' {
            return self.string(start);
        }
        Err(self.error(start, format!("Unexpected character: \"{c}\".")))
    }

    fn string(&mut self, start: usize) -> Result<(Token, usize), SyntaxError> {
        let mut out = String::new();
        let mut chars = self.text[start + 1..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos = start + 1 + i + 1;
                    return Ok((Token::Str(out), start));
                }
                '\n' => break,
                '\\' => match chars.next().map(|(_, e)| e) {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    Some('b') => out.push('\u{8}'),
                    Some('f') => out.push('\u{c}'),
                    Some('u') => {
                        let hex: String = (0..4)
                            .filter_map(|_| chars.next().map(|(_, h)| h))
                            .collect();
                        let ch = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                        match ch {
                            Some(ch) => out.push(ch),
                            None => {
                                return Err(self.error(
                                    start + 1 + i,
                                    format!("Invalid Unicode escape sequence: \"\\u{hex}\"."),
                                ));
                            }
                        }
                    }
                    Some(e @ ('"' | '\\' | '/')) => out.push(e),
                    Some(e) => {
                        return Err(self.error(
                            start + 1 + i,
                            format!("Invalid character escape sequence: \"\\{e}\"."),
                        ));
                    }
                    None => break,
                },
                c => out.push(c),
            }
        }
        Err(self.error(start, "Unterminated string.".into()))
    }
}
