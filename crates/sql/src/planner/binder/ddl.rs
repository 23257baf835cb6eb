//! Binding DDL: tables, indexes and views, and SQL type names.

#![allow(clippy::wildcard_imports)]

use super::*;

/// The label PostgreSQL gives a cast of a constant: the type's internal name.
pub(super) fn data_type_label(ty: &ast::DataType) -> String {
    match data_type_from_ast(ty) {
        Ok(DataType::Int16) => "int2".into(),
        Ok(DataType::Int32) => "int4".into(),
        Ok(DataType::Int64) => "int8".into(),
        Ok(DataType::Float32) => "float4".into(),
        Ok(DataType::Float64) => "float8".into(),
        Ok(DataType::Bool) => "bool".into(),
        Ok(DataType::Varchar(_)) => "varchar".into(),
        Ok(DataType::Char(_)) => "bpchar".into(),
        Ok(DataType::Timestamp) => "timestamp".into(),
        Ok(DataType::TimestampTz) => "timestamptz".into(),
        Ok(DataType::Time) => "time".into(),
        Ok(t) => t.to_string(),
        Err(_) => "?column?".into(),
    }
}

/// Maps a type name in SQL to a [`DataType`].
pub fn data_type_from_ast(ty: &ast::DataType) -> Result<DataType> {
    use ast::DataType as D;
    let length = |l: &Option<ast::CharacterLength>| match l {
        Some(ast::CharacterLength::IntegerLength { length, .. }) => Ok(Some(*length as u32)),
        Some(ast::CharacterLength::Max) => Err(unsupported("length MAX")),
        None => Ok(None),
    };
    Ok(match ty {
        D::Bool | D::Boolean => DataType::Bool,
        D::SmallInt(_) | D::Int2(_) => DataType::Int16,
        D::Int(_) | D::Integer(_) | D::Int4(_) => DataType::Int32,
        D::BigInt(_) | D::Int8(_) => DataType::Int64,
        D::Real | D::Float4 => DataType::Float32,
        D::DoublePrecision | D::Float8 | D::Double(ast::ExactNumberInfo::None) => DataType::Float64,
        D::Float(ast::ExactNumberInfo::None) => DataType::Float64,
        D::Float(ast::ExactNumberInfo::Precision(p)) => {
            if *p <= 24 {
                DataType::Float32
            } else {
                DataType::Float64
            }
        }
        D::Numeric(info) | D::Decimal(info) | D::Dec(info) => match info {
            ast::ExactNumberInfo::None => DataType::Numeric(None),
            ast::ExactNumberInfo::Precision(p) => numeric_typmod(*p, 0)?,
            ast::ExactNumberInfo::PrecisionAndScale(p, s) => numeric_typmod(*p, *s)?,
        },
        D::Text => DataType::Text,
        D::Varchar(l) | D::CharacterVarying(l) | D::CharVarying(l) => DataType::Varchar(length(l)?),
        D::Char(l) | D::Character(l) => DataType::Char(length(l)?.unwrap_or(1)),
        D::Bytea => DataType::Bytea,
        D::Date => DataType::Date,
        D::Time(_, ast::TimezoneInfo::None | ast::TimezoneInfo::WithoutTimeZone) => DataType::Time,
        D::Timestamp(_, ast::TimezoneInfo::None | ast::TimezoneInfo::WithoutTimeZone) => {
            DataType::Timestamp
        }
        D::Timestamp(_, ast::TimezoneInfo::WithTimeZone | ast::TimezoneInfo::Tz) => {
            DataType::TimestampTz
        }
        D::Interval { .. } => DataType::Interval,
        D::Uuid => DataType::Uuid,
        D::Regclass => DataType::Oid(crate::types::OidAlias::RegClass),
        D::Custom(name, args) if args.is_empty() => {
            // `pg_catalog.text` is `text`: the built-in types live in pg_catalog.
            let parts: Vec<String> = name
                .0
                .iter()
                .map(|p| match p.as_ident() {
                    Some(id) => ident(id),
                    None => p.to_string(),
                })
                .collect();
            let name = match parts.as_slice() {
                [schema, name] if schema == "pg_catalog" => name.as_str(),
                [name] => name.as_str(),
                _ => {
                    return Err(errinput!(
                        UndefinedObject,
                        "type \"{}\" does not exist",
                        parts.join(".")
                    ))
                }
            };
            type_by_name(name)
                .ok_or_else(|| errinput!(UndefinedObject, "type \"{name}\" does not exist"))?
        }
        D::Array(ast::ArrayElemTypeDef::SquareBracket(element, None))
        | D::Array(ast::ArrayElemTypeDef::AngleBracket(element)) => {
            DataType::Array(Box::new(data_type_from_ast(element)?))
        }
        D::JSON => DataType::Json,
        D::JSONB => DataType::Jsonb,
        other => return Err(unsupported(format!("type {other}"))),
    })
}

