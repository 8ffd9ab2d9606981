//! The schema subset the simulator serves, and the checks a GraphQL server
//! makes before running anything: selections against the types, root
//! arguments, and variables against their declared types.

use serde_json::{Map, Value, json};

use super::super::graphql::{self, Document, TypeRef};
use super::errors::GqlError;

#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
    Scalar,
    Object(&'static str),
    List(&'static str),
}

pub(super) fn field_kind(type_name: &str, field: &str) -> Option<Kind> {
    use Kind::*;
    Some(match (type_name, field) {
        ("Query", "issue") => Object("Issue"),
        ("Query", "comment") => Object("Comment"),
        ("Query", "team") => Object("Team"),
        ("Query", "teams") => Object("TeamConnection"),
        ("Query", "issueLabels") => Object("IssueLabelConnection"),
        ("Mutation", "issueCreate") => Object("IssuePayload"),
        ("Mutation", "commentCreate") => Object("CommentPayload"),
        ("IssuePayload", "success" | "lastSyncId") => Scalar,
        ("IssuePayload", "issue") => Object("Issue"),
        ("CommentPayload", "success" | "lastSyncId") => Scalar,
        ("CommentPayload", "comment") => Object("Comment"),
        (
            "Issue",
            "id" | "identifier" | "number" | "title" | "description" | "priority" | "priorityLabel"
            | "url" | "createdAt" | "updatedAt" | "branchName",
        ) => Scalar,
        ("Issue", "team") => Object("Team"),
        ("Issue", "labels") => Object("IssueLabelConnection"),
        ("Comment", "id" | "body" | "url" | "createdAt" | "updatedAt") => Scalar,
        ("Comment", "issue") => Object("Issue"),
        ("Team", "id" | "key" | "name") => Scalar,
        ("IssueLabel", "id" | "name" | "color") => Scalar,
        ("IssueLabel", "team") => Object("Team"),
        ("TeamConnection", "nodes") => List("Team"),
        ("IssueLabelConnection", "nodes") => List("IssueLabel"),
        ("TeamConnection" | "IssueLabelConnection", "pageInfo") => Object("PageInfo"),
        ("PageInfo", "hasNextPage" | "hasPreviousPage" | "startCursor" | "endCursor") => Scalar,
        _ => return None,
    })
}

/// Arguments of root fields: `(name, required type or None if optional)`.
pub(super) fn root_arguments(field: &str) -> &'static [(&'static str, Option<&'static str>)] {
    match field {
        "issue" | "comment" | "team" => &[("id", Some("String!"))],
        "issueCreate" => &[("input", Some("IssueCreateInput!"))],
        "commentCreate" => &[("input", Some("CommentCreateInput!"))],
        _ => &[
            ("first", None),
            ("after", None),
            ("last", None),
            ("before", None),
            ("filter", None),
            ("includeArchived", None),
            ("orderBy", None),
        ],
    }
}

/// Checks a selection against the schema subset before anything runs.
pub(super) fn validate(
    doc: &Document,
    selections: &[graphql::Selection],
    type_name: &str,
) -> Result<(), GqlError> {
    let fields = doc
        .fields(selections, type_name)
        .map_err(|m| GqlError::graphql(m, "GRAPHQL_VALIDATION_FAILED"))?;
    for field in fields {
        if field.name == "__typename" {
            continue;
        }
        let kind = field_kind(type_name, &field.name).ok_or_else(|| {
            GqlError::graphql(
                format!(
                    "Cannot query field \"{}\" on type \"{type_name}\".",
                    field.name
                ),
                "GRAPHQL_VALIDATION_FAILED",
            )
        })?;
        if type_name == "Query" || type_name == "Mutation" {
            let allowed = root_arguments(&field.name);
            for (arg, _) in &field.arguments {
                if !allowed.iter().any(|(name, _)| name == arg) {
                    return Err(GqlError::graphql(
                        format!(
                            "Unknown argument \"{arg}\" on field \"{type_name}.{}\".",
                            field.name
                        ),
                        "GRAPHQL_VALIDATION_FAILED",
                    ));
                }
            }
            for (name, required) in allowed {
                if let Some(ty) = required
                    && field.argument(name).is_none()
                {
                    return Err(GqlError::graphql(
                        format!(
                            "Field \"{}\" argument \"{name}\" of type \"{ty}\" is required, but it was not provided.",
                            field.name
                        ),
                        "GRAPHQL_VALIDATION_FAILED",
                    ));
                }
            }
        }
        match kind {
            Kind::Scalar if !field.selections.is_empty() => {
                return Err(GqlError::graphql(
                    format!(
                        "Field \"{}\" must not have a selection since its type has no subfields.",
                        field.name
                    ),
                    "GRAPHQL_VALIDATION_FAILED",
                ));
            }
            Kind::Object(child) | Kind::List(child) => {
                if field.selections.is_empty() {
                    return Err(GqlError::graphql(
                        format!(
                            "Field \"{}\" of type \"{child}\" must have a selection of subfields.",
                            field.name
                        ),
                        "GRAPHQL_VALIDATION_FAILED",
                    ));
                }
                validate(doc, &field.selections, child)?;
            }
            Kind::Scalar => {}
        }
    }
    Ok(())
}

