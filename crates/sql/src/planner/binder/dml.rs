//! Binding INSERT, UPDATE and DELETE.

#![allow(clippy::wildcard_imports)]

use super::*;

impl<E: Engine> Binder<'_, E> {
    pub(super) fn bind_insert(&self, insert: &ast::Insert) -> Result<Plan> {
        let ast::TableObject::TableName(name) = &insert.table else {
            return Err(unsupported("INSERT INTO a table function"));
        };
        let table = self.table(name)?;
        let positions: Vec<usize> = if insert.columns.is_empty() {
            (0..table.columns.len()).collect()
        } else {
            let mut positions = Vec::with_capacity(insert.columns.len());
            for c in &insert.columns {
                let column = simple_name(c)?;
                let i = table.column_index(&column).ok_or_else(|| {
                    errinput!(
                        UndefinedColumn,
                        "column \"{column}\" of relation \"{}\" does not exist",
                        table.name
                    )
                })?;
                if positions.contains(&i) {
                    return Err(errinput!(
                        SyntaxError,
                        "column \"{column}\" specified more than once"
                    ));
                }
                positions.push(i);
            }
            positions
        };
        // `DEFAULT VALUES`: one row of every column's default.
        let default_values;
        let query = match &insert.source {
            Some(query) => query,
            None if !positions.is_empty() => {
                let defaults = vec!["DEFAULT"; positions.len()].join(", ");
                let sql = format!("VALUES ({defaults})");
                default_values = match crate::parser::parse(self.dialect, &sql)?.pop() {
                    Some(ast::Statement::Query(query)) => query,
                    _ => return Err(errinternal!("{sql} did not parse as a query")),
                };
                &default_values
            }
            None => {
                return Err(unsupported(
                    "INSERT DEFAULT VALUES into a table without columns",
                ))
            }
        };
        let (query, all_default) = self.fill_defaults(query, &table, &positions)?;
        if let ast::SetExpr::Values(values) = query.body.as_ref() {
            // A parameter in VALUES takes its target column's type.
            for row in &values.rows {
                for (value, &column) in row.iter().zip(&positions) {
                    self.hint_parameter(value, &table.columns[column].data_type)?;
                }
            }
        }
        // An INSERT's VALUES rows each take their target column's type (the assignment), not
        // a type common to the rows.
        let (source, labels) = match plain_values(&query) {
            Some(values) => self.bind_values(values, false)?,
            None => self.bind_query(&query)?,
        };
        if labels.len() > positions.len() {
            return Err(errinput!(
                SyntaxError,
                "INSERT has more expressions than target columns"
            ));
        }
        if labels.len() < positions.len() && !insert.columns.is_empty() {
            return Err(errinput!(
                SyntaxError,
                "INSERT has more target columns than expressions"
            ));
        }
        let mut targets = vec![None; table.columns.len()];
        for (source_index, &column) in positions.iter().take(labels.len()).enumerate() {
            let column_def = &table.columns[column];
            if column_def.generated_always
                && !all_default.get(source_index).copied().unwrap_or(false)
            {
                return Err(errinput!(
                    GeneratedAlways,
                    "cannot insert a non-DEFAULT value into column \"{}\"",
                    column_def.name
                )
                .with_detail(format!(
                    "Column \"{}\" is an identity column defined as GENERATED ALWAYS.",
                    column_def.name
                )));
            }
            targets[column] = Some(source_index);
        }
        // Only the columns the INSERT leaves out take their defaults (as in PostgreSQL, whose
        // defaults of given columns are never evaluated), so only theirs are parsed and bound.
        let defaults = (table.columns.iter().zip(&targets))
            .map(|(c, target)| match (&c.default, target) {
                (Some(text), None) => self.bind_default(text).map(Some),
                _ => Ok(None),
            })
            .collect::<Result<_>>()?;
        let alias = insert
            .table_alias
            .as_ref()
            .map_or_else(|| table.name.clone(), |a| ident(&a.alias));
        let returning = self.bind_returning(
            insert.returning.as_deref(),
            &Scope::of_table(&table, &alias),
        )?;
        let on_conflict = match &insert.on {
            None => None,
            Some(ast::OnInsert::OnConflict(on)) => Some(self.bind_on_conflict(on, &table, &alias)?),
            Some(_) => return Err(unsupported("ON DUPLICATE KEY UPDATE")),
        };
        Ok(Plan::Insert {
            checks: self.bind_checks(&table)?,
            table,
            targets,
            defaults,
            source,
            returning,
            on_conflict,
        })
    }

    /// `VALUES (DEFAULT, ...)`: each `DEFAULT` becomes its column's default expression (NULL
    /// without one). Also returns, per position, whether every row said `DEFAULT` there (which
    /// a GENERATED ALWAYS column accepts).
    fn fill_defaults(
        &self,
        query: &ast::Query,
        table: &Table,
        positions: &[usize],
    ) -> Result<(ast::Query, Vec<bool>)> {
        let mut query = query.clone();
        let ast::SetExpr::Values(values) = query.body.as_mut() else {
            return Ok((query, Vec::new()));
        };
        let is_default = |e: &ast::Expr| {
            matches!(e, ast::Expr::Identifier(id)
                if id.quote_style.is_none() && id.value.eq_ignore_ascii_case("default"))
        };
        let width = values.rows.iter().map(|r| r.len()).max().unwrap_or(0);
        let mut all_default = vec![!values.rows.is_empty(); width];
        for row in values.rows.iter_mut() {
            for (k, value) in row.iter_mut().enumerate() {
                if !is_default(value) {
                    all_default[k] = false;
                    continue;
                }
                let Some(&column) = positions.get(k) else {
                    continue;
                };
                *value = match &table.columns[column].default {
                    Some(text) => self.parse_stored_expr(text)?,
                    None => ast::Expr::value(ast::Value::Null),
                };
            }
        }
        Ok((query, all_default))
    }

    /// Parses an expression the catalog stores as SQL text (a DEFAULT or a CHECK).
    pub(super) fn parse_stored_expr(&self, text: &str) -> Result<ast::Expr> {
        sqlparser::parser::Parser::new(self.dialect)
            .try_with_sql(text)
            .and_then(|mut p| p.parse_expr())
            .map_err(|e| errinternal!("stored expression {text:?} does not parse: {e}"))
    }

    pub(super) fn bind_default(&self, text: &str) -> Result<Expr> {
        let expr = self.parse_stored_expr(text)?;
        self.bind_expr(&expr, &Scope::default(), None)
    }

    pub(super) fn bind_update(&self, update: &ast::Update) -> Result<Plan> {
        if !update.table.joins.is_empty() {
            return Err(unsupported("UPDATE of a join"));
        }
        let (table, alias) = match &update.table.relation {
            ast::TableFactor::Table {
                name,
                alias,
                args: None,
                ..
            } => {
                let table = self.table(name)?;
                let alias = alias
                    .as_ref()
                    .map_or_else(|| table.name.clone(), |a| ident(&a.name));
                (table, alias)
            }
            other => return Err(unsupported(format!("UPDATE of {other}"))),
        };
        // UPDATE ... FROM: expressions see the target row followed by a FROM row.
        let (from, scope) = match &update.from {
            Some(
                ast::UpdateTableFromKind::BeforeSet(items)
                | ast::UpdateTableFromKind::AfterSet(items),
            ) => {
                let (node, from_scope) = self.bind_from(items)?;
                (Some(node), Scope::of_table(&table, &alias).join(from_scope))
            }
            None => (None, Scope::of_table(&table, &alias)),
        };
        let mut assignments = Vec::with_capacity(update.assignments.len());
        for a in &update.assignments {
            let (index, column) = assigned_column(&table, &a.target)?;
            let target = Expr::Column {
                index,
                name: column.into(),
            };
            assignments.push((index, self.coerce_literal(&a.value, &target, &scope, None)?));
        }
        let filter = update
            .selection
            .as_ref()
            .map(|e| self.bind_expr(e, &scope, None))
            .transpose()?;
        if let Some(f) = &filter {
            self.check_boolean(f, &scope, None, "WHERE")?;
        }
        // With FROM the predicate needs the joined row, so the target table is scanned whole.
        let scan_filter = if from.is_some() { None } else { filter.clone() };
        let source = Node::Scan {
            table: table.clone(),
            filter: scan_filter,
            columns: None,
        };
        let returning = self.bind_returning(update.returning.as_deref(), &scope)?;
        Ok(Plan::Update {
            checks: self.bind_checks(&table)?,
            table,
            source,
            filter,
            assignments,
            returning,
            from,
        })
    }

    pub(super) fn bind_delete(&self, delete: &ast::Delete) -> Result<Plan> {
        if !delete.tables.is_empty() {
            return Err(unsupported("DELETE of several tables"));
        }
        let from = match &delete.from {
            ast::FromTable::WithFromKeyword(from) | ast::FromTable::WithoutKeyword(from) => from,
        };
        let [item] = from.as_slice() else {
            return Err(unsupported("DELETE from several tables"));
        };
        let (table, alias) = match &item.relation {
            ast::TableFactor::Table {
                name,
                alias,
                args: None,
                ..
            } if item.joins.is_empty() => {
                let table = self.table(name)?;
                let alias = alias
                    .as_ref()
                    .map_or_else(|| table.name.clone(), |a| ident(&a.name));
                (table, alias)
            }
            other => return Err(unsupported(format!("DELETE from {other}"))),
        };
        // DELETE ... USING: the predicate sees the target row followed by a USING row.
        let (using, scope) = match &delete.using {
            Some(items) => {
                let (node, using_scope) = self.bind_from(items)?;
                (
                    Some(node),
                    Scope::of_table(&table, &alias).join(using_scope),
                )
            }
            None => (None, Scope::of_table(&table, &alias)),
        };
        let filter = delete
            .selection
            .as_ref()
            .map(|e| self.bind_expr(e, &scope, None))
            .transpose()?;
        if let Some(f) = &filter {
            self.check_boolean(f, &scope, None, "WHERE")?;
        }
        let scan_filter = if using.is_some() {
            None
        } else {
            filter.clone()
        };
        let source = Node::Scan {
            table: table.clone(),
            filter: scan_filter,
            columns: None,
        };
        let returning = self.bind_returning(delete.returning.as_deref(), &scope)?;
        Ok(Plan::Delete {
            table,
            source,
            filter,
            returning,
            using,
        })
    }

    /// Binds a RETURNING list over the written row, followed by the FROM/USING row if any
    /// (`*` is every column of both, `t.*` those of `t`).
    fn bind_returning(
        &self,
        items: Option<&[ast::SelectItem]>,
        scope: &Scope,
    ) -> Result<Option<Returning>> {
        let Some(items) = items else { return Ok(None) };
        let (mut exprs, mut labels) = (Vec::new(), Vec::new());
        for item in items {
            match item {
                ast::SelectItem::UnnamedExpr(e)
                | ast::SelectItem::ExprWithAlias { expr: e, .. } => {
                    let bound = self.bind_expr(e, scope, None)?;
                    let name = match item {
                        ast::SelectItem::ExprWithAlias { alias, .. } => ident(alias),
                        _ => label_of(e),
                    };
                    labels.push(Label {
                        name,
                        data_type: self.expr_type(&bound, scope, None),
                    });
                    exprs.push(bound);
                }
                ast::SelectItem::Wildcard(_) | ast::SelectItem::QualifiedWildcard(..) => {
                    let only = match item {
                        ast::SelectItem::QualifiedWildcard(
                            ast::SelectItemQualifiedWildcardKind::ObjectName(n),
                            _,
                        ) => Some(names::written_name(n, &self.who.database)?.name),
                        _ => None,
                    };
                    let mut any = false;
                    for (index, c) in scope.columns.iter().enumerate() {
                        if only.as_ref().is_some_and(|t| c.table.as_ref() != Some(t)) {
                            continue;
                        }
                        any = true;
                        exprs.push(Expr::Column {
                            index,
                            name: c.name.clone().into(),
                        });
                        labels.push(Label {
                            name: c.name.clone(),
                            data_type: c.data_type.clone(),
                        });
                    }
                    if let (Some(t), false) = (only, any) {
                        return Err(errinput!(
                            UndefinedTable,
                            "missing FROM-clause entry for table \"{t}\""
                        ));
                    }
                }
                other => return Err(unsupported(format!("RETURNING item {other}"))),
            }
        }
        Ok(Some(Returning { exprs, labels }))
    }

    /// Binds TRUNCATE.
    pub(super) fn bind_truncate(&self, truncate: &ast::Truncate) -> Result<Plan> {
        let mut names = Vec::with_capacity(truncate.table_names.len());
        for target in &truncate.table_names {
            match self.find(&target.name, Kind::Table)? {
                Some(found) => names.push(found),
                None => {
                    if let Some(view) = self.find(&target.name, Kind::View)? {
                        return Err(errinput!(WrongObjectType, "\"{view}\" is not a table"));
                    }
                    let written = names::written_name(&target.name, &self.who.database)?;
                    return Err(errinput!(
                        UndefinedTable,
                        "relation \"{written}\" does not exist"
                    ));
                }
            }
        }
        let cascade = matches!(truncate.cascade, Some(ast::CascadeOption::Cascade));
        Ok(Plan::Truncate { names, cascade })
    }

    /// `ANALYZE [table]`: the named table, or with none every table of the database. A view
    /// is skipped with a warning, as in PostgreSQL.
    pub(super) fn bind_analyze(&self, analyze: &ast::Analyze) -> Result<Plan> {
        let Some(name) = &analyze.table_name else {
            return Ok(Plan::Analyze {
                names: None,
                skipped: Vec::new(),
            });
        };
        Ok(match self.relation(name)? {
            names::Found::Table(table) => Plan::Analyze {
                names: Some(vec![RelationName {
                    ns: Namespace::new(self.db, table.schema),
                    name: table.name.clone(),
                }]),
                skipped: Vec::new(),
            },
            names::Found::View(view) => Plan::Analyze {
                names: Some(Vec::new()),
                skipped: vec![view.name],
            },
        })
    }

    /// Binds `ON CONFLICT`: infers the arbiter from the target columns (or constraint name) and
    /// binds DO UPDATE over the existing row and `EXCLUDED`, the proposed one.
    fn bind_on_conflict(
        &self,
        on: &ast::OnConflict,
        table: &Table,
        alias: &str,
    ) -> Result<OnConflict> {
        let arbiters = match &on.conflict_target {
            None => Vec::new(),
            Some(ast::ConflictTarget::Columns(columns)) => {
                let mut positions = Vec::with_capacity(columns.len());
                for c in columns {
                    let name = ident(c);
                    positions.push(table.column_index(&name).ok_or_else(|| {
                        errinput!(UndefinedColumn, "column \"{name}\" does not exist")
                    })?);
                }
                positions.sort_unstable();
                positions.dedup();
                let same = |cols: &[usize]| {
                    let mut cols = cols.to_vec();
                    cols.sort_unstable();
                    cols == positions
                };
                if !table.primary_key.is_empty() && same(&table.primary_key) {
                    vec![Arbiter::PrimaryKey]
                } else if let Some(i) = table
                    .indexes
                    .iter()
                    .position(|i| i.unique && same(&i.columns))
                {
                    vec![Arbiter::Index(i)]
                } else {
                    return Err(errinput!(
                        InvalidColumnReference,
                        "there is no unique or exclusion constraint matching the ON CONFLICT specification"
                    ));
                }
            }
            Some(ast::ConflictTarget::OnConstraint(name)) => {
                let name = simple_name(name)?;
                if !table.primary_key.is_empty() && name == format!("{}_pkey", table.name) {
                    vec![Arbiter::PrimaryKey]
                } else if let Some(i) = table
                    .indexes
                    .iter()
                    .position(|i| i.unique && i.name == name)
                {
                    vec![Arbiter::Index(i)]
                } else {
                    return Err(errinput!(
                        UndefinedObject,
                        "constraint \"{name}\" for table \"{}\" does not exist",
                        table.name
                    ));
                }
            }
        };
        let action = match &on.action {
            ast::OnConflictAction::DoNothing => ConflictAction::Nothing,
            ast::OnConflictAction::DoUpdate(update) => {
                if arbiters.is_empty() {
                    return Err(errinput!(
                        SyntaxError,
                        "ON CONFLICT DO UPDATE requires inference specification or constraint name"
                    ));
                }
                let scope = Scope::of_table(table, alias).join(Scope::of_table(table, "excluded"));
                let mut assignments = Vec::with_capacity(update.assignments.len());
                for a in &update.assignments {
                    let (index, column) = assigned_column(table, &a.target)?;
                    let target = Expr::Column {
                        index,
                        name: column.into(),
                    };
                    assignments
                        .push((index, self.coerce_literal(&a.value, &target, &scope, None)?));
                }
                let filter = update
                    .selection
                    .as_ref()
                    .map(|e| self.bind_expr(e, &scope, None))
                    .transpose()?;
                ConflictAction::Update {
                    assignments,
                    filter,
                }
            }
        };
        Ok(OnConflict { arbiters, action })
    }
}