/// A type by its one-word name, as `pg_type.typname` or an alias spells it.
pub fn type_by_name(name: &str) -> Option<DataType> {
    use crate::types::OidAlias;
    Some(match name {
        "bool" | "boolean" => DataType::Bool,
        "int2" | "smallint" => DataType::Int16,
        "int" | "int4" | "integer" => DataType::Int32,
        "int8" | "bigint" | "xid" | "xid8" => DataType::Int64,
        "float4" | "real" => DataType::Float32,
        "float8" => DataType::Float64,
        "numeric" | "decimal" => DataType::Numeric(None),
        // `name`, `"char"`, `aclitem` and `pg_node_tree` are text here.
        "text" | "name" | "char" | "aclitem" | "pg_node_tree" => DataType::Text,
        "varchar" => DataType::Varchar(None),
        "bpchar" => DataType::Char(1),
        "bytea" => DataType::Bytea,
        "date" => DataType::Date,
        "time" => DataType::Time,
        "timestamp" => DataType::Timestamp,
        "timestamptz" => DataType::TimestampTz,
        "interval" => DataType::Interval,
        "uuid" => DataType::Uuid,
        "json" => DataType::Json,
        "jsonb" => DataType::Jsonb,
        "oid" => DataType::Oid(OidAlias::Oid),
        "regclass" => DataType::Oid(OidAlias::RegClass),
        "regtype" => DataType::Oid(OidAlias::RegType),
        "regnamespace" => DataType::Oid(OidAlias::RegNamespace),
        "regproc" | "regprocedure" => DataType::Oid(OidAlias::RegProc),
        "regrole" => DataType::Oid(OidAlias::RegRole),
        "int2vector" => DataType::Vector(Box::new(DataType::Int16)),
        "oidvector" => DataType::Vector(Box::new(DataType::Oid(OidAlias::Oid))),
        _ => return None,
    })
}

/// A type for a table column: [`data_type_from_ast`], less the types that exist only in
/// expressions and the system catalogs so far.
fn column_type_from_ast(ty: &ast::DataType) -> Result<DataType> {
    match data_type_from_ast(ty)? {
        t @ (DataType::Oid(_) | DataType::Array(_) | DataType::Vector(_)) => {
            Err(unsupported(format!("columns of type {t}")))
        }
        t => Ok(t),
    }
}

pub(super) fn numeric_typmod(precision: u64, scale: i64) -> Result<DataType> {
    if !(1..=1000).contains(&precision) {
        return Err(errinput!(
            InvalidParameterValue,
            "NUMERIC precision {precision} must be between 1 and 1000"
        ));
    }
    if scale < 0 || scale as u64 > precision {
        return Err(errinput!(
            InvalidParameterValue,
            "NUMERIC scale {scale} must be between 0 and precision {precision}"
        ));
    }
    Ok(DataType::Numeric(Some((precision as u32, scale as u32))))
}

