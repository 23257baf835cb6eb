//! Binding CREATE/ALTER/DROP ROLE (and USER) and CREATE/DROP DATABASE into
//! [`Admin`](crate::planner::admin::Admin) plans.
//!
//! Passwords become SCRAM verifiers here, so a plan (and anything that prints one) never
//! holds a password. What PostgreSQL accepts but ZizhuDB does not implement (role
//! membership, connection limits, templates other than the empty ones) is refused with
//! 0A000 rather than accepted and ignored.

use super::*;
use crate::planner::admin::{Admin, RoleOptions};
use zizhu_crypto::scram::Verifier;

/// The longest name PostgreSQL accepts (NAMEDATALEN - 1).
const MAX_NAME: usize = 63;

fn name_of(name: &ast::ObjectName) -> Result<String> {
    let name = match name.0.as_slice() {
        [ast::ObjectNamePart::Identifier(id)] => ident(id),
        _ => return Err(errinput!(SyntaxError, "syntax error at or near \".\"")),
    };
    if name.is_empty() {
        return Err(errinput!(
            InvalidParameterValue,
            "zero-length delimited identifier"
        ));
    }
    if name.len() > MAX_NAME {
        return Err(errinput!(
            NameTooLong,
            "name \"{name}\" is longer than {MAX_NAME} characters"
        ));
    }
    Ok(name)
}

/// A string literal's text.
fn literal(expr: &ast::Expr, what: &str) -> Result<String> {
    match expr {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::SingleQuotedString(s) | ast::Value::EscapedStringLiteral(s) => {
                Ok(s.clone())
            }
            _ => Err(errinput!(SyntaxError, "{what} must be a string literal")),
        },
        _ => Err(errinput!(SyntaxError, "{what} must be a string literal")),
    }
}

fn password(password: &ast::Password) -> Result<Option<Verifier>> {
    let text = match password {
        ast::Password::NullPassword => return Ok(None),
        ast::Password::Password(expr) => literal(expr, "a password")?,
    };
    if text.is_empty() {
        // PostgreSQL clears the password too (with a notice).
        return Ok(None);
    }
    if text.starts_with("SCRAM-SHA-256$") {
        return Verifier::parse(&text).map(Some).ok_or_else(|| {
            errinput!(
                InvalidParameterValue,
                "malformed SCRAM-SHA-256 verifier for the password"
            )
        });
    }
    if text.len() == 35
        && text.starts_with("md5")
        && text[3..].bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(errinput!(
            FeatureNotSupported,
            "MD5 password hashes are not supported: give the password itself or a SCRAM-SHA-256 verifier"
        ));
    }
    Ok(Some(Verifier::new(&text)))
}

fn valid_until(expr: &ast::Expr) -> Result<Option<i64>> {
    let text = literal(expr, "VALID UNTIL")?;
    if text.trim().eq_ignore_ascii_case("infinity") {
        return Ok(None);
    }
    match types::parse_text(&text, &DataType::TimestampTz)? {
        Value::TimestampTz(at) => Ok(Some(at.0)),
        other => Err(errinternal!("timestamptz parsed as {other:?}")),
    }
}

fn connection_limit(expr: &ast::Expr) -> Result<()> {
    let unlimited = matches!(expr, ast::Expr::UnaryOp { op: ast::UnaryOperator::Minus, expr }
        if matches!(&**expr, ast::Expr::Value(v) if v.value == ast::Value::Number("1".into(), false)));
    if unlimited {
        return Ok(());
    }
    Err(errinput!(
        FeatureNotSupported,
        "CONNECTION LIMIT is not supported yet (only -1, no limit)"
    ))
}

fn role_option(options: &mut RoleOptions, option: &ast::RoleOption) -> Result<()> {
    use ast::RoleOption as O;
    let conflict = || errinput!(SyntaxError, "conflicting or redundant options");
    fn set<T>(slot: &mut Option<T>, value: T, conflict: impl Fn() -> Error) -> Result<()> {
        match slot.replace(value) {
            None => Ok(()),
            Some(_) => Err(conflict()),
        }
    }
    match option {
        O::SuperUser(b) => set(&mut options.superuser, *b, conflict),
        O::Inherit(b) => set(&mut options.inherit, *b, conflict),
        O::CreateRole(b) => set(&mut options.create_role, *b, conflict),
        O::CreateDB(b) => set(&mut options.create_db, *b, conflict),
        O::Login(b) => set(&mut options.login, *b, conflict),
        O::Replication(b) => set(&mut options.replication, *b, conflict),
        O::BypassRLS(b) => set(&mut options.bypass_rls, *b, conflict),
        O::Password(p) => set(&mut options.password, password(p)?, conflict),
        O::ValidUntil(e) => set(&mut options.valid_until, valid_until(e)?, conflict),
        O::ConnectionLimit(e) => connection_limit(e),
    }
}

fn truthy(value: &str) -> Result<bool> {
    match value.to_lowercase().as_str() {
        "true" | "on" | "yes" | "1" => Ok(true),
        "false" | "off" | "no" | "0" => Ok(false),
        _ => Err(errinput!(
            SyntaxError,
            "invalid boolean value \"{value}\" for ALLOW_CONNECTIONS"
        )),
    }
}

