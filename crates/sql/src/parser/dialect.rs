//! [`ZizhuDialect`]: sqlparser's PostgreSQL dialect, as a type of our own.
//!
//! sqlparser chooses some parsing paths by asking whether the dialect *is* PostgreSQL
//! (`dialect_of!(self is PostgreSqlDialect)`, which compares [`Dialect::dialect`]'s `TypeId`).
//! [`ZizhuDialect`] answers as PostgreSQL there and delegates every method PostgreSQL's dialect
//! overrides, so in PostgreSQL mode it parses exactly what `PostgreSqlDialect` parses (checked
//! by a test over a statement corpus). The Oracle mode will override methods here (and add a
//! PL/SQL front end before sqlparser); nothing outside this module needs to know which dialect
//! is in use. sqlparser is pinned: when it is upgraded, regenerate the delegations from its
//! `impl Dialect for PostgreSqlDialect` and rerun the equivalence test.

use std::any::TypeId;

use sqlparser::dialect::{Dialect, PostgreSqlDialect, Precedence};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};

/// The SQL dialect of a session.
#[derive(Debug, Default)]
pub struct ZizhuDialect {
    base: PostgreSqlDialect,
}

impl ZizhuDialect {
    /// The PostgreSQL dialect (the default mode).
    pub fn postgres() -> Self {
        Self {
            base: PostgreSqlDialect {},
        }
    }
}

impl Dialect for ZizhuDialect {
    fn dialect(&self) -> TypeId {
        TypeId::of::<PostgreSqlDialect>()
    }

    /// COPY and VACUUM are parsed by `parser/copy.rs`, CREATE/ALTER USER and CREATE DATABASE
    /// by `parser/admin.rs`, in PostgreSQL's forms.
    fn parse_statement(
        &self,
        parser: &mut Parser,
    ) -> Option<Result<sqlparser::ast::Statement, ParserError>> {
        if parser.parse_keyword(Keyword::COPY) {
            return Some(super::copy::parse_copy(parser));
        }
        if parser.parse_keyword(Keyword::VACUUM) {
            return Some(super::copy::parse_vacuum(parser));
        }
        if parser.parse_keywords(&[Keyword::CREATE, Keyword::USER]) {
            return Some(super::admin::parse_create_user(parser));
        }
        if parser.parse_keywords(&[Keyword::ALTER, Keyword::USER]) {
            return Some(super::admin::parse_alter_user(parser));
        }
        if parser.parse_keywords(&[Keyword::CREATE, Keyword::DATABASE]) {
            return Some(super::admin::parse_create_database(parser));
        }
        None
    }

    fn identifier_quote_style(&self, identifier: &str) -> Option<char> {
        self.base.identifier_quote_style(identifier)
    }

    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        self.base.is_delimited_identifier_start(ch)
    }

    fn is_identifier_start(&self, ch: char) -> bool {
        self.base.is_identifier_start(ch)
    }

    fn is_identifier_part(&self, ch: char) -> bool {
        self.base.is_identifier_part(ch)
    }

    fn supports_unicode_string_literal(&self) -> bool {
        self.base.supports_unicode_string_literal()
    }

    fn is_reserved_for_identifier(&self, kw: Keyword) -> bool {
        self.base.is_reserved_for_identifier(kw)
    }

    fn is_table_alias(&self, kw: &Keyword, parser: &mut Parser) -> bool {
        self.base.is_table_alias(kw, parser)
    }

    fn is_custom_operator_part(&self, ch: char) -> bool {
        self.base.is_custom_operator_part(ch)
    }

    fn get_next_precedence(&self, parser: &Parser) -> Option<Result<u8, ParserError>> {
        self.base.get_next_precedence(parser)
    }

    fn supports_filter_during_aggregation(&self) -> bool {
        self.base.supports_filter_during_aggregation()
    }

    fn supports_group_by_expr(&self) -> bool {
        self.base.supports_group_by_expr()
    }

    fn supports_alter_user_as_alter_role(&self) -> bool {
        self.base.supports_alter_user_as_alter_role()
    }

    fn prec_value(&self, prec: Precedence) -> u8 {
        self.base.prec_value(prec)
    }

    fn allow_extract_custom(&self) -> bool {
        self.base.allow_extract_custom()
    }

    fn allow_extract_single_quotes(&self) -> bool {
        self.base.allow_extract_single_quotes()
    }

    fn supports_create_index_with_clause(&self) -> bool {
        self.base.supports_create_index_with_clause()
    }

    fn supports_explain_with_utility_options(&self) -> bool {
        self.base.supports_explain_with_utility_options()
    }

    fn supports_listen_notify(&self) -> bool {
        self.base.supports_listen_notify()
    }

    fn supports_exclude_constraint(&self) -> bool {
        self.base.supports_exclude_constraint()
    }

    fn supports_factorial_operator(&self) -> bool {
        self.base.supports_factorial_operator()
    }

    fn supports_bitwise_shift_operators(&self) -> bool {
        self.base.supports_bitwise_shift_operators()
    }

    fn supports_comment_on(&self) -> bool {
        self.base.supports_comment_on()
    }

    fn supports_load_extension(&self) -> bool {
        self.base.supports_load_extension()
    }

    fn supports_named_fn_args_with_colon_operator(&self) -> bool {
        self.base.supports_named_fn_args_with_colon_operator()
    }

    fn supports_named_fn_args_with_expr_name(&self) -> bool {
        self.base.supports_named_fn_args_with_expr_name()
    }

    fn supports_empty_projections(&self) -> bool {
        self.base.supports_empty_projections()
    }

    fn supports_nested_comments(&self) -> bool {
        self.base.supports_nested_comments()
    }

    fn supports_string_escape_constant(&self) -> bool {
        self.base.supports_string_escape_constant()
    }

    fn supports_numeric_literal_underscores(&self) -> bool {
        self.base.supports_numeric_literal_underscores()
    }

    fn supports_array_typedef_with_brackets(&self) -> bool {
        self.base.supports_array_typedef_with_brackets()
    }

    fn supports_geometric_types(&self) -> bool {
        self.base.supports_geometric_types()
    }

    fn supports_order_by_using_operator(&self) -> bool {
        self.base.supports_order_by_using_operator()
    }

    fn supports_set_names(&self) -> bool {
        self.base.supports_set_names()
    }

    fn supports_alter_column_type_using(&self) -> bool {
        self.base.supports_alter_column_type_using()
    }

    fn supports_left_associative_joins_without_parens(&self) -> bool {
        self.base.supports_left_associative_joins_without_parens()
    }

    fn supports_notnull_operator(&self) -> bool {
        self.base.supports_notnull_operator()
    }

    fn supports_interval_options(&self) -> bool {
        self.base.supports_interval_options()
    }

    fn supports_insert_table_alias(&self) -> bool {
        self.base.supports_insert_table_alias()
    }

    fn supports_create_table_like_parenthesized(&self) -> bool {
        self.base.supports_create_table_like_parenthesized()
    }

    fn supports_select_wildcard_with_alias(&self) -> bool {
        self.base.supports_select_wildcard_with_alias()
    }

    fn supports_comma_separated_trim(&self) -> bool {
        self.base.supports_comma_separated_trim()
    }

    fn supports_xml_expressions(&self) -> bool {
        self.base.supports_xml_expressions()
    }

    fn supports_aliased_function_args(&self) -> bool {
        self.base.supports_aliased_function_args()
    }

    fn supports_comment_optimizer_hint(&self) -> bool {
        self.base.supports_comment_optimizer_hint()
    }
}