impl<E: Engine> Binder<'_, E> {
    pub(super) fn bind_create_table(&self, create: &ast::CreateTable) -> Result<Plan> {
        if let Some(query) = &create.query {
            if !create.columns.is_empty() || !create.constraints.is_empty() {
                return Err(unsupported("column definitions in CREATE TABLE AS"));
            }
            let with_data = create.with_data.is_none_or(|w| w.data);
            return self.bind_create_table_as(&create.name, create.if_not_exists, query, with_data);
        }
        let target = self.new_name(&create.name)?;
        // A SERIAL column's default names its sequence qualified: defaults are bound afresh
        // with the session's search path, which may find another schema's sequence first.
        // (The catalogs print it bare where the path finds it, as PostgreSQL does.)
        let sequence_prefix = format!(
            "{}.",
            crate::system::oids::quote_ident(&self.schema_name(target.ns.schema)?)
        );
        let name = target.name.clone();
        let mut columns: Vec<Column> = Vec::with_capacity(create.columns.len());
        let mut primary_key = Vec::new();
        let mut unique: Vec<Vec<usize>> = Vec::new();
        let mut checks: Vec<(Option<String>, ast::Expr)> = Vec::new();
        // Foreign keys: the constraint, its referencing columns, its name if given.
        type ForeignKeyDef<'d> = (
            &'d ast::ForeignKeyConstraint,
            Vec<ast::Ident>,
            Option<&'d ast::Ident>,
        );
        let mut foreign_keys: Vec<ForeignKeyDef> = Vec::new();
        let mut sequences = Vec::new();
        for def in &create.columns {
            let column_name = ident(&def.name);
            if columns.iter().any(|c| c.name == column_name) {
                return Err(errinput!(
                    DuplicateColumn,
                    "column \"{column_name}\" specified more than once"
                ));
            } // SERIAL is an integer column whose default draws from a sequence it owns.
            let serial = match &def.data_type {
                ast::DataType::Custom(type_name, args) if args.is_empty() => {
                    match type_name.to_string().to_lowercase().as_str() {
                        "serial" | "serial4" => Some((DataType::Int32, i32::MAX as i64)),
                        "bigserial" | "serial8" => Some((DataType::Int64, i64::MAX)),
                        "smallserial" | "serial2" => Some((DataType::Int16, i16::MAX as i64)),
                        _ => None,
                    }
                }
                _ => None,
            };
            let mut column = Column {
                name: column_name,
                data_type: match &serial {
                    Some((ty, _)) => ty.clone(),
                    None => column_type_from_ast(&def.data_type)?,
                },
                nullable: true,
                default: None,
                generated_always: false,
            };
            if let Some((_, type_max)) = serial {
                let sequence_name = format!("{name}_{}_seq", column.name);
                column.default = Some(format!(
                    "nextval('{sequence_prefix}{}'::regclass)",
                    crate::system::oids::quote_ident(&sequence_name)
                ));
                column.nullable = false;
                let mut sequence =
                    crate::sequence::Sequence::new(target.ns.schema, sequence_name, 1, type_max);
                sequence.owned_by = Some(name.clone());
                sequences.push(sequence);
            }
            for option in &def.options {
                match &option.option {
                    ast::ColumnOption::Null => column.nullable = true,
                    ast::ColumnOption::NotNull => column.nullable = false,
                    ast::ColumnOption::Default(expr) => {
                        // Check it binds now; store the text, evaluated at each insert.
                        self.bind_expr(expr, &Scope::default(), None)?;
                        column.default = Some(expr.to_string());
                    }
                    ast::ColumnOption::Generated {
                        generated_as:
                            kind @ (ast::GeneratedAs::Always | ast::GeneratedAs::ByDefault),
                        generation_expr: None,
                        sequence_options,
                        ..
                    } => {
                        // An identity column: as SERIAL, a default drawing from a sequence the
                        // table owns; ALWAYS also refuses explicit values.
                        if sequence_options.as_ref().is_some_and(|o| !o.is_empty()) {
                            return Err(unsupported("identity sequence options"));
                        }
                        let type_max = match column.data_type {
                            DataType::Int16 => i16::MAX as i64,
                            DataType::Int32 => i32::MAX as i64,
                            DataType::Int64 => i64::MAX,
                            _ => {
                                return Err(errinput!(
                                    InvalidParameterValue,
                                    "identity column type must be smallint, integer, or bigint"
                                ))
                            }
                        };
                        let sequence_name = format!("{name}_{}_seq", column.name);
                        column.default = Some(format!(
                            "nextval('{sequence_prefix}{}'::regclass)",
                            crate::system::oids::quote_ident(&sequence_name)
                        ));
                        column.nullable = false;
                        column.generated_always = matches!(kind, ast::GeneratedAs::Always);
                        let mut sequence = crate::sequence::Sequence::new(
                            target.ns.schema,
                            sequence_name,
                            1,
                            type_max,
                        );
                        sequence.owned_by = Some(name.clone());
                        sequences.push(sequence);
                    }
                    ast::ColumnOption::Check(c) => {
                        let given = option.name.as_ref().or(c.name.as_ref()).map(ident);
                        checks.push((given, c.expr.as_ref().clone()));
                    }
                    ast::ColumnOption::Unique(_) => unique.push(vec![columns.len()]),
                    ast::ColumnOption::ForeignKey(fk) => foreign_keys.push((
                        fk,
                        vec![def.name.clone()],
                        option.name.as_ref().or(fk.name.as_ref()),
                    )),
                    ast::ColumnOption::PrimaryKey(_) => {
                        if !primary_key.is_empty() {
                            return Err(errinput!(
                                InvalidColumnReference,
                                "multiple primary keys for table \"{name}\" are not allowed"
                            ));
                        }
                        column.nullable = false;
                        primary_key.push(columns.len());
                    }
                    other => return Err(unsupported(format!("column constraint {other}"))),
                }
            }
            columns.push(column);
        }
        for constraint in &create.constraints {
            match constraint {
                ast::TableConstraint::Unique(u) => {
                    let mut positions = Vec::with_capacity(u.columns.len());
                    for c in &u.columns {
                        let column = match &c.column.expr {
                            ast::Expr::Identifier(id) => ident(id),
                            other => {
                                return Err(unsupported(format!(
                                    "unique constraint expression {other}"
                                )))
                            }
                        };
                        let i = columns
                            .iter()
                            .position(|c| c.name == column)
                            .ok_or_else(|| {
                                errinput!(
                                    UndefinedColumn,
                                    "column \"{column}\" named in key does not exist"
                                )
                            })?;
                        positions.push(i);
                    }
                    unique.push(positions);
                }
                ast::TableConstraint::PrimaryKey(pk) => {
                    if !primary_key.is_empty() {
                        return Err(errinput!(
                            InvalidColumnReference,
                            "multiple primary keys for table \"{name}\" are not allowed"
                        ));
                    }
                    for c in &pk.columns {
                        let column = match &c.column.expr {
                            ast::Expr::Identifier(id) => ident(id),
                            other => {
                                return Err(unsupported(format!("primary key expression {other}")))
                            }
                        };
                        let i = columns
                            .iter()
                            .position(|c| c.name == column)
                            .ok_or_else(|| {
                                errinput!(
                                    UndefinedColumn,
                                    "column \"{column}\" named in key does not exist"
                                )
                            })?;
                        columns[i].nullable = false;
                        primary_key.push(i);
                    }
                }
                ast::TableConstraint::Check(c) => {
                    checks.push((c.name.as_ref().map(ident), c.expr.as_ref().clone()));
                }
                ast::TableConstraint::ForeignKey(fk) => {
                    foreign_keys.push((fk, fk.columns.clone(), fk.name.as_ref()));
                }
                other => return Err(unsupported(format!("table constraint {other}"))),
            }
        }
        let unique: Vec<Index> = unique
            .into_iter()
            .map(|positions| {
                let names: Vec<&str> = positions
                    .iter()
                    .map(|&i| columns[i].name.as_str())
                    .collect();
                Index {
                    id: 0,
                    name: format!("{name}_{}_key", names.join("_")),
                    columns: positions,
                    unique: true,
                }
            })
            .collect();
        let mut table = Table {
            id: 0,
            schema: target.ns.schema,
            name,
            columns,
            primary_key,
            indexes: Vec::new(),
            checks: Vec::new(),
            foreign_keys: Vec::new(),
            stats: None,
        };
        for (given, expr) in checks {
            let check = self.new_check(&table, given, &expr)?;
            table.checks.push(check);
        }
        table.checks.sort_by(|a, b| a.name.cmp(&b.name));
        let unique_columns: Vec<Vec<usize>> = unique.iter().map(|i| i.columns.clone()).collect();
        for (fk, columns, name) in foreign_keys {
            let fk = self.new_foreign_key(&table, &unique_columns, fk, &columns, name)?;
            table.foreign_keys.push(fk);
        }
        table.foreign_keys.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Plan::CreateTable {
            table,
            if_not_exists: create.if_not_exists,
            unique,
            sequences,
        })
    }

    /// `CREATE TABLE name AS query` and `SELECT ... INTO name`: a table with the query's
    /// output columns, their names and types (a column of NULLs or untyped literals is text,
    /// as in PostgreSQL), nullable and without constraints or a primary key, filled with the
    /// query's rows.
    pub(super) fn bind_create_table_as(
        &self,
        name: &ast::ObjectName,
        if_not_exists: bool,
        query: &ast::Query,
        with_data: bool,
    ) -> Result<Plan> {
        let target = self.new_name(name)?;
        self.exact_outputs.take();
        let (source, labels) = self.bind_query(query)?;
        // What is known of each column's type, if the query's body recorded it.
        let mut known = self.exact_outputs.take();
        if known.len() != labels.len() {
            known = vec![super::query::Known::Guess; labels.len()];
        }
        let mut guessed = Vec::with_capacity(labels.len());
        let mut columns: Vec<Column> = Vec::with_capacity(labels.len());
        for (label, known) in labels.into_iter().zip(known) {
            // A guessed type is refined by the values when they are read.
            let guess = known == super::query::Known::Guess;
            guessed.push(guess);
            let label = Label {
                data_type: match guess {
                    true => label.data_type.unmodified(),
                    false => label.data_type,
                },
                ..label
            };
            if columns.iter().any(|c| c.name == label.name) {
                return Err(errinput!(
                    DuplicateColumn,
                    "column \"{}\" specified more than once",
                    label.name
                ));
            }
            let data_type = match label.data_type {
                DataType::Unknown if !guess => DataType::Text,
                t @ (DataType::Record(_) | DataType::Vector(_)) => {
                    return Err(errinput!(
                        InvalidTableDefinition,
                        "column \"{}\" has pseudo-type {t}",
                        label.name
                    ))
                }
                t => t,
            };
            columns.push(Column {
                name: label.name,
                data_type,
                nullable: true,
                default: None,
                generated_always: false,
            });
        }
        let table = Table {
            id: 0,
            schema: target.ns.schema,
            name: target.name,
            columns,
            primary_key: Vec::new(),
            indexes: Vec::new(),
            checks: Vec::new(),
            foreign_keys: Vec::new(),
            stats: None,
        };
        Ok(Plan::CreateTableAs {
            table,
            if_not_exists,
            source,
            with_data,
            guessed,
        })
    }

    /// Binds a view's stored query; its columns take the view's own names where given. Also
    /// returns the tables and views the query uses.
    pub(super) fn bind_view(&self, view: &View) -> Result<(Node, Vec<Label>, Vec<QualifiedName>)> {
        let statements = crate::parser::parse(self.dialect, &view.query)?;
        let [ast::Statement::Query(query)] = statements.as_slice() else {
            return Err(errinternal!("view {} holds {:?}", view.name, view.query));
        };
        let binder = Binder::new(self.txn, self.who.clone(), &view.query, self.dialect)
            .with_search_path(SearchPath::from_names(view.search_path.clone()));
        let (node, mut labels) = binder.bind_query(query)?;
        for (label, name) in labels.iter_mut().zip(&view.columns) {
            label.name = name.clone();
        }
        let mut uses = binder.referenced.borrow().clone();
        uses.sort();
        uses.dedup();
        Ok((node, labels, uses))
    }

    pub(super) fn bind_create_view(&self, create: &ast::CreateView) -> Result<Plan> {
        if create.materialized || create.temporary {
            return Err(unsupported("materialized or temporary views"));
        }
        let target = self.new_name(&create.name)?;
        let name = target.name.clone();
        let columns: Vec<String> = create.columns.iter().map(|c| ident(&c.name)).collect();
        if create.or_replace && Catalog::table(self.txn, target.ns, &name)?.is_some() {
            return Err(errinput!(WrongObjectType, "\"{name}\" is not a view"));
        }
        let mut view = View {
            id: 0,
            schema: target.ns.schema,
            name,
            query: create.query.to_string(),
            search_path: self.search_path().names().to_vec(),
            columns,
            depends_on: Vec::new(),
            output: Vec::new(),
        };
        // Bind now so that a broken view fails at CREATE, as in PostgreSQL.
        let (_, labels, uses) = self.bind_view(&view)?;
        view.depends_on = uses;
        view.output = labels
            .iter()
            .map(|l| (l.name.clone(), l.data_type.clone()))
            .collect();
        // OR REPLACE may add columns at the end, not rename or drop existing ones.
        if let (true, Some(old)) = (
            create.or_replace,
            Catalog::view(self.txn, target.ns, &view.name)?,
        ) {
            let (_, old_labels, _) = self.bind_view(&old)?;
            if labels.len() < old_labels.len() {
                return Err(errinput!(
                    InvalidTableDefinition,
                    "cannot drop columns from view"
                ));
            }
            for (old, new) in old_labels.iter().zip(&labels) {
                if old.name != new.name {
                    return Err(errinput!(
                        InvalidTableDefinition,
                        "cannot change name of view column \"{}\" to \"{}\"",
                        old.name,
                        new.name
                    ));
                }
            }
        }
        if view.columns.len() > labels.len() {
            return Err(errinput!(
                SyntaxError,
                "CREATE VIEW specifies more column names than columns"
            ));
        }
        Ok(Plan::CreateView {
            view,
            or_replace: create.or_replace,
        })
    }

    pub(super) fn bind_create_index(&self, create: &ast::CreateIndex) -> Result<Plan> {
        if create.predicate.is_some() || !create.include.is_empty() || create.using.is_some() {
            return Err(unsupported("partial, covering or non-btree indexes"));
        }
        let table = self.table(&create.table_name)?;
        let mut columns = Vec::with_capacity(create.columns.len());
        for c in &create.columns {
            let column = match &c.column.expr {
                ast::Expr::Identifier(id) => ident(id),
                other => return Err(unsupported(format!("index on expression {other}"))),
            };
            let i = table
                .column_index(&column)
                .ok_or_else(|| errinput!(UndefinedColumn, "column \"{column}\" does not exist"))?;
            columns.push(i);
        }
        let name = match &create.name {
            Some(name) => simple_name(name)?,
            None => {
                let names: Vec<&str> = columns
                    .iter()
                    .map(|&i| table.columns[i].name.as_str())
                    .collect();
                let suffix = if create.unique { "key" } else { "idx" };
                format!("{}_{}_{suffix}", table.name, names.join("_"))
            }
        };
        let index = Index {
            id: 0,
            name,
            columns,
            unique: create.unique,
        };
        Ok(Plan::CreateIndex {
            table: RelationName {
                ns: Namespace::new(self.db, table.schema),
                name: table.name.clone(),
            },
            index,
            if_not_exists: create.if_not_exists,
        })
    }

    /// Binds ALTER TABLE; names are checked when the operations apply, in order.
    pub(super) fn bind_alter_table(&self, alter: &ast::AlterTable) -> Result<Plan> {
        let table = match self.find(&alter.name, Kind::Table)? {
            Some(table) => table,
            None => {
                if let Some(view) = self.find(&alter.name, Kind::View)? {
                    return Err(errinput!(WrongObjectType, "\"{view}\" is not a table"));
                }
                let written = names::written_name(&alter.name, &self.who.database)?;
                return Err(errinput!(
                    UndefinedTable,
                    "relation \"{written}\" does not exist"
                ));
            }
        };
        // ADD UNIQUE is a unique index under the constraint's name, built over existing rows.
        if let [ast::AlterTableOperation::AddConstraint {
            constraint: ast::TableConstraint::Unique(u),
            ..
        }] = alter.operations.as_slice()
        {
            let table = self.table(&alter.name)?;
            let mut columns = Vec::with_capacity(u.columns.len());
            for c in &u.columns {
                let column = match &c.column.expr {
                    ast::Expr::Identifier(id) => ident(id),
                    other => return Err(unsupported(format!("unique constraint on {other}"))),
                };
                columns.push(table.column_index(&column).ok_or_else(|| {
                    errinput!(
                        UndefinedColumn,
                        "column \"{column}\" named in key does not exist"
                    )
                })?);
            }
            let name = match &u.name {
                Some(name) => ident(name),
                None => {
                    let names: Vec<&str> = columns
                        .iter()
                        .map(|&i| table.columns[i].name.as_str())
                        .collect();
                    format!("{}_{}_key", table.name, names.join("_"))
                }
            };
            let index = Index {
                id: 0,
                name,
                columns,
                unique: true,
            };
            return Ok(Plan::CreateIndex {
                table: RelationName {
                    ns: Namespace::new(self.db, table.schema),
                    name: table.name.clone(),
                },
                index,
                if_not_exists: false,
            });
        }
        let mut ops = Vec::with_capacity(alter.operations.len());
        for op in &alter.operations {
            use ast::AlterTableOperation as O;
            // Operations an operation implies, applied after it (a new column's REFERENCES).
            let mut implied = Vec::new();
            ops.push(match op {
                O::AddConstraint {
                    constraint: ast::TableConstraint::Check(c),
                    ..
                } => {
                    // Bound over the table as it is now, so other operations must not move its
                    // columns first.
                    if alter.operations.len() > 1 {
                        return Err(unsupported(
                            "ADD CONSTRAINT ... CHECK with other operations in one ALTER TABLE",
                        ));
                    }
                    let table = Catalog::table(self.txn, table.ns, &table.name)?
                        .ok_or_else(|| errinternal!("table {table} vanished during binding"))?;
                    let check = self.new_check(&table, c.name.as_ref().map(ident), &c.expr)?;
                    let expr =
                        self.bind_expr(&c.expr, &Scope::of_table(&table, &table.name), None)?;
                    AlterOp::AddCheck { check, expr }
                }
                O::AddConstraint {
                    constraint: ast::TableConstraint::ForeignKey(fk),
                    ..
                } => {
                    let table = Catalog::table(self.txn, table.ns, &table.name)?
                        .ok_or_else(|| errinternal!("table {table} vanished during binding"))?;
                    let fk =
                        self.new_foreign_key(&table, &[], fk, &fk.columns, fk.name.as_ref())?;
                    if table.foreign_keys.iter().any(|f| f.name == fk.name)
                        || table.checks.iter().any(|c| c.name == fk.name)
                    {
                        return Err(errinput!(
                            DuplicateObject,
                            "constraint \"{}\" for relation \"{}\" already exists",
                            fk.name,
                            table.name
                        ));
                    }
                    AlterOp::AddForeignKey(fk)
                }
                O::AddConstraint {
                    constraint: ast::TableConstraint::PrimaryKey(pk),
                    ..
                } => {
                    let mut columns = Vec::with_capacity(pk.columns.len());
                    for c in &pk.columns {
                        match &c.column.expr {
                            ast::Expr::Identifier(id) => columns.push(ident(id)),
                            other => return Err(unsupported(format!("primary key on {other}"))),
                        }
                    }
                    let name = match &pk.name {
                        Some(name) => ident(name),
                        None => format!("{table}_pkey"),
                    };
                    AlterOp::AddPrimaryKey { name, columns }
                }
                O::DropConstraint {
                    if_exists, name, ..
                } => AlterOp::DropConstraint {
                    name: ident(name),
                    if_exists: *if_exists,
                },
                O::AddColumn {
                    if_not_exists,
                    column_def,
                    column_position: None,
                    ..
                } => {
                    let mut column = Column {
                        name: ident(&column_def.name),
                        data_type: column_type_from_ast(&column_def.data_type)?,
                        nullable: true,
                        default: None,
                        generated_always: false,
                    };
                    let mut default = None;
                    for option in &column_def.options {
                        match &option.option {
                            ast::ColumnOption::Null => column.nullable = true,
                            ast::ColumnOption::NotNull => column.nullable = false,
                            ast::ColumnOption::Default(expr) => {
                                default = Some(self.bind_expr(expr, &Scope::default(), None)?);
                                column.default = Some(expr.to_string());
                            }
                            ast::ColumnOption::ForeignKey(fk) => {
                                let mut with_column =
                                    Catalog::table(self.txn, table.ns, &table.name)?
                                        .map(Arc::unwrap_or_clone)
                                        .ok_or_else(|| {
                                            errinternal!("table {table} vanished during binding")
                                        })?;
                                with_column.columns.push(column.clone());
                                let name = option.name.as_ref().or(fk.name.as_ref());
                                let fk = self.new_foreign_key(
                                    &with_column,
                                    &[],
                                    fk,
                                    std::slice::from_ref(&column_def.name),
                                    name,
                                )?;
                                implied.push(AlterOp::AddForeignKey(fk));
                            }
                            other => return Err(unsupported(format!("ADD COLUMN with {other}"))),
                        }
                    }
                    AlterOp::AddColumn {
                        column,
                        default,
                        if_not_exists: *if_not_exists,
                    }
                }
                O::DropColumn {
                    column_names,
                    if_exists,
                    ..
                } if column_names.len() == 1 => AlterOp::DropColumn {
                    name: ident(&column_names[0]),
                    if_exists: *if_exists,
                },
                O::RenameColumn {
                    old_column_name,
                    new_column_name,
                } => AlterOp::RenameColumn {
                    old: ident(old_column_name),
                    new: ident(new_column_name),
                },
                O::RenameTable {
                    table_name:
                        ast::RenameTableNameKind::To(name) | ast::RenameTableNameKind::As(name),
                } => AlterOp::RenameTable {
                    // The table stays in its schema: `RENAME TO app.u` may only name it.
                    new: match names::written_name(name, &self.who.database)? {
                        names::WrittenName { schema: None, name } => name,
                        _ => return Err(errinput!(SyntaxError, "syntax error at or near \".\"")),
                    },
                },
                O::AlterColumn { column_name, op } => {
                    let column = ident(column_name);
                    match op {
                        ast::AlterColumnOperation::SetNotNull => AlterOp::SetNotNull {
                            column,
                            not_null: true,
                        },
                        ast::AlterColumnOperation::DropNotNull => AlterOp::SetNotNull {
                            column,
                            not_null: false,
                        },
                        ast::AlterColumnOperation::SetDefault { value } => {
                            self.bind_expr(value, &Scope::default(), None)?;
                            AlterOp::SetDefault {
                                column,
                                default: Some(value.to_string()),
                            }
                        }
                        ast::AlterColumnOperation::DropDefault => AlterOp::SetDefault {
                            column,
                            default: None,
                        },
                        other => return Err(unsupported(format!("ALTER COLUMN {other}"))),
                    }
                }
                other => return Err(unsupported(format!("ALTER TABLE {other}"))),
            });
            ops.append(&mut implied);
        }
        Ok(Plan::AlterTable { table, ops })
    }

    /// Binds CREATE SEQUENCE's options onto PostgreSQL's defaults.
    pub(super) fn bind_sequence(
        &self,
        name: RelationName,
        options: &[ast::SequenceOptions],
    ) -> Result<crate::sequence::Sequence> {
        let number = |e: &ast::Expr| -> Result<i64> {
            let bound = self.bind_expr(e, &Scope::default(), None)?;
            let cache = crate::execution::SubqueryCache::for_identity(self.who.clone());
            let env = crate::execution::Env::new(self.txn, &cache);
            match types::cast(crate::execution::eval(&bound, &[], &env)?, &DataType::Int64)? {
                Value::Int64(n) => Ok(n),
                other => Err(errinput!(
                    InvalidParameterValue,
                    "invalid sequence option value {other}"
                )),
            }
        };
        let increment = options
            .iter()
            .find_map(|o| match o {
                ast::SequenceOptions::IncrementBy(e, _) => Some(number(e)),
                _ => None,
            })
            .transpose()?
            .unwrap_or(1);
        if increment == 0 {
            return Err(errinput!(
                InvalidParameterValue,
                "INCREMENT must not be zero"
            ));
        }
        let mut seq =
            crate::sequence::Sequence::new(name.ns.schema, name.name, increment, i64::MAX);
        let mut start = None;
        for option in options {
            match option {
                ast::SequenceOptions::IncrementBy(..) | ast::SequenceOptions::Cache(_) => {}
                ast::SequenceOptions::MinValue(Some(e)) => seq.min = number(e)?,
                ast::SequenceOptions::MaxValue(Some(e)) => seq.max = number(e)?,
                ast::SequenceOptions::MinValue(None) | ast::SequenceOptions::MaxValue(None) => {}
                ast::SequenceOptions::StartWith(e, _) => start = Some(number(e)?),
                ast::SequenceOptions::Cycle(no) => seq.cycle = !no,
            }
        }
        seq.start = start.unwrap_or(if increment > 0 { seq.min } else { seq.max });
        if seq.min >= seq.max {
            return Err(errinput!(
                InvalidParameterValue,
                "MINVALUE ({}) must be less than MAXVALUE ({})",
                seq.min,
                seq.max
            ));
        }
        if seq.start < seq.min || seq.start > seq.max {
            return Err(errinput!(
                InvalidParameterValue,
                "START value ({}) cannot be outside MINVALUE..MAXVALUE ({}..{})",
                seq.start,
                seq.min,
                seq.max
            ));
        }
        Ok(seq)
    }
}

