//! `CREATE USER`, `ALTER USER` and `CREATE DATABASE`, parsed as PostgreSQL accepts them.
//!
//! sqlparser parses CREATE/ALTER USER in Snowflake's form and CREATE DATABASE in Hive's and
//! MySQL's. PostgreSQL's CREATE USER is CREATE ROLE with LOGIN, and ALTER USER is ALTER ROLE,
//! so both become sqlparser's role statements. PostgreSQL's CREATE DATABASE options
//! (`[WITH] OWNER [=] name TEMPLATE [=] name ENCODING [=] 'UTF8' ...`) have no place in
//! sqlparser's AST: they are carried as its `with_tags` list, one (option, value) pair per
//! option in the order written, option names upper-cased, which the binder then validates.

use sqlparser::ast::{Ident, ObjectName, Statement, Tag};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;

/// Parses CREATE USER, the keywords already consumed: CREATE ROLE that defaults to LOGIN.
pub fn parse_create_user(p: &mut Parser) -> Result<Statement, ParserError> {
    let mut role = p.parse_create_role()?;
    role.login.get_or_insert(true);
    Ok(Statement::CreateRole(role))
}

/// Parses ALTER USER, the keywords already consumed: exactly ALTER ROLE.
pub fn parse_alter_user(p: &mut Parser) -> Result<Statement, ParserError> {
    p.parse_alter_role()
}

/// The options PostgreSQL's CREATE DATABASE takes.
const OPTIONS: &[&str] = &[
    "OWNER",
    "TEMPLATE",
    "ENCODING",
    "STRATEGY",
    "LOCALE",
    "LC_COLLATE",
    "LC_CTYPE",
    "ICU_LOCALE",
    "LOCALE_PROVIDER",
    "COLLATION_VERSION",
    "TABLESPACE",
    "ALLOW_CONNECTIONS",
    "CONNECTION",
    "IS_TEMPLATE",
    "OID",
];

/// Parses CREATE DATABASE, the keywords already consumed.
pub fn parse_create_database(p: &mut Parser) -> Result<Statement, ParserError> {
    let db_name = p.parse_object_name(false)?;
    let _ = p.parse_keyword(Keyword::WITH);
    let mut options = Vec::new();
    loop {
        let token = p.peek_token();
        let Token::Word(word) = &token.token else {
            break;
        };
        let option = word.value.to_uppercase();
        if !OPTIONS.contains(&option.as_str()) {
            return p.expected("a CREATE DATABASE option", token);
        }
        p.next_token();
        if option == "CONNECTION" {
            p.expect_keyword(Keyword::LIMIT)?;
        }
        let _ = p.consume_token(&Token::Eq);
        let value = p.next_token();
        let value = match value.token {
            Token::Word(w) => w.value,
            Token::SingleQuotedString(s) => s,
            Token::Number(n, _) => n,
            Token::Minus => match p.next_token().token {
                Token::Number(n, _) => format!("-{n}"),
                _ => return p.expected("a number", value),
            },
            _ => return p.expected("an option value", value),
        };
        let key = if option == "CONNECTION" {
            "CONNECTION LIMIT".to_string()
        } else {
            option
        };
        options.push(Tag::new(ObjectName::from(vec![Ident::new(key)]), value));
    }
    Ok(Statement::CreateDatabase {
        db_name,
        if_not_exists: false,
        location: None,
        managed_location: None,
        or_replace: false,
        transient: false,
        clone: None,
        data_retention_time_in_days: None,
        max_data_extension_time_in_days: None,
        external_volume: None,
        catalog: None,
        replace_invalid_characters: None,
        default_ddl_collation: None,
        storage_serialization_policy: None,
        comment: None,
        default_charset: None,
        default_collation: None,
        catalog_sync: None,
        catalog_sync_namespace_mode: None,
        catalog_sync_namespace_flatten_delimiter: None,
        with_tags: Some(options),
        with_contacts: None,
    })
}