impl<E: Engine> Binder<'_, E> {
    pub(super) fn bind_create_role(&self, create: &ast::CreateRole) -> Result<Plan> {
        let ast::CreateRole {
            names,
            if_not_exists,
            login,
            inherit,
            bypassrls,
            password: given_password,
            superuser,
            create_db,
            create_role,
            replication,
            connection_limit: limit,
            valid_until: until,
            in_role,
            in_group,
            role,
            user,
            admin,
            authorization_owner,
        } = create;
        let [name] = names.as_slice() else {
            return Err(errinput!(SyntaxError, "syntax error at or near \",\""));
        };
        if *if_not_exists {
            return Err(errinput!(SyntaxError, "syntax error at or near \"IF\""));
        }
        let members = [in_role, in_group, role, user, admin];
        if members.iter().any(|list| !list.is_empty()) || authorization_owner.is_some() {
            return Err(unsupported("role membership (IN ROLE, ROLE, ADMIN)"));
        }
        if let Some(limit) = limit {
            connection_limit(limit)?;
        }
        let options = RoleOptions {
            superuser: *superuser,
            inherit: *inherit,
            create_role: *create_role,
            create_db: *create_db,
            login: *login,
            replication: *replication,
            bypass_rls: *bypassrls,
            password: given_password.as_ref().map(password).transpose()?,
            valid_until: until.as_ref().map(valid_until).transpose()?,
        };
        Ok(Plan::Admin(Admin::CreateRole {
            name: name_of(name)?,
            options,
        }))
    }

    pub(super) fn bind_alter_role(
        &self,
        name: &ast::Ident,
        operation: &ast::AlterRoleOperation,
    ) -> Result<Plan> {
        let name = ident(name);
        match operation {
            ast::AlterRoleOperation::WithOptions { options: list } => {
                let mut options = RoleOptions::default();
                for option in list {
                    role_option(&mut options, option)?;
                }
                Ok(Plan::Admin(Admin::AlterRole { name, options }))
            }
            ast::AlterRoleOperation::RenameRole { role_name } => {
                let to = name_of(&ast::ObjectName::from(vec![role_name.clone()]))?;
                Ok(Plan::Admin(Admin::RenameRole { name, to }))
            }
            _ => Err(unsupported(
                "ALTER ROLE other than options and RENAME TO (SET, RESET, membership)",
            )),
        }
    }

    pub(super) fn bind_drop_roles(
        &self,
        names: &[ast::ObjectName],
        if_exists: bool,
    ) -> Result<Plan> {
        Ok(Plan::Admin(Admin::DropRoles {
            names: names.iter().map(name_of).collect::<Result<_>>()?,
            if_exists,
        }))
    }

    pub(super) fn bind_create_database(
        &self,
        name: &ast::ObjectName,
        options: &[ast::Tag],
    ) -> Result<Plan> {
        let name = name_of(name)?;
        let mut owner = None;
        let mut allow_connections = true;
        let mut seen = Vec::new();
        for tag in options {
            let option = tag.key.to_string();
            if seen.contains(&option) {
                return Err(errinput!(SyntaxError, "conflicting or redundant options"));
            }
            seen.push(option.clone());
            let value = tag.value.as_str();
            let lower = value.to_lowercase();
            match option.as_str() {
                "OWNER" if lower == "default" => owner = None,
                "OWNER" => owner = Some(name_of(&ast::ObjectName::from(vec![ast::Ident::new(value)]))?),
                "TEMPLATE" if matches!(lower.as_str(), "template0" | "template1" | "default") => {}
                "TEMPLATE" => {
                    return Err(errinput!(
                        InvalidCatalogName,
                        "template database \"{value}\" does not exist"
                    ))
                }
                "ENCODING" if matches!(lower.as_str(), "utf8" | "utf-8" | "unicode" | "default") => {}
                "ENCODING" => {
                    return Err(errinput!(
                        FeatureNotSupported,
                        "encoding \"{value}\" is not supported: ZizhuDB stores text as UTF8"
                    ))
                }
                "LOCALE" | "LC_COLLATE" | "LC_CTYPE"
                    if matches!(lower.as_str(), "c" | "posix" | "c.utf-8" | "c.utf8" | "default") => {}
                "LOCALE" | "LC_COLLATE" | "LC_CTYPE" => {
                    return Err(errinput!(
                        FeatureNotSupported,
                        "locale \"{value}\" is not supported: text compares by code point, as in the C locale"
                    ))
                }
                "LOCALE_PROVIDER" if lower == "libc" => {}
                "STRATEGY" | "COLLATION_VERSION" => {}
                "TABLESPACE" if matches!(lower.as_str(), "pg_default" | "default") => {}
                "ALLOW_CONNECTIONS" => allow_connections = truthy(value)?,
                "CONNECTION LIMIT" if value == "-1" => {}
                "IS_TEMPLATE" if !truthy(value)? => {}
                _ => {
                    return Err(unsupported(format!(
                        "CREATE DATABASE option {option} {value}"
                    )))
                }
            }
        }
        Ok(Plan::Admin(Admin::CreateDatabase {
            name,
            owner,
            allow_connections,
        }))
    }
}
