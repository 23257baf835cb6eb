//! The system relations' names and columns: `pg_catalog`'s tables and views and
//! `information_schema`'s views, as far as clients read them. Their rows are computed when
//! read, by [`super::pg_catalog`] and [`super::information_schema`].

use crate::types::{DataType, OidAlias};

/// A column type of a system relation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    /// `oid`
    Oid,
    /// `name` (text here)
    Name,
    /// `text`
    Text,
    /// `"char"` (text here)
    Char,
    /// `boolean`
    Bool,
    /// `smallint`
    I2,
    /// `integer`
    I4,
    /// `bigint` (also `xid` here)
    I8,
    /// `real`
    F4,
    /// `regproc`
    RegProc,
    /// `regtype`
    RegType,
    /// `smallint[]`
    I2Array,
    /// `oid[]`
    OidArray,
    /// `int2vector`
    I2Vector,
    /// `oidvector`
    OidVector,
    /// `text[]` (also `aclitem[]` here)
    TextArray,
    /// `"char"[]`
    CharArray,
    /// `real[]`
    F4Array,
    /// `timestamp with time zone`
    TimestampTz,
}

impl Ty {
    /// The engine type.
    pub fn data_type(self) -> DataType {
        match self {
            Ty::Oid => DataType::Oid(OidAlias::Oid),
            Ty::Name | Ty::Text | Ty::Char => DataType::Text,
            Ty::Bool => DataType::Bool,
            Ty::I2 => DataType::Int16,
            Ty::I4 => DataType::Int32,
            Ty::I8 => DataType::Int64,
            Ty::F4 => DataType::Float32,
            Ty::RegProc => DataType::Oid(OidAlias::RegProc),
            Ty::RegType => DataType::Oid(OidAlias::RegType),
            Ty::I2Array => DataType::Array(Box::new(DataType::Int16)),
            Ty::I2Vector => DataType::Vector(Box::new(DataType::Int16)),
            Ty::OidVector => DataType::Vector(Box::new(DataType::Oid(OidAlias::Oid))),
            Ty::OidArray => DataType::Array(Box::new(DataType::Oid(OidAlias::Oid))),
            Ty::TextArray | Ty::CharArray => DataType::Array(Box::new(DataType::Text)),
            Ty::F4Array => DataType::Array(Box::new(DataType::Float32)),
            Ty::TimestampTz => DataType::TimestampTz,
        }
    }

    /// The type PostgreSQL gives the column, as `pg_attribute.atttypid` reports it.
    pub fn type_oid(self) -> u32 {
        match self {
            Ty::Name => 19,
            Ty::Char => 18,
            Ty::CharArray => 1002,
            other => other.data_type().oid(),
        }
    }
}

/// A system relation.
#[derive(Debug, PartialEq, Eq)]
pub struct RelationDef {
    /// Its schema: `pg_catalog` or `information_schema`.
    pub schema: &'static str,
    /// Its name.
    pub name: &'static str,
    /// `r` for a table, `v` for a view, as `pg_class.relkind`.
    pub kind: char,
    /// Its columns.
    pub columns: &'static [(&'static str, Ty)],
}

impl RelationDef {
    /// Its schema's OID.
    pub fn schema_oid(&self) -> i64 {
        super::oids::system_schema(self.schema).unwrap_or(super::oids::PG_CATALOG)
    }
}

