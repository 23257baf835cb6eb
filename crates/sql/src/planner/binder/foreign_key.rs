//! FOREIGN KEY definitions: resolving the referenced table and columns, with PostgreSQL's
//! checks and names. Enforcement is in [`crate::execution`]'s `foreign_key` module.

use super::*;
use crate::catalog::{FkAction, ForeignKey};

impl<E: Engine> Binder<'_, E> {
    /// Binds a foreign key of `table` (being created or altered). `columns` are the
    /// referencing columns (for a column constraint, that column; otherwise the constraint's).
    /// `unique` lists the column sets of the table's own unique constraints not yet among its
    /// indexes (those declared in the same CREATE TABLE), for a table that references itself.
    pub(super) fn new_foreign_key(
        &self,
        table: &Table,
        unique: &[Vec<usize>],
        constraint: &ast::ForeignKeyConstraint,
        columns: &[ast::Ident],
        name: Option<&ast::Ident>,
    ) -> Result<ForeignKey> {
        if constraint
            .match_kind
            .as_ref()
            .is_some_and(|m| !matches!(m, ast::ConstraintReferenceMatchKind::Simple))
        {
            return Err(unsupported("MATCH FULL or MATCH PARTIAL"));
        }
        if constraint
            .characteristics
            .as_ref()
            .is_some_and(|c| c.deferrable == Some(true) || c.initially.is_some())
        {
            return Err(unsupported("deferrable foreign keys"));
        }
        let written = names::written_name(&constraint.foreign_table, &self.who.database)?;
        let parent_name = written.name.clone();
        // The table being defined, if the name finds no other table first.
        let itself = parent_name == table.name
            && match self.find_written(&written, Kind::Table)? {
                Some(found) => found.ns.schema == table.schema,
                None => self.creation_name(&written)?.ns.schema == table.schema,
            };
        let parent = if itself {
            Arc::new(table.clone())
        } else {
            let found = self.find_written(&written, Kind::Table)?;
            let parent = match found {
                Some(found) => Catalog::table(self.txn, found.ns, &found.name)?,
                None => None,
            };
            parent
                .ok_or_else(|| errinput!(UndefinedTable, "relation \"{written}\" does not exist"))?
        };
        let missing = |column: &str| {
            errinput!(
                UndefinedColumn,
                "column \"{column}\" referenced in foreign key constraint does not exist"
            )
        };
        let child_columns = columns
            .iter()
            .map(|c| {
                let name = ident(c);
                table.column_index(&name).ok_or_else(|| missing(&name))
            })
            .collect::<Result<Vec<usize>>>()?;
        let parent_columns = if constraint.referred_columns.is_empty() {
            if parent.primary_key.is_empty() {
                return Err(errinput!(
                    InvalidForeignKey,
                    "there is no primary key for referenced table \"{parent_name}\""
                ));
            }
            parent.primary_key.clone()
        } else {
            constraint
                .referred_columns
                .iter()
                .map(|c| {
                    let name = ident(c);
                    parent.column_index(&name).ok_or_else(|| missing(&name))
                })
                .collect::<Result<Vec<usize>>>()?
        };
        if child_columns.len() != parent_columns.len() {
            return Err(errinput!(
                InvalidForeignKey,
                "number of referencing and referenced columns for foreign key disagree"
            ));
        }
        // The referenced columns must be exactly a primary key or unique constraint, in any
        // order: that is what makes the parent row unique.
        let mut wanted = parent_columns.clone();
        wanted.sort_unstable();
        let own_unique = if itself { unique } else { &[] };
        let is_key = std::iter::once(&parent.primary_key)
            .chain(
                parent
                    .indexes
                    .iter()
                    .filter(|i| i.unique)
                    .map(|i| &i.columns),
            )
            .chain(own_unique)
            .any(|key| {
                let mut key = key.clone();
                key.sort_unstable();
                key == wanted
            });
        if !is_key {
            return Err(errinput!(
                InvalidForeignKey,
                "there is no unique constraint matching given keys for referenced table \"{parent_name}\""
            ));
        }
        let names = |t: &Table, positions: &[usize]| -> Vec<String> {
            positions
                .iter()
                .map(|&i| t.columns[i].name.clone())
                .collect()
        };
        let name = match name {
            Some(name) => ident(name),
            None => {
                // PostgreSQL's name, numbered past any constraint of the table that has it.
                let base = format!(
                    "{}_{}_fkey",
                    table.name,
                    names(table, &child_columns).join("_")
                );
                let taken = |n: &str| {
                    table.foreign_keys.iter().any(|f| f.name == n)
                        || table.checks.iter().any(|c| c.name == n)
                };
                let mut name = base.clone();
                let mut n = 0;
                while taken(&name) {
                    n += 1;
                    name = format!("{base}{n}");
                }
                name
            }
        };
        for (&c, &p) in child_columns.iter().zip(&parent_columns) {
            let (ct, pt) = (&table.columns[c].data_type, &parent.columns[p].data_type);
            if !comparable(ct, pt) {
                return Err(errinput!(
                    DatatypeMismatch,
                    "foreign key constraint \"{name}\" cannot be implemented"
                )
                .with_detail(format!(
                    "Key columns \"{}\" and \"{}\" are of incompatible types: {ct} and {pt}.",
                    table.columns[c].name, parent.columns[p].name
                )));
            }
        }
        let action = |a: &Option<ast::ReferentialAction>| match a {
            None | Some(ast::ReferentialAction::NoAction) => FkAction::NoAction,
            Some(ast::ReferentialAction::Restrict) => FkAction::Restrict,
            Some(ast::ReferentialAction::Cascade) => FkAction::Cascade,
            Some(ast::ReferentialAction::SetNull) => FkAction::SetNull,
            Some(ast::ReferentialAction::SetDefault) => FkAction::SetDefault,
        };
        Ok(ForeignKey {
            name,
            columns: names(table, &child_columns),
            parent_schema: parent.schema,
            parent: parent.name.clone(),
            parent_columns: names(&parent, &parent_columns),
            on_delete: action(&constraint.on_delete),
            on_update: action(&constraint.on_update),
        })
    }
}

/// Whether a referencing column of type `child` can be compared with a referenced one of type
/// `parent` by the parent key's equality: numbers with numbers, strings with strings, and
/// otherwise the same type.
fn comparable(child: &DataType, parent: &DataType) -> bool {
    (child.is_numeric() && parent.is_numeric())
        || (child.is_string() && parent.is_string())
        || std::mem::discriminant(child) == std::mem::discriminant(parent)
}

/// A table's column defaults and CHECK constraints, bound: what writing one of its rows must
/// apply outside a statement's own plan (the referencing rows a foreign key's action changes).
pub struct RowRules {
    /// Each column's DEFAULT, by position.
    pub defaults: Vec<Option<Expr>>,
    /// CHECK constraints by name.
    pub checks: Vec<(String, Expr)>,
}

/// Binds `table`'s [`RowRules`].
pub fn row_rules<E: Engine>(
    txn: &Transaction<E>,
    who: Arc<Identity>,
    table: &Table,
) -> Result<RowRules> {
    let dialect = ZizhuDialect::postgres();
    let binder = Binder::new(txn, who, "", &dialect);
    let defaults = table
        .columns
        .iter()
        .map(|c| {
            c.default
                .as_ref()
                .map(|d| binder.bind_default(d))
                .transpose()
        })
        .collect::<Result<_>>()?;
    Ok(RowRules {
        defaults,
        checks: binder.bind_checks(table)?,
    })
}