/// The column an UPDATE assignment sets, by position and name. An identity column defined as
/// GENERATED ALWAYS cannot be set.
fn assigned_column(table: &Table, target: &ast::AssignmentTarget) -> Result<(usize, String)> {
    let ast::AssignmentTarget::ColumnName(column) = target else {
        return Err(unsupported("multi-column assignment"));
    };
    let column = simple_name(column)?;
    let index = table.column_index(&column).ok_or_else(|| {
        errinput!(
            UndefinedColumn,
            "column \"{column}\" of relation \"{}\" does not exist",
            table.name
        )
    })?;
    if table.columns[index].generated_always {
        return Err(errinput!(
            GeneratedAlways,
            "column \"{column}\" can only be updated to DEFAULT"
        )
        .with_detail(format!(
            "Column \"{column}\" is an identity column defined as GENERATED ALWAYS."
        )));
    }
    Ok((index, column))
}

/// The VALUES rows of an INSERT's source that is only VALUES (in parentheses or not): no
/// WITH, ORDER BY or LIMIT.
fn plain_values(query: &ast::Query) -> Option<&ast::Values> {
    if query.with.is_some() || query.order_by.is_some() || query.limit_clause.is_some() {
        return None;
    }
    match query.body.as_ref() {
        ast::SetExpr::Values(values) => Some(values),
        ast::SetExpr::Query(inner) => plain_values(inner),
        _ => None,
    }
}
