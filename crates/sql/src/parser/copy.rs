//! `COPY` and `VACUUM`, parsed as PostgreSQL accepts them.
//!
//! sqlparser parses VACUUM in Redshift's form; PostgreSQL's (`VACUUM [FULL] [FREEZE]
//! [VERBOSE] [ANALYZE] [(options)] [table]`) is parsed by [`parse_vacuum`] into the same AST.
//!
//! sqlparser's own COPY parser takes only `TRUE` / `FALSE` for boolean options, while
//! PostgreSQL (and pgbench, which sends `WITH (freeze on)`) also uses `ON`, `OFF`, `1`, `0`;
//! and it reads anything after `FROM STDIN;` as inline data. This parser builds the same AST
//! as sqlparser's for what both accept.

use sqlparser::ast::{
    CopyLegacyCsvOption, CopyLegacyOption, CopyOption, CopySource, CopyTarget, Statement,
};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{IsOptional, Parser, ParserError};
use sqlparser::tokenizer::Token;

/// Parses a COPY statement, the COPY keyword already consumed.
pub fn parse_copy(p: &mut Parser) -> Result<Statement, ParserError> {
    let source = if p.consume_token(&Token::LParen) {
        let query = p.parse_query()?;
        p.expect_token(&Token::RParen)?;
        CopySource::Query(query)
    } else {
        let table_name = p.parse_object_name(false)?;
        let columns = p.parse_parenthesized_column_list(IsOptional::Optional, false)?;
        CopySource::Table {
            table_name,
            columns,
        }
    };
    let to = match p.parse_one_of_keywords(&[Keyword::FROM, Keyword::TO]) {
        Some(Keyword::TO) => true,
        Some(_) => false,
        None => return p.expected("FROM or TO", p.peek_token()),
    };
    if !to && matches!(source, CopySource::Query(_)) {
        return Err(ParserError::ParserError(
            "COPY ... FROM does not support query as a source".into(),
        ));
    }
    let target = if p.parse_keyword(Keyword::STDIN) {
        CopyTarget::Stdin
    } else if p.parse_keyword(Keyword::STDOUT) {
        CopyTarget::Stdout
    } else if p.parse_keyword(Keyword::PROGRAM) {
        CopyTarget::Program {
            command: p.parse_literal_string()?,
        }
    } else {
        CopyTarget::File {
            filename: p.parse_literal_string()?,
        }
    };
    let with = p.parse_keyword(Keyword::WITH);
    let mut options = Vec::new();
    if p.consume_token(&Token::LParen) {
        options = p.parse_comma_separated(parse_option)?;
        p.expect_token(&Token::RParen)?;
    } else if with && p.peek_token().token == Token::EOF {
        return p.expected("COPY options", p.peek_token());
    }
    let mut legacy_options = Vec::new();
    while let Some(option) = parse_legacy_option(p)? {
        legacy_options.push(option);
    }
    Ok(Statement::Copy {
        source,
        to,
        target,
        options,
        legacy_options,
        values: Vec::new(),
    })
}

fn char_literal(p: &mut Parser) -> Result<char, ParserError> {
    let s = p.parse_literal_string()?;
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(c),
        _ => Err(ParserError::ParserError(format!(
            "COPY delimiter must be a single one-byte character, not '{s}'"
        ))),
    }
}

/// An optional boolean after an option name: TRUE/FALSE, ON/OFF, 1/0 (absent means true).
fn boolean(p: &mut Parser) -> Result<bool, ParserError> {
    if let Some(k) =
        p.parse_one_of_keywords(&[Keyword::TRUE, Keyword::FALSE, Keyword::ON, Keyword::OFF])
    {
        return Ok(matches!(k, Keyword::TRUE | Keyword::ON));
    }
    let token = p.peek_token();
    match &token.token {
        Token::Number(n, _) if n == "0" || n == "1" => {
            p.next_token();
            Ok(n == "1")
        }
        Token::Word(w) if w.value.eq_ignore_ascii_case("off") => {
            p.next_token();
            Ok(false)
        }
        _ => Ok(true),
    }
}