const fn pg(name: &'static str, kind: char, columns: &'static [(&'static str, Ty)]) -> RelationDef {
    RelationDef {
        schema: "pg_catalog",
        name,
        kind,
        columns,
    }
}

const fn is(name: &'static str, columns: &'static [(&'static str, Ty)]) -> RelationDef {
    RelationDef {
        schema: "information_schema",
        name,
        kind: 'v',
        columns,
    }
}

use Ty::*;

/// `pg_namespace`
pub static PG_NAMESPACE: RelationDef = pg(
    "pg_namespace",
    'r',
    &[
        ("oid", Oid),
        ("nspname", Name),
        ("nspowner", Oid),
        ("nspacl", TextArray),
    ],
);

/// `pg_class`
pub static PG_CLASS: RelationDef = pg(
    "pg_class",
    'r',
    &[
        ("oid", Oid),
        ("relname", Name),
        ("relnamespace", Oid),
        ("reltype", Oid),
        ("reloftype", Oid),
        ("relowner", Oid),
        ("relam", Oid),
        ("relfilenode", Oid),
        ("reltablespace", Oid),
        ("relpages", I4),
        ("reltuples", F4),
        ("relallvisible", I4),
        ("reltoastrelid", Oid),
        ("relhasindex", Bool),
        ("relisshared", Bool),
        ("relpersistence", Char),
        ("relkind", Char),
        ("relnatts", I2),
        ("relchecks", I2),
        ("relhasrules", Bool),
        ("relhastriggers", Bool),
        ("relhassubclass", Bool),
        ("relrowsecurity", Bool),
        ("relforcerowsecurity", Bool),
        ("relispopulated", Bool),
        ("relreplident", Char),
        ("relispartition", Bool),
        ("relrewrite", Oid),
        ("relfrozenxid", I8),
        ("relminmxid", I8),
        ("relacl", TextArray),
        ("reloptions", TextArray),
        ("relpartbound", Text),
    ],
);

/// `pg_attribute`
pub static PG_ATTRIBUTE: RelationDef = pg(
    "pg_attribute",
    'r',
    &[
        ("attrelid", Oid),
        ("attname", Name),
        ("atttypid", Oid),
        ("attstattarget", I4),
        ("attlen", I2),
        ("attnum", I2),
        ("attndims", I4),
        ("attcacheoff", I4),
        ("atttypmod", I4),
        ("attbyval", Bool),
        ("attalign", Char),
        ("attstorage", Char),
        ("attcompression", Char),
        ("attnotnull", Bool),
        ("atthasdef", Bool),
        ("atthasmissing", Bool),
        ("attidentity", Char),
        ("attgenerated", Char),
        ("attisdropped", Bool),
        ("attislocal", Bool),
        ("attinhcount", I4),
        ("attcollation", Oid),
        ("attacl", TextArray),
        ("attoptions", TextArray),
        ("attfdwoptions", TextArray),
        ("attmissingval", Text),
    ],
);

/// `pg_attrdef`
pub static PG_ATTRDEF: RelationDef = pg(
    "pg_attrdef",
    'r',
    &[
        ("oid", Oid),
        ("adrelid", Oid),
        ("adnum", I2),
        ("adbin", Text),
    ],
);

/// `pg_index`
pub static PG_INDEX: RelationDef = pg(
    "pg_index",
    'r',
    &[
        ("indexrelid", Oid),
        ("indrelid", Oid),
        ("indnatts", I2),
        ("indnkeyatts", I2),
        ("indisunique", Bool),
        ("indnullsnotdistinct", Bool),
        ("indisprimary", Bool),
        ("indisexclusion", Bool),
        ("indimmediate", Bool),
        ("indisclustered", Bool),
        ("indisvalid", Bool),
        ("indcheckxmin", Bool),
        ("indisready", Bool),
        ("indislive", Bool),
        ("indisreplident", Bool),
        ("indkey", I2Vector),
        ("indcollation", OidVector),
        ("indclass", OidVector),
        ("indoption", I2Vector),
        ("indexprs", Text),
        ("indpred", Text),
    ],
);

/// `pg_constraint`
pub static PG_CONSTRAINT: RelationDef = pg(
    "pg_constraint",
    'r',
    &[
        ("oid", Oid),
        ("conname", Name),
        ("connamespace", Oid),
        ("contype", Char),
        ("condeferrable", Bool),
        ("condeferred", Bool),
        ("convalidated", Bool),
        ("conrelid", Oid),
        ("contypid", Oid),
        ("conindid", Oid),
        ("conparentid", Oid),
        ("confrelid", Oid),
        ("confupdtype", Char),
        ("confdeltype", Char),
        ("confmatchtype", Char),
        ("conislocal", Bool),
        ("coninhcount", I4),
        ("connoinherit", Bool),
        ("conkey", I2Array),
        ("confkey", I2Array),
        ("conpfeqop", OidArray),
        ("conppeqop", OidArray),
        ("conffeqop", OidArray),
        ("confdelsetcols", I2Array),
        ("conexclop", OidArray),
        ("conbin", Text),
    ],
);

/// `pg_type`
pub static PG_TYPE: RelationDef = pg(
    "pg_type",
    'r',
    &[
        ("oid", Oid),
        ("typname", Name),
        ("typnamespace", Oid),
        ("typowner", Oid),
        ("typlen", I2),
        ("typbyval", Bool),
        ("typtype", Char),
        ("typcategory", Char),
        ("typispreferred", Bool),
        ("typisdefined", Bool),
        ("typdelim", Char),
        ("typrelid", Oid),
        ("typsubscript", RegProc),
        ("typelem", Oid),
        ("typarray", Oid),
        ("typinput", RegProc),
        ("typoutput", RegProc),
        ("typreceive", RegProc),
        ("typsend", RegProc),
        ("typmodin", RegProc),
        ("typmodout", RegProc),
        ("typanalyze", RegProc),
        ("typalign", Char),
        ("typstorage", Char),
        ("typnotnull", Bool),
        ("typbasetype", Oid),
        ("typtypmod", I4),
        ("typndims", I4),
        ("typcollation", Oid),
        ("typdefaultbin", Text),
        ("typdefault", Text),
        ("typacl", TextArray),
    ],
);

/// `pg_database`
pub static PG_DATABASE: RelationDef = pg(
    "pg_database",
    'r',
    &[
        ("oid", Oid),
        ("datname", Name),
        ("datdba", Oid),
        ("encoding", I4),
        ("datlocprovider", Char),
        ("datistemplate", Bool),
        ("datallowconn", Bool),
        ("datconnlimit", I4),
        ("datfrozenxid", I8),
        ("datminmxid", I8),
        ("dattablespace", Oid),
        ("datcollate", Text),
        ("datctype", Text),
        ("daticulocale", Text),
        ("datcollversion", Text),
        ("datacl", TextArray),
    ],
);

/// `pg_authid`
pub static PG_AUTHID: RelationDef = pg(
    "pg_authid",
    'r',
    &[
        ("oid", Oid),
        ("rolname", Name),
        ("rolsuper", Bool),
        ("rolinherit", Bool),
        ("rolcreaterole", Bool),
        ("rolcreatedb", Bool),
        ("rolcanlogin", Bool),
        ("rolreplication", Bool),
        ("rolbypassrls", Bool),
        ("rolconnlimit", I4),
        ("rolpassword", Text),
        ("rolvaliduntil", TimestampTz),
    ],
);

/// `pg_roles`
pub static PG_ROLES: RelationDef = pg(
    "pg_roles",
    'v',
    &[
        ("rolname", Name),
        ("rolsuper", Bool),
        ("rolinherit", Bool),
        ("rolcreaterole", Bool),
        ("rolcreatedb", Bool),
        ("rolcanlogin", Bool),
        ("rolreplication", Bool),
        ("rolconnlimit", I4),
        ("rolpassword", Text),
        ("rolvaliduntil", TimestampTz),
        ("rolbypassrls", Bool),
        ("rolconfig", TextArray),
        ("oid", Oid),
    ],
);

/// `pg_user`
pub static PG_USER: RelationDef = pg(
    "pg_user",
    'v',
    &[
        ("usename", Name),
        ("usesysid", Oid),
        ("usecreatedb", Bool),
        ("usesuper", Bool),
        ("userepl", Bool),
        ("usebypassrls", Bool),
        ("passwd", Text),
        ("valuntil", TimestampTz),
        ("useconfig", TextArray),
    ],
);

/// `pg_auth_members`
pub static PG_AUTH_MEMBERS: RelationDef = pg(
    "pg_auth_members",
    'r',
    &[
        ("roleid", Oid),
        ("member", Oid),
        ("grantor", Oid),
        ("admin_option", Bool),
    ],
);

/// `pg_am`
pub static PG_AM: RelationDef = pg(
    "pg_am",
    'r',
    &[
        ("oid", Oid),
        ("amname", Name),
        ("amhandler", RegProc),
        ("amtype", Char),
    ],
);

/// `pg_sequence`
pub static PG_SEQUENCE: RelationDef = pg(
    "pg_sequence",
    'r',
    &[
        ("seqrelid", Oid),
        ("seqtypid", Oid),
        ("seqstart", I8),
        ("seqincrement", I8),
        ("seqmax", I8),
        ("seqmin", I8),
        ("seqcache", I8),
        ("seqcycle", Bool),
    ],
);

/// `pg_depend`
pub static PG_DEPEND: RelationDef = pg(
    "pg_depend",
    'r',
    &[
        ("classid", Oid),
        ("objid", Oid),
        ("objsubid", I4),
        ("refclassid", Oid),
        ("refobjid", Oid),
        ("refobjsubid", I4),
        ("deptype", Char),
    ],
);

/// `pg_description`
pub static PG_DESCRIPTION: RelationDef = pg(
    "pg_description",
    'r',
    &[
        ("objoid", Oid),
        ("classoid", Oid),
        ("objsubid", I4),
        ("description", Text),
    ],
);

/// `pg_shdescription`
pub static PG_SHDESCRIPTION: RelationDef = pg(
    "pg_shdescription",
    'r',
    &[("objoid", Oid), ("classoid", Oid), ("description", Text)],
);

/// `pg_collation`
pub static PG_COLLATION: RelationDef = pg(
    "pg_collation",
    'r',
    &[
        ("oid", Oid),
        ("collname", Name),
        ("collnamespace", Oid),
        ("collowner", Oid),
        ("collprovider", Char),
        ("collisdeterministic", Bool),
        ("collencoding", I4),
        ("collcollate", Text),
        ("collctype", Text),
    ],
);

/// `pg_tablespace`
pub static PG_TABLESPACE: RelationDef = pg(
    "pg_tablespace",
    'r',
    &[
        ("oid", Oid),
        ("spcname", Name),
        ("spcowner", Oid),
        ("spcacl", TextArray),
        ("spcoptions", TextArray),
    ],
);

/// `pg_policy` (row-level security policies: none yet)
pub static PG_POLICY: RelationDef = pg(
    "pg_policy",
    'r',
    &[
        ("oid", Oid),
        ("polname", Name),
        ("polrelid", Oid),
        ("polcmd", Char),
        ("polpermissive", Bool),
        ("polroles", OidArray),
        ("polqual", Text),
        ("polwithcheck", Text),
    ],
);

/// `pg_statistic_ext` (none)
pub static PG_STATISTIC_EXT: RelationDef = pg(
    "pg_statistic_ext",
    'r',
    &[
        ("oid", Oid),
        ("stxrelid", Oid),
        ("stxname", Name),
        ("stxnamespace", Oid),
        ("stxowner", Oid),
        ("stxstattarget", I4),
        ("stxkeys", I2Vector),
        ("stxkind", CharArray),
        ("stxexprs", Text),
    ],
);

/// `pg_stats`: what `ANALYZE` found, per column. The `anyarray` columns are `text[]` here.
pub static PG_STATS: RelationDef = pg(
    "pg_stats",
    'v',
    &[
        ("schemaname", Name),
        ("tablename", Name),
        ("attname", Name),
        ("inherited", Bool),
        ("null_frac", F4),
        ("avg_width", I4),
        ("n_distinct", F4),
        ("most_common_vals", TextArray),
        ("most_common_freqs", F4Array),
        ("histogram_bounds", TextArray),
        ("correlation", F4),
        ("most_common_elems", TextArray),
        ("most_common_elem_freqs", F4Array),
        ("elem_count_histogram", F4Array),
    ],
);

/// `pg_publication` (none)
pub static PG_PUBLICATION: RelationDef = pg(
    "pg_publication",
    'r',
    &[
        ("oid", Oid),
        ("pubname", Name),
        ("pubowner", Oid),
        ("puballtables", Bool),
        ("pubinsert", Bool),
        ("pubupdate", Bool),
        ("pubdelete", Bool),
        ("pubtruncate", Bool),
        ("pubviaroot", Bool),
    ],
);

/// `pg_publication_namespace` (none)
pub static PG_PUBLICATION_NAMESPACE: RelationDef = pg(
    "pg_publication_namespace",
    'r',
    &[("oid", Oid), ("pnpubid", Oid), ("pnnspid", Oid)],
);

/// `pg_publication_rel` (none)
pub static PG_PUBLICATION_REL: RelationDef = pg(
    "pg_publication_rel",
    'r',
    &[
        ("oid", Oid),
        ("prpubid", Oid),
        ("prrelid", Oid),
        ("prqual", Text),
        ("prattrs", I2Vector),
    ],
);

/// `pg_trigger` (none)
pub static PG_TRIGGER: RelationDef = pg(
    "pg_trigger",
    'r',
    &[
        ("oid", Oid),
        ("tgrelid", Oid),
        ("tgparentid", Oid),
        ("tgname", Name),
        ("tgfoid", Oid),
        ("tgtype", I2),
        ("tgenabled", Char),
        ("tgisinternal", Bool),
        ("tgconstrrelid", Oid),
        ("tgconstrindid", Oid),
        ("tgconstraint", Oid),
        ("tgdeferrable", Bool),
        ("tginitdeferred", Bool),
        ("tgnargs", I2),
        ("tgattr", I2Vector),
        ("tgqual", Text),
    ],
);

/// `pg_inherits` (none)
pub static PG_INHERITS: RelationDef = pg(
    "pg_inherits",
    'r',
    &[
        ("inhrelid", Oid),
        ("inhparent", Oid),
        ("inhseqno", I4),
        ("inhdetachpending", Bool),
    ],
);

/// `pg_rewrite` (none)
pub static PG_REWRITE: RelationDef = pg(
    "pg_rewrite",
    'r',
    &[
        ("oid", Oid),
        ("rulename", Name),
        ("ev_class", Oid),
        ("ev_type", Char),
        ("ev_enabled", Char),
        ("is_instead", Bool),
        ("ev_qual", Text),
        ("ev_action", Text),
    ],
);

/// `pg_proc` (functions are built in and not listed yet)
pub static PG_PROC: RelationDef = pg(
    "pg_proc",
    'r',
    &[
        ("oid", Oid),
        ("proname", Name),
        ("pronamespace", Oid),
        ("proowner", Oid),
        ("prolang", Oid),
        ("prokind", Char),
        ("proretset", Bool),
        ("prorettype", Oid),
        ("pronargs", I2),
        ("proargtypes", OidVector),
    ],
);

/// `pg_enum` (none)
pub static PG_ENUM: RelationDef = pg(
    "pg_enum",
    'r',
    &[
        ("oid", Oid),
        ("enumtypid", Oid),
        ("enumsortorder", F4),
        ("enumlabel", Name),
    ],
);

/// `pg_range` (none)
pub static PG_RANGE: RelationDef = pg(
    "pg_range",
    'r',
    &[
        ("rngtypid", Oid),
        ("rngsubtype", Oid),
        ("rngmultitypid", Oid),
    ],
);

/// `pg_extension` (none)
pub static PG_EXTENSION: RelationDef = pg(
    "pg_extension",
    'r',
    &[
        ("oid", Oid),
        ("extname", Name),
        ("extowner", Oid),
        ("extnamespace", Oid),
        ("extrelocatable", Bool),
        ("extversion", Text),
    ],
);

/// `pg_opclass` (operator classes: every index uses its type's default, so none are listed)
pub static PG_OPCLASS: RelationDef = pg(
    "pg_opclass",
    'r',
    &[
        ("oid", Oid),
        ("opcmethod", Oid),
        ("opcname", Name),
        ("opcnamespace", Oid),
        ("opcowner", Oid),
        ("opcfamily", Oid),
        ("opcintype", Oid),
        ("opcdefault", Bool),
        ("opckeytype", Oid),
    ],
);

/// `pg_tables`
pub static PG_TABLES: RelationDef = pg(
    "pg_tables",
    'v',
    &[
        ("schemaname", Name),
        ("tablename", Name),
        ("tableowner", Name),
        ("tablespace", Name),
        ("hasindexes", Bool),
        ("hasrules", Bool),
        ("hastriggers", Bool),
        ("rowsecurity", Bool),
    ],
);

/// `pg_views`
pub static PG_VIEWS: RelationDef = pg(
    "pg_views",
    'v',
    &[
        ("schemaname", Name),
        ("viewname", Name),
        ("viewowner", Name),
        ("definition", Text),
    ],
);

/// `pg_indexes`
pub static PG_INDEXES: RelationDef = pg(
    "pg_indexes",
    'v',
    &[
        ("schemaname", Name),
        ("tablename", Name),
        ("indexname", Name),
        ("tablespace", Name),
        ("indexdef", Text),
    ],
);

/// `pg_sequences`
pub static PG_SEQUENCES: RelationDef = pg(
    "pg_sequences",
    'v',
    &[
        ("schemaname", Name),
        ("sequencename", Name),
        ("sequenceowner", Name),
        ("data_type", RegType),
        ("start_value", I8),
        ("min_value", I8),
        ("max_value", I8),
        ("increment_by", I8),
        ("cycle", Bool),
        ("cache_size", I8),
        ("last_value", I8),
    ],
);

/// `pg_settings` (the session's settings)
pub static PG_SETTINGS: RelationDef = pg(
    "pg_settings",
    'v',
    &[
        ("name", Text),
        ("setting", Text),
        ("unit", Text),
        ("category", Text),
        ("short_desc", Text),
        ("extra_desc", Text),
        ("context", Text),
        ("vartype", Text),
        ("source", Text),
        ("min_val", Text),
        ("max_val", Text),
        ("enumvals", TextArray),
        ("boot_val", Text),
        ("reset_val", Text),
        ("sourcefile", Text),
        ("sourceline", I4),
        ("pending_restart", Bool),
    ],
);

/// `information_schema.schemata`
pub static IS_SCHEMATA: RelationDef = is(
    "schemata",
    &[
        ("catalog_name", Name),
        ("schema_name", Name),
        ("schema_owner", Name),
        ("default_character_set_catalog", Name),
        ("default_character_set_schema", Name),
        ("default_character_set_name", Name),
        ("sql_path", Text),
    ],
);

/// `information_schema.tables`
pub static IS_TABLES: RelationDef = is(
    "tables",
    &[
        ("table_catalog", Name),
        ("table_schema", Name),
        ("table_name", Name),
        ("table_type", Text),
        ("self_referencing_column_name", Name),
        ("reference_generation", Text),
        ("user_defined_type_catalog", Name),
        ("user_defined_type_schema", Name),
        ("user_defined_type_name", Name),
        ("is_insertable_into", Text),
        ("is_typed", Text),
        ("commit_action", Text),
    ],
);

/// `information_schema.columns` (the columns clients read, in PostgreSQL's order)
pub static IS_COLUMNS: RelationDef = is(
    "columns",
    &[
        ("table_catalog", Name),
        ("table_schema", Name),
        ("table_name", Name),
        ("column_name", Name),
        ("ordinal_position", I4),
        ("column_default", Text),
        ("is_nullable", Text),
        ("data_type", Text),
        ("character_maximum_length", I4),
        ("character_octet_length", I4),
        ("numeric_precision", I4),
        ("numeric_precision_radix", I4),
        ("numeric_scale", I4),
        ("datetime_precision", I4),
        ("interval_type", Text),
        ("interval_precision", I4),
        ("udt_catalog", Name),
        ("udt_schema", Name),
        ("udt_name", Name),
        ("is_identity", Text),
        ("identity_generation", Text),
        ("is_generated", Text),
        ("generation_expression", Text),
        ("is_updatable", Text),
    ],
);

/// `information_schema.views`
pub static IS_VIEWS: RelationDef = is(
    "views",
    &[
        ("table_catalog", Name),
        ("table_schema", Name),
        ("table_name", Name),
        ("view_definition", Text),
        ("check_option", Text),
        ("is_updatable", Text),
        ("is_insertable_into", Text),
    ],
);

/// `information_schema.table_constraints`
pub static IS_TABLE_CONSTRAINTS: RelationDef = is(
    "table_constraints",
    &[
        ("constraint_catalog", Name),
        ("constraint_schema", Name),
        ("constraint_name", Name),
        ("table_catalog", Name),
        ("table_schema", Name),
        ("table_name", Name),
        ("constraint_type", Text),
        ("is_deferrable", Text),
        ("initially_deferred", Text),
        ("enforced", Text),
    ],
);

/// `information_schema.key_column_usage`
pub static IS_KEY_COLUMN_USAGE: RelationDef = is(
    "key_column_usage",
    &[
        ("constraint_catalog", Name),
        ("constraint_schema", Name),
        ("constraint_name", Name),
        ("table_catalog", Name),
        ("table_schema", Name),
        ("table_name", Name),
        ("column_name", Name),
        ("ordinal_position", I4),
        ("position_in_unique_constraint", I4),
    ],
);

/// `information_schema.sequences`
pub static IS_SEQUENCES: RelationDef = is(
    "sequences",
    &[
        ("sequence_catalog", Name),
        ("sequence_schema", Name),
        ("sequence_name", Name),
        ("data_type", Text),
        ("numeric_precision", I4),
        ("numeric_precision_radix", I4),
        ("numeric_scale", I4),
        ("start_value", Text),
        ("minimum_value", Text),
        ("maximum_value", Text),
        ("increment", Text),
        ("cycle_option", Text),
    ],
);

/// Every system relation. Their OIDs follow this order ([`super::oids`]); add at the end.
pub static ALL: &[&RelationDef] = &[
    &PG_NAMESPACE,
    &PG_CLASS,
    &PG_ATTRIBUTE,
    &PG_ATTRDEF,
    &PG_INDEX,
    &PG_CONSTRAINT,
    &PG_TYPE,
    &PG_DATABASE,
    &PG_AUTHID,
    &PG_ROLES,
    &PG_USER,
    &PG_AUTH_MEMBERS,
    &PG_AM,
    &PG_SEQUENCE,
    &PG_DEPEND,
    &PG_DESCRIPTION,
    &PG_SHDESCRIPTION,
    &PG_COLLATION,
    &PG_TABLESPACE,
    &PG_POLICY,
    &PG_STATISTIC_EXT,
    &PG_STATS,
    &PG_PUBLICATION,
    &PG_PUBLICATION_NAMESPACE,
    &PG_PUBLICATION_REL,
    &PG_TRIGGER,
    &PG_INHERITS,
    &PG_REWRITE,
    &PG_PROC,
    &PG_ENUM,
    &PG_RANGE,
    &PG_EXTENSION,
    &PG_TABLES,
    &PG_VIEWS,
    &PG_INDEXES,
    &PG_SEQUENCES,
    &IS_SCHEMATA,
    &IS_TABLES,
    &IS_COLUMNS,
    &IS_VIEWS,
    &IS_TABLE_CONSTRAINTS,
    &IS_KEY_COLUMN_USAGE,
    &IS_SEQUENCES,
    &PG_SETTINGS,
    &PG_OPCLASS,
];

/// The system relation `name` in `schema` (`None`: the search path, where `pg_catalog` comes
/// first and `information_schema` is not on it).
pub fn lookup(schema: Option<&str>, name: &str) -> Option<&'static RelationDef> {
    let schema = schema.unwrap_or("pg_catalog");
    ALL.iter()
        .copied()
        .find(|d| d.schema == schema && d.name == name)
}
