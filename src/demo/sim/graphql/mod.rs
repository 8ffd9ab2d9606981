//! Just enough GraphQL to serve the Linear simulator: a parser for
//! executable documents (operations, variables, fields with arguments and
//! aliases, fragments) and value resolution against the request's
//! variables. Errors read like a GraphQL server's ("Syntax Error: …").

use std::collections::HashMap;
use std::fmt;

use serde_json::{Map, Number, Value};

mod lexer;

pub(crate) use lexer::SyntaxError;
use lexer::{Lexer, Token};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OperationKind {
    Query,
    Mutation,
    Subscription,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TypeRef {
    Named(String),
    List(Box<TypeRef>),
    NonNull(Box<TypeRef>),
}

impl fmt::Display for TypeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypeRef::Named(name) => f.write_str(name),
            TypeRef::List(inner) => write!(f, "[{inner}]"),
            TypeRef::NonNull(inner) => write!(f, "{inner}!"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum GqlValue {
    Variable(String),
    Int(i64),
    Float(f64),
    String(String),
    Boolean(bool),
    Null,
    Enum(String),
    List(Vec<GqlValue>),
    Object(Vec<(String, GqlValue)>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VariableDef {
    pub name: String,
    pub ty: TypeRef,
    pub default: Option<GqlValue>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Field {
    pub alias: Option<String>,
    pub name: String,
    pub arguments: Vec<(String, GqlValue)>,
    pub selections: Vec<Selection>,
}

impl Field {
    /// The key the field's value has in the response.
    pub(crate) fn response_key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }

    pub(crate) fn argument(&self, name: &str) -> Option<&GqlValue> {
        self.arguments
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Selection {
    Field(Field),
    Spread(String),
    Inline {
        on: Option<String>,
        selections: Vec<Selection>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Operation {
    pub kind: OperationKind,
    pub name: Option<String>,
    pub variables: Vec<VariableDef>,
    pub selections: Vec<Selection>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Document {
    pub operations: Vec<Operation>,
    pub fragments: HashMap<String, (String, Vec<Selection>)>,
}

impl Document {
    /// The fields of `selections` with fragments expanded (for `type_name`).
    pub(crate) fn fields<'a>(
        &'a self,
        selections: &'a [Selection],
        type_name: &str,
    ) -> Result<Vec<&'a Field>, String> {
        let mut out = Vec::new();
        self.collect(selections, type_name, &mut out, 0)?;
        Ok(out)
    }

    fn collect<'a>(
        &'a self,
        selections: &'a [Selection],
        type_name: &str,
        out: &mut Vec<&'a Field>,
        depth: usize,
    ) -> Result<(), String> {
        if depth > 16 {
            return Err("Fragments are nested too deeply (or form a cycle).".into());
        }
        for selection in selections {
            match selection {
                Selection::Field(field) => out.push(field),
                Selection::Spread(name) => {
                    let (on, inner) = self
                        .fragments
                        .get(name)
                        .ok_or_else(|| format!("Unknown fragment \"{name}\"."))?;
                    if on == type_name {
                        self.collect(inner, type_name, out, depth + 1)?;
                    }
                }
                Selection::Inline { on, selections } => {
                    if on.as_deref().is_none_or(|on| on == type_name) {
                        self.collect(selections, type_name, out, depth + 1)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// A syntax error with its 1-based position.
struct Parser<'a> {
    lexer: Lexer<'a>,
    token: Token,
    at: usize,
}

/// Parses an executable GraphQL document.
pub(crate) fn parse(text: &str) -> Result<Document, SyntaxError> {
    let mut lexer = Lexer { text, pos: 0 };
    let (token, at) = lexer.next()?;
    let mut parser = Parser { lexer, token, at };
    let mut document = Document::default();
    while parser.token != Token::End {
        parser.definition(&mut document)?;
    }
    if document.operations.is_empty() {
        return Err(parser
            .lexer
            .error(0, "Unexpected <EOF>: the document has no operation.".into()));
    }
    Ok(document)
}

impl Parser<'_> {
    fn advance(&mut self) -> Result<Token, SyntaxError> {
        let (next, at) = self.lexer.next()?;
        self.at = at;
        Ok(std::mem::replace(&mut self.token, next))
    }

    fn unexpected(&self, expected: &str) -> SyntaxError {
        self.lexer.error(
            self.at,
            format!("Expected {expected}, found {}.", self.token),
        )
    }

    fn punct(&mut self, c: char) -> Result<(), SyntaxError> {
        if self.token == Token::Punct(c) {
            self.advance()?;
            Ok(())
        } else {
            Err(self.unexpected(&format!("\"{c}\"")))
        }
    }

    fn is_punct(&self, c: char) -> bool {
        self.token == Token::Punct(c)
    }

    fn name(&mut self) -> Result<String, SyntaxError> {
        match &self.token {
            Token::Name(_) => match self.advance()? {
                Token::Name(n) => Ok(n),
                _ => Err(self.unexpected("Name")),
            },
            _ => Err(self.unexpected("Name")),
        }
    }

    fn definition(&mut self, document: &mut Document) -> Result<(), SyntaxError> {
        if self.is_punct('{') {
            let selections = self.selection_set()?;
            document.operations.push(Operation {
                kind: OperationKind::Query,
                name: None,
                variables: Vec::new(),
                selections,
            });
            return Ok(());
        }
        let keyword = self.name()?;
        let kind = match keyword.as_str() {
            "query" => OperationKind::Query,
            "mutation" => OperationKind::Mutation,
            "subscription" => OperationKind::Subscription,
            "fragment" => {
                let name = self.name()?;
                if self.name()? != "on" {
                    return Err(self.unexpected("\"on\""));
                }
                let on = self.name()?;
                self.directives()?;
                let selections = self.selection_set()?;
                document.fragments.insert(name, (on, selections));
                return Ok(());
            }
            other => {
                return Err(self
                    .lexer
                    .error(self.at, format!("Unexpected Name \"{other}\".")));
            }
        };
        let name = match self.token {
            Token::Name(_) => Some(self.name()?),
            _ => None,
        };
        let mut variables = Vec::new();
        if self.is_punct('(') {
            self.advance()?;
            while !self.is_punct(')') {
                self.punct('$')?;
                let name = self.name()?;
                self.punct(':')?;
                let ty = self.type_ref()?;
                let default = if self.is_punct('=') {
                    self.advance()?;
                    Some(self.value()?)
                } else {
                    None
                };
                self.directives()?;
                variables.push(VariableDef { name, ty, default });
            }
            self.advance()?;
        }
        self.directives()?;
        let selections = self.selection_set()?;
        document.operations.push(Operation {
            kind,
            name,
            variables,
            selections,
        });
        Ok(())
    }

    fn type_ref(&mut self) -> Result<TypeRef, SyntaxError> {
        let ty = if self.is_punct('[') {
            self.advance()?;
            let inner = self.type_ref()?;
            self.punct(']')?;
            TypeRef::List(Box::new(inner))
        } else {
            TypeRef::Named(self.name()?)
        };
        if self.is_punct('!') {
            self.advance()?;
            return Ok(TypeRef::NonNull(Box::new(ty)));
        }
        Ok(ty)
    }

    /// Directives are parsed and ignored: the simulator implements none.
    fn directives(&mut self) -> Result<(), SyntaxError> {
        while self.is_punct('@') {
            self.advance()?;
            self.name()?;
            if self.is_punct('(') {
                self.arguments()?;
            }
        }
        Ok(())
    }

    fn selection_set(&mut self) -> Result<Vec<Selection>, SyntaxError> {
        self.punct('{')?;
        let mut selections = Vec::new();
        while !self.is_punct('}') {
            if self.token == Token::End {
                return Err(self.unexpected("Name"));
            }
            selections.push(self.selection()?);
        }
        self.advance()?;
        if selections.is_empty() {
            return Err(self.unexpected("Name"));
        }
        Ok(selections)
    }

    fn selection(&mut self) -> Result<Selection, SyntaxError> {
        if self.token == Token::Spread {
            self.advance()?;
            if matches!(&self.token, Token::Name(n) if n != "on") {
                let name = self.name()?;
                self.directives()?;
                return Ok(Selection::Spread(name));
            }
            let on = if matches!(&self.token, Token::Name(n) if n == "on") {
                self.advance()?;
                Some(self.name()?)
            } else {
                None
            };
            self.directives()?;
            let selections = self.selection_set()?;
            return Ok(Selection::Inline { on, selections });
        }
        let first = self.name()?;
        let (alias, name) = if self.is_punct(':') {
            self.advance()?;
            (Some(first), self.name()?)
        } else {
            (None, first)
        };
        let arguments = if self.is_punct('(') {
            self.arguments()?
        } else {
            Vec::new()
        };
        self.directives()?;
        let selections = if self.is_punct('{') {
            self.selection_set()?
        } else {
            Vec::new()
        };
        Ok(Selection::Field(Field {
            alias,
            name,
            arguments,
            selections,
        }))
    }

    fn arguments(&mut self) -> Result<Vec<(String, GqlValue)>, SyntaxError> {
        self.punct('(')?;
        let mut out = Vec::new();
        while !self.is_punct(')') {
            let name = self.name()?;
            self.punct(':')?;
            out.push((name, self.value()?));
        }
        self.advance()?;
        if out.is_empty() {
            return Err(self.unexpected("Name"));
        }
        Ok(out)
    }

    fn value(&mut self) -> Result<GqlValue, SyntaxError> {
        if self.is_punct('$') {
            self.advance()?;
            return Ok(GqlValue::Variable(self.name()?));
        }
        if self.is_punct('[') {
            self.advance()?;
            let mut items = Vec::new();
            while !self.is_punct(']') {
                items.push(self.value()?);
            }
            self.advance()?;
            return Ok(GqlValue::List(items));
        }
        if self.is_punct('{') {
            self.advance()?;
            let mut fields = Vec::new();
            while !self.is_punct('}') {
                let name = self.name()?;
                self.punct(':')?;
                fields.push((name, self.value()?));
            }
            self.advance()?;
            return Ok(GqlValue::Object(fields));
        }
        let value = match &self.token {
            Token::Int(i) => GqlValue::Int(*i),
            Token::Float(x) => GqlValue::Float(*x),
            Token::Str(s) => GqlValue::String(s.clone()),
            Token::Name(n) => match n.as_str() {
                "true" => GqlValue::Boolean(true),
                "false" => GqlValue::Boolean(false),
                "null" => GqlValue::Null,
                other => GqlValue::Enum(other.to_owned()),
            },
            _ => return Err(self.unexpected("a value")),
        };
        self.advance()?;
        Ok(value)
    }
}

/// A literal or variable as JSON, with `$variables` substituted.
pub(crate) fn resolve(value: &GqlValue, variables: &Map<String, Value>) -> Result<Value, String> {
    Ok(match value {
        GqlValue::Variable(name) => variables
            .get(name)
            .cloned()
            .ok_or_else(|| format!("Variable \"${name}\" is not defined."))?,
        GqlValue::Int(i) => Value::Number((*i).into()),
        GqlValue::Float(x) => Number::from_f64(*x).map_or(Value::Null, Value::Number),
        GqlValue::String(s) | GqlValue::Enum(s) => Value::String(s.clone()),
        GqlValue::Boolean(b) => Value::Bool(*b),
        GqlValue::Null => Value::Null,
        GqlValue::List(items) => Value::Array(
            items
                .iter()
                .map(|v| resolve(v, variables))
                .collect::<Result<_, _>>()?,
        ),
        GqlValue::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| resolve(v, variables).map(|v| (k.clone(), v)))
                .collect::<Result<_, _>>()?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_the_documents_soc_tui_sends() {
        let doc = parse(
            "mutation SocIssueCreate($input: IssueCreateInput!) {\n  issueCreate(input: $input) { success issue { id identifier url } }\n}",
        )
        .unwrap();
        let op = &doc.operations[0];
        assert_eq!(op.kind, OperationKind::Mutation);
        assert_eq!(op.name.as_deref(), Some("SocIssueCreate"));
        assert_eq!(op.variables[0].ty.to_string(), "IssueCreateInput!");
        let fields = doc.fields(&op.selections, "Mutation").unwrap();
        assert_eq!(fields[0].name, "issueCreate");
        assert_eq!(fields[0].selections.len(), 2);

        let doc = parse(
            r#"query L($names: [String!]!) { labels: issueLabels(first: 100, filter: { name: { in: $names } }) { nodes { ...F } } } fragment F on IssueLabel { id name }"#,
        )
        .unwrap();
        let field = doc.fields(&doc.operations[0].selections, "Query").unwrap()[0];
        assert_eq!(field.response_key(), "labels");
        let vars = json!({"names": ["a"]});
        let filter = resolve(field.argument("filter").unwrap(), vars.as_object().unwrap()).unwrap();
        assert_eq!(filter, json!({"name": {"in": ["a"]}}));
        let Selection::Field(nodes) = &field.selections[0] else {
            panic!()
        };
        assert_eq!(
            doc.fields(&nodes.selections, "IssueLabel").unwrap().len(),
            2
        );
    }

    #[test]
    fn syntax_errors_say_what_and_where() {
        let err = parse("mutation {\n  issueCreate(input: ) { id }\n}").unwrap_err();
        assert!(
            err.message.starts_with("Syntax Error: Expected a value"),
            "{err:?}"
        );
        assert_eq!((err.line, err.column), (2, 22));
        assert!(parse("{ issue(id: \"x) { id } }").is_err());
        assert!(parse("").is_err());
        assert!(parse("query { }").is_err());
        assert!(parse("{ a } }").is_err());
    }

    #[test]
    fn undefined_variables_are_errors() {
        let empty = Map::new();
        assert_eq!(
            resolve(&GqlValue::Variable("id".into()), &empty).unwrap_err(),
            "Variable \"$id\" is not defined."
        );
    }
}