fn parse_option(p: &mut Parser) -> Result<CopyOption, ParserError> {
    let option = match p.parse_one_of_keywords(&[
        Keyword::FORMAT,
        Keyword::FREEZE,
        Keyword::DELIMITER,
        Keyword::NULL,
        Keyword::HEADER,
        Keyword::QUOTE,
        Keyword::ESCAPE,
        Keyword::FORCE_QUOTE,
        Keyword::FORCE_NOT_NULL,
        Keyword::FORCE_NULL,
        Keyword::ENCODING,
    ]) {
        Some(Keyword::FORMAT) => CopyOption::Format(p.parse_identifier()?),
        Some(Keyword::FREEZE) => CopyOption::Freeze(boolean(p)?),
        Some(Keyword::DELIMITER) => CopyOption::Delimiter(char_literal(p)?),
        Some(Keyword::NULL) => CopyOption::Null(p.parse_literal_string()?),
        Some(Keyword::HEADER) => CopyOption::Header(boolean(p)?),
        Some(Keyword::QUOTE) => CopyOption::Quote(char_literal(p)?),
        Some(Keyword::ESCAPE) => CopyOption::Escape(char_literal(p)?),
        Some(Keyword::FORCE_QUOTE) => {
            CopyOption::ForceQuote(p.parse_parenthesized_column_list(IsOptional::Mandatory, false)?)
        }
        Some(Keyword::FORCE_NOT_NULL) => CopyOption::ForceNotNull(
            p.parse_parenthesized_column_list(IsOptional::Mandatory, false)?,
        ),
        Some(Keyword::FORCE_NULL) => {
            CopyOption::ForceNull(p.parse_parenthesized_column_list(IsOptional::Mandatory, false)?)
        }
        Some(Keyword::ENCODING) => CopyOption::Encoding(p.parse_literal_string()?),
        _ => return p.expected("COPY option", p.peek_token()),
    };
    Ok(option)
}

/// The pre-9.0 forms: `CSV [HEADER] [QUOTE [AS] 'q'] [ESCAPE [AS] 'e']`, `BINARY`,
/// `DELIMITER [AS] 'd'`, `NULL [AS] 'n'`, `HEADER`.
fn parse_legacy_option(p: &mut Parser) -> Result<Option<CopyLegacyOption>, ParserError> {
    let option = match p.parse_one_of_keywords(&[
        Keyword::CSV,
        Keyword::BINARY,
        Keyword::DELIMITER,
        Keyword::NULL,
        Keyword::HEADER,
    ]) {
        Some(Keyword::CSV) => {
            let mut csv = Vec::new();
            loop {
                match p.parse_one_of_keywords(&[Keyword::HEADER, Keyword::QUOTE, Keyword::ESCAPE]) {
                    Some(Keyword::HEADER) => csv.push(CopyLegacyCsvOption::Header),
                    Some(Keyword::QUOTE) => {
                        let _ = p.parse_keyword(Keyword::AS);
                        csv.push(CopyLegacyCsvOption::Quote(char_literal(p)?));
                    }
                    Some(_) => {
                        let _ = p.parse_keyword(Keyword::AS);
                        csv.push(CopyLegacyCsvOption::Escape(char_literal(p)?));
                    }
                    None => break,
                }
            }
            CopyLegacyOption::Csv(csv)
        }
        Some(Keyword::BINARY) => CopyLegacyOption::Binary,
        Some(Keyword::DELIMITER) => {
            let _ = p.parse_keyword(Keyword::AS);
            CopyLegacyOption::Delimiter(char_literal(p)?)
        }
        Some(Keyword::NULL) => {
            let _ = p.parse_keyword(Keyword::AS);
            CopyLegacyOption::Null(p.parse_literal_string()?)
        }
        Some(_) => CopyLegacyOption::Header,
        None => return Ok(None),
    };
    Ok(Some(option))
}

/// Whether a VACUUM parsed by `parse_vacuum` also analyzes (`VACUUM ANALYZE`,
/// `VACUUM (ANALYZE)`). sqlparser's statement is Redshift's, which has no such flag, so it
/// rides in `boost`, a Redshift option PostgreSQL's VACUUM does not have.
pub fn vacuum_analyzes(vacuum: &sqlparser::ast::VacuumStatement) -> bool {
    vacuum.boost
}

/// Parses PostgreSQL's VACUUM, the VACUUM keyword already consumed. One table at most.
pub fn parse_vacuum(p: &mut Parser) -> Result<Statement, ParserError> {
    let mut full = false;
    let mut analyze = false;
    if p.consume_token(&Token::LParen) {
        loop {
            let option = p.parse_identifier()?;
            if option.value.eq_ignore_ascii_case("full") {
                full = boolean(p)?;
            } else if option.value.eq_ignore_ascii_case("analyze") {
                analyze = boolean(p)?;
            } else {
                let _ = boolean(p)?;
            }
            if !p.consume_token(&Token::Comma) {
                break;
            }
        }
        p.expect_token(&Token::RParen)?;
    } else {
        loop {
            match p.parse_one_of_keywords(&[
                Keyword::FULL,
                Keyword::FREEZE,
                Keyword::VERBOSE,
                Keyword::ANALYZE,
            ]) {
                Some(Keyword::FULL) => full = true,
                Some(Keyword::ANALYZE) => analyze = true,
                Some(_) => {}
                None => break,
            }
        }
    }
    let table_name =
        if p.peek_token().token == Token::EOF || p.peek_token().token == Token::SemiColon {
            None
        } else {
            let name = p.parse_object_name(false)?;
            let _ = p.parse_parenthesized_column_list(IsOptional::Optional, false)?;
            Some(name)
        };
    Ok(Statement::Vacuum(sqlparser::ast::VacuumStatement {
        full,
        sort_only: false,
        delete_only: false,
        reindex: false,
        recluster: false,
        table_name,
        threshold: None,
        boost: analyze,
    }))
}
