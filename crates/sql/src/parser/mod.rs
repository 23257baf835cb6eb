//! Parsing: SQL text to sqlparser statements, with PostgreSQL's error positions.
//!
//! [`parse`] is the SQL layer's only entry to sqlparser. Syntax errors become
//! [`Error::Syntax`] worded as PostgreSQL words them (`syntax error at or near "SELEC"`,
//! `syntax error at end of input`) with the 1-based *character* position PostgreSQL reports in
//! its error's `P` field, so psql can draw its caret under the right character.

mod admin;
mod copy;
pub use copy::vacuum_analyzes;
mod dialect;

pub use dialect::ZizhuDialect;
pub use sqlparser::ast;
pub use sqlparser::ast::Statement;

use sqlparser::parser::{Parser, ParserError};

use crate::{Error, Result};

/// Deepest expression nesting accepted; deeper input fails cleanly instead of overflowing the
/// stack.
const RECURSION_LIMIT: usize = 200;

/// Parses `sql` (one or more statements separated by `;`).
pub fn parse(dialect: &ZizhuDialect, sql: &str) -> Result<Vec<Statement>> {
    Parser::new(dialect)
        .with_recursion_limit(RECURSION_LIMIT)
        .try_with_sql(sql)
        .and_then(|mut parser| parser.parse_statements())
        .map_err(|err| syntax_error(sql, err))
}

/// Turns a sqlparser error into PostgreSQL's wording and position.
fn syntax_error(sql: &str, err: ParserError) -> Error {
    let text = match err {
        ParserError::RecursionLimitExceeded => return Error::TooComplex,
        ParserError::TokenizerError(text) | ParserError::ParserError(text) => text,
    };
    // sqlparser ends its messages with " at Line: L, Column: C" (1-based, in characters).
    let (body, location) = match text.rfind(" at Line: ") {
        Some(i) => (
            text[..i].to_string(),
            parse_location(&text[i + " at Line: ".len()..]),
        ),
        None => (text.clone(), None),
    };
    let position = location.and_then(|(line, column)| char_position(sql, line, column));
    // "Expected: X, found: Y": PostgreSQL names the token it stopped at.
    let (message, detail) = match body.split_once(", found: ") {
        Some((expected, found)) => {
            let expected = expected.trim_start_matches("Expected: ").to_string();
            let found = found.trim();
            let message = if found == "EOF" {
                "syntax error at end of input".to_string()
            } else {
                format!("syntax error at or near \"{found}\"")
            };
            (message, Some(format!("expected {expected}")))
        }
        None => (format!("syntax error: {body}"), None),
    };
    // At end of input PostgreSQL points one past the last character.
    let position = match (position, message.ends_with("end of input")) {
        (None, true) => Some(sql.chars().count() + 1),
        (position, _) => position,
    };
    Error::Syntax {
        message,
        detail,
        position,
    }
}

fn parse_location(text: &str) -> Option<(usize, usize)> {
    let (line, column) = text.split_once(", Column: ")?;
    Some((line.trim().parse().ok()?, column.trim().parse().ok()?))
}

/// The 1-based character position of a sqlparser location in `sql` (`None` for an empty
/// location).
pub fn position(sql: &str, location: sqlparser::tokenizer::Location) -> Option<usize> {
    if location.line == 0 {
        return None;
    }
    char_position(sql, location.line as usize, location.column as usize)
}

/// 1-based character offset of (line, column), both 1-based.
fn char_position(sql: &str, line: usize, column: usize) -> Option<usize> {
    let mut position = 0;
    for (i, text) in sql.split('\n').enumerate() {
        if i + 1 == line {
            return Some(position + column.min(text.chars().count() + 1));
        }
        position += text.chars().count() + 1;
    }
    None
}

#[cfg(test)]
mod tests;