/// Keeps the selected fields of `value` (of type `type_name`), by response key.
pub(super) fn project(
    doc: &Document,
    selections: &[graphql::Selection],
    type_name: &str,
    value: &Value,
) -> Value {
    let Ok(fields) = doc.fields(selections, type_name) else {
        return Value::Null;
    };
    let mut out = Map::new();
    for field in fields {
        let key = field.response_key().to_owned();
        if field.name == "__typename" {
            out.insert(key, json!(type_name));
            continue;
        }
        let data = value.get(&field.name).unwrap_or(&Value::Null);
        let shown = match field_kind(type_name, &field.name) {
            Some(Kind::Object(child)) if !data.is_null() => {
                project(doc, &field.selections, child, data)
            }
            Some(Kind::List(child)) => Value::Array(
                data.as_array()
                    .map(|items| {
                        items
                            .iter()
                            .map(|i| project(doc, &field.selections, child, i))
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            _ => data.clone(),
        };
        out.insert(key, shown);
    }
    Value::Object(out)
}

/// Applies defaults and checks that required variables are present and
/// that provided values have the declared shape.
pub(super) fn coerce_variables(
    defs: &[graphql::VariableDef],
    provided: &Map<String, Value>,
) -> Result<Map<String, Value>, GqlError> {
    let mut out = Map::new();
    for def in defs {
        let value = match provided.get(&def.name) {
            Some(v) => Some(v.clone()),
            None => match &def.default {
                Some(d) => Some(
                    graphql::resolve(d, &Map::new())
                        .map_err(|m| GqlError::graphql(m, "BAD_USER_INPUT"))?,
                ),
                None => None,
            },
        };
        let required = matches!(def.ty, TypeRef::NonNull(_));
        match value {
            None | Some(Value::Null) if required => {
                return Err(GqlError::graphql(
                    format!(
                        "Variable \"${}\" of required type \"{}\" was not provided.",
                        def.name, def.ty
                    ),
                    "BAD_USER_INPUT",
                ));
            }
            None => {}
            Some(v) => {
                if !shape_fits(&def.ty, &v) {
                    return Err(GqlError::graphql(
                        format!(
                            "Variable \"${}\" got invalid value {v}; Expected type \"{}\".",
                            def.name, def.ty
                        ),
                        "BAD_USER_INPUT",
                    ));
                }
                out.insert(def.name.clone(), v);
            }
        }
    }
    Ok(out)
}

pub(super) fn shape_fits(ty: &TypeRef, value: &Value) -> bool {
    match (ty, value) {
        (TypeRef::NonNull(_), Value::Null) => false,
        (TypeRef::NonNull(inner), v) => shape_fits(inner, v),
        (_, Value::Null) => true,
        (TypeRef::List(inner), Value::Array(items)) => items.iter().all(|i| shape_fits(inner, i)),
        (TypeRef::List(inner), single) => shape_fits(inner, single),
        (TypeRef::Named(name), v) => match name.as_str() {
            "String" | "ID" | "DateTime" | "TimelessDate" => v.is_string(),
            "Int" => v.as_i64().is_some_and(|i| i32::try_from(i).is_ok()),
            "Float" => v.is_number(),
            "Boolean" => v.is_boolean(),
            _ => v.is_object(),
        },
    }
}

/// Checks an input object's fields: unknown names and missing required ones
/// are coercion errors, as GraphQL reports them.
pub(super) fn check_input(
    input: &Value,
    type_name: &str,
    known: &[&str],
    required: &[&str],
) -> Result<Map<String, Value>, GqlError> {
    let Some(object) = input.as_object() else {
        return Err(GqlError::graphql(
            format!("Expected type \"{type_name}\" to be an object, got {input}."),
            "BAD_USER_INPUT",
        ));
    };
    if let Some(unknown) = object.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(GqlError::graphql(
            format!(
                "Variable \"$input\" got invalid value {input}; Field \"{unknown}\" is not defined by type \"{type_name}\"."
            ),
            "BAD_USER_INPUT",
        ));
    }
    for name in required {
        if !object.get(*name).is_some_and(Value::is_string) {
            return Err(GqlError::graphql(
                format!(
                    "Variable \"$input\" got invalid value {input}; Field \"{name}\" of required type \"String!\" was not provided."
                ),
                "BAD_USER_INPUT",
            ));
        }
    }
    Ok(object.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_shapes_follow_declared_types() {
        let ty = TypeRef::NonNull(Box::new(TypeRef::List(Box::new(TypeRef::NonNull(
            Box::new(TypeRef::Named("String".into())),
        )))));
        assert!(shape_fits(&ty, &json!(["a", "b"])));
        assert!(!shape_fits(&ty, &json!(["a", 1])));
        assert!(!shape_fits(&ty, &Value::Null));
        assert!(shape_fits(&TypeRef::Named("Int".into()), &json!(3)));
        assert!(!shape_fits(&TypeRef::Named("Int".into()), &json!(3.5)));
    }
}
