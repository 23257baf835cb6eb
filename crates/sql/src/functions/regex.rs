//! Regular expressions: `regexp_replace`, `regexp_count`, `regexp_like` and the `~` operator
//! family (bound as `textregexeq` / `texticregexeq`, PostgreSQL's internal names).
//!
//! Patterns run on the `regex` crate, whose syntax is close to PostgreSQL's advanced regular
//! expressions for everyday patterns (classes, anchors, groups, quantifiers, `\d \w \s`). What
//! it lacks (back-references inside a pattern, lookaround) is reported as an invalid regular
//! expression (2201B) rather than matched differently.

use std::cell::RefCell;
use std::collections::HashMap;

use regex::{Regex, RegexBuilder};
use zizhu_types::Value;

use super::text_arg;
use crate::errinput;
use crate::error::Result;

/// Compiled patterns by (pattern, case-insensitive): a query applies the same pattern to every
/// row, so each is compiled once per thread.
const CACHE_LIMIT: usize = 64;

thread_local! {
    static CACHE: RefCell<HashMap<(String, bool), Regex>> = RefCell::new(HashMap::new());
}

fn compile(pattern: &str, insensitive: bool) -> Result<Regex> {
    let key = (pattern.to_string(), insensitive);
    if let Some(re) = CACHE.with(|c| c.borrow().get(&key).cloned()) {
        return Ok(re);
    }
    let re = RegexBuilder::new(pattern)
        .case_insensitive(insensitive)
        .build()
        .map_err(|e| {
            errinput!(
                InvalidRegularExpression,
                "invalid regular expression: {}",
                e.to_string()
                    .lines()
                    .last()
                    .unwrap_or("syntax error")
                    .trim()
            )
        })?;
    CACHE.with(|c| {
        let mut cache = c.borrow_mut();
        if cache.len() >= CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(key, re.clone());
    });
    Ok(re)
}

/// The flags PostgreSQL's regexp functions take: `g` (every match) and `i` / `c` (case).
fn flags(text: &str) -> Result<(bool, bool)> {
    let (mut global, mut insensitive) = (false, false);
    for flag in text.chars() {
        match flag {
            'g' => global = true,
            'i' => insensitive = true,
            'c' => insensitive = false,
            other => {
                return Err(errinput!(
                    InvalidParameterValue,
                    "invalid regular expression option: \"{other}\""
                ))
            }
        }
    }
    Ok((global, insensitive))
}

/// PostgreSQL's replacement syntax (`\1`..`\9` for groups, `\&` for the whole match, `\\` for
/// a backslash) in the `regex` crate's (`${1}`, `$$`).
fn replacement(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek().copied() {
                Some(d @ '1'..='9') => {
                    chars.next();
                    out.push_str(&format!("${{{d}}}"));
                }
                Some('&') => {
                    chars.next();
                    out.push_str("${0}");
                }
                Some('\\') => {
                    chars.next();
                    out.push('\\');
                }
                _ => out.push('\\'),
            },
            '$' => out.push_str("$$"),
            c => out.push(c),
        }
    }
    out
}

/// Calls a regular-expression function; `None` if `name` is not one.
pub(super) fn call(name: &str, args: &[Value]) -> Result<Option<Value>> {
    let text = |i: usize| text_arg(&args[i]);
    Ok(Some(match name {
        "textregexeq" | "texticregexeq" => {
            let re = compile(&text(1)?, name == "texticregexeq")?;
            Value::Bool(re.is_match(&text(0)?))
        }
        "regexp_like" => {
            let (_, insensitive) =
                flags(&args.get(2).map(text_arg).transpose()?.unwrap_or_default())?;
            Value::Bool(compile(&text(1)?, insensitive)?.is_match(&text(0)?))
        }
        "regexp_count" => {
            let re = compile(&text(1)?, false)?;
            Value::Int32(re.find_iter(&text(0)?).count() as i32)
        }
        "regexp_replace" => {
            let (global, insensitive) =
                flags(&args.get(3).map(text_arg).transpose()?.unwrap_or_default())?;
            let re = compile(&text(1)?, insensitive)?;
            let (source, with) = (text(0)?, replacement(&text(2)?));
            Value::Text(if global {
                re.replace_all(&source, with.as_str()).into_owned()
            } else {
                re.replace(&source, with.as_str()).into_owned()
            })
        }
        _ => return Ok(None),
    }))
}