/// The table columns `expr` reads (outside subqueries), by position, each once.
fn columns_read(expr: &Expr, out: &mut Vec<usize>) {
    if let Expr::Column { index, .. } = expr {
        if !out.contains(index) {
            out.push(*index);
        }
    }
    for child in expr.children() {
        columns_read(child, out);
    }
}

fn has_subquery(expr: &Expr) -> bool {
    matches!(
        expr,
        Expr::Subquery(_)
            | Expr::Exists(_)
            | Expr::ArraySubquery(..)
            | Expr::InSubquery(..)
            | Expr::Quantified { .. }
    ) || expr.children().into_iter().any(has_subquery)
}

impl<E: Engine> Binder<'_, E> {
    /// A new CHECK constraint on `table`: the expression must be boolean over the table's own
    /// columns, without subqueries. Unnamed ones are named as PostgreSQL names them:
    /// `<table>_<column>_check` when one column is read, else `<table>_check`, with a number
    /// appended while the name is taken.
    pub(super) fn new_check(
        &self,
        table: &Table,
        given: Option<String>,
        expr: &ast::Expr,
    ) -> Result<Check> {
        let scope = Scope::of_table(table, &table.name);
        let bound = self.bind_expr(expr, &scope, None)?;
        self.check_boolean(&bound, &scope, None, "CHECK")?;
        if has_subquery(&bound) {
            return Err(errinput!(
                FeatureNotSupported,
                "cannot use subquery in check constraint"
            ));
        }
        let mut read = Vec::new();
        columns_read(&bound, &mut read);
        let columns: Vec<String> = read
            .iter()
            .map(|&i| table.columns[i].name.clone())
            .collect();
        let taken = |name: &str| table.checks.iter().any(|c| c.name == name);
        let name = match given {
            Some(name) if taken(&name) => {
                return Err(errinput!(
                    DuplicateObject,
                    "constraint \"{name}\" for relation \"{}\" already exists",
                    table.name
                ))
            }
            Some(name) => name,
            None => {
                let base = match columns.as_slice() {
                    [only] => format!("{}_{only}_check", table.name),
                    _ => format!("{}_check", table.name),
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
        Ok(Check {
            name,
            expr: expr.to_string(),
            columns,
        })
    }

    /// Binds a table's CHECK constraints over its row, for a statement that writes it.
    pub(super) fn bind_checks(&self, table: &Table) -> Result<Vec<(String, Expr)>> {
        let scope = Scope::of_table(table, &table.name);
        table
            .checks
            .iter()
            .map(|check| {
                let expr = self.parse_stored_expr(&check.expr)?;
                Ok((check.name.clone(), self.bind_expr(&expr, &scope, None)?))
            })
            .collect()
    }
}
