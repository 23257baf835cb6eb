//! The built-in types as PostgreSQL's `pg_type` numbers and names them: the type OIDs the
//! wire protocol announces, the rows of the `pg_type` system catalog, and `format_type`.

use super::datatype::{DataType, OidAlias};

/// A built-in type's `pg_type` entry (the columns clients read).
#[derive(Clone, Copy, Debug)]
pub struct TypeInfo {
    /// `oid`
    pub oid: u32,
    /// `typname`
    pub name: &'static str,
    /// `typlen`: bytes, or -1 for a variable length.
    pub len: i16,
    /// `typcategory`
    pub category: char,
    /// `typarray`: the array type over this one (0 if none).
    pub array: u32,
    /// `typelem`: the element type of an array type (0 if not one).
    pub element: u32,
}

const fn t(oid: u32, name: &'static str, len: i16, category: char, array: u32) -> TypeInfo {
    TypeInfo {
        oid,
        name,
        len,
        category,
        array,
        element: 0,
    }
}

const fn a(oid: u32, name: &'static str, element: u32) -> TypeInfo {
    TypeInfo {
        oid,
        name,
        len: -1,
        category: 'A',
        array: 0,
        element,
    }
}

/// Every built-in type, scalar types first, with PostgreSQL 15's OIDs.
pub const TYPES: &[TypeInfo] = &[
    t(16, "bool", 1, 'B', 1000),
    t(17, "bytea", -1, 'U', 1001),
    t(18, "char", 1, 'Z', 1002),
    t(19, "name", 64, 'S', 1003),
    t(20, "int8", 8, 'N', 1016),
    t(21, "int2", 2, 'N', 1005),
    t(22, "int2vector", -1, 'A', 1006),
    t(23, "int4", 4, 'N', 1007),
    t(24, "regproc", 4, 'N', 1008),
    t(25, "text", -1, 'S', 1009),
    t(26, "oid", 4, 'N', 1028),
    t(30, "oidvector", -1, 'A', 1013),
    t(194, "pg_node_tree", -1, 'Z', 0),
    t(700, "float4", 4, 'N', 1021),
    t(701, "float8", 8, 'N', 1022),
    t(705, "unknown", -2, 'X', 0),
    t(1033, "aclitem", 12, 'U', 1034),
    t(1042, "bpchar", -1, 'S', 1014),
    t(1043, "varchar", -1, 'S', 1015),
    t(1082, "date", 4, 'D', 1182),
    t(1083, "time", 8, 'D', 1183),
    t(1114, "timestamp", 8, 'D', 1115),
    t(1184, "timestamptz", 8, 'D', 1185),
    t(1186, "interval", 16, 'T', 1187),
    t(1700, "numeric", -1, 'N', 1231),
    t(2205, "regclass", 4, 'N', 2210),
    t(2206, "regtype", 4, 'N', 2211),
    t(2950, "uuid", 16, 'U', 2951),
    t(4089, "regnamespace", 4, 'N', 4090),
    t(4096, "regrole", 4, 'N', 4097),
    t(2249, "record", -1, 'P', 2287),
    t(114, "json", -1, 'U', 199),
    t(3802, "jsonb", -1, 'U', 3807),
    a(199, "_json", 114),
    a(3807, "_jsonb", 3802),
    a(1000, "_bool", 16),
    a(1001, "_bytea", 17),
    a(1002, "_char", 18),
    a(1003, "_name", 19),
    a(1005, "_int2", 21),
    a(1006, "_int2vector", 22),
    a(1007, "_int4", 23),
    a(1008, "_regproc", 24),
    a(1009, "_text", 25),
    a(1013, "_oidvector", 30),
    a(1014, "_bpchar", 1042),
    a(1015, "_varchar", 1043),
    a(1016, "_int8", 20),
    a(1021, "_float4", 700),
    a(1022, "_float8", 701),
    a(1028, "_oid", 26),
    a(1034, "_aclitem", 1033),
    a(1115, "_timestamp", 1114),
    a(1182, "_date", 1082),
    a(1183, "_time", 1083),
    a(1185, "_timestamptz", 1184),
    a(1187, "_interval", 1186),
    a(1231, "_numeric", 1700),
    a(2210, "_regclass", 2205),
    a(2211, "_regtype", 2206),
    a(2951, "_uuid", 2950),
    a(4090, "_regnamespace", 4089),
    a(4097, "_regrole", 4096),
];

/// The OID of the type `pg_type` names `name`.
pub fn oid_of_name(name: &str) -> Option<u32> {
    TYPES.iter().find(|t| t.name == name).map(|t| t.oid)
}

/// An integer as an object identifier: 0 to 2³²−1, with negative 32-bit numbers wrapping
/// as in PostgreSQL (`-1::oid` is 4294967295); `None` outside both.
pub fn wrap_oid(n: i64) -> Option<i64> {
    match n {
        0..=0xFFFF_FFFF => Some(n),
        -0x8000_0000..=-1 => Some(n + 0x1_0000_0000),
        _ => None,
    }
}

/// The entry of type `oid`.
pub fn info(oid: u32) -> Option<&'static TypeInfo> {
    TYPES.iter().find(|t| t.oid == oid)
}

impl DataType {
    /// The type's OID (`text` for an untyped value, as the protocol announces it).
    pub fn oid(&self) -> u32 {
        match self {
            DataType::Bool => 16,
            DataType::Int16 => 21,
            DataType::Int32 => 23,
            DataType::Int64 => 20,
            DataType::Float32 => 700,
            DataType::Float64 => 701,
            DataType::Numeric(_) => 1700,
            DataType::Text | DataType::Unknown => 25,
            DataType::Varchar(_) => 1043,
            DataType::Char(_) => 1042,
            DataType::Bytea => 17,
            DataType::Date => 1082,
            DataType::Time => 1083,
            DataType::Timestamp => 1114,
            DataType::TimestampTz => 1184,
            DataType::Interval => 1186,
            DataType::Uuid => 2950,
            DataType::Oid(alias) => match alias {
                OidAlias::Oid => 26,
                OidAlias::RegClass => 2205,
                OidAlias::RegType => 2206,
                OidAlias::RegNamespace => 4089,
                OidAlias::RegProc => 24,
                OidAlias::RegRole => 4096,
            },
            DataType::Record(_) => 2249,
            DataType::Json => 114,
            DataType::Jsonb => 3802,
            DataType::Vector(element) if **element == DataType::Int16 => 22,
            DataType::Vector(_) => 30,
            DataType::Array(element) => info(element.oid())
                .map(|t| t.array)
                .filter(|&a| a != 0)
                .unwrap_or(1009),
        }
    }

    /// `atttypmod`: the type modifier as PostgreSQL encodes it, -1 for none.
    pub fn type_modifier(&self) -> i32 {
        match self {
            DataType::Numeric(Some((p, s))) => ((*p as i32) << 16 | *s as i32) + 4,
            DataType::Varchar(Some(n)) | DataType::Char(n) => *n as i32 + 4,
            _ => -1,
        }
    }

    /// The type of OID `oid` with modifier `typmod` (-1 for none); `None` for a type the
    /// engine does not have.
    pub fn from_oid(oid: u32, typmod: i32) -> Option<DataType> {
        let length = (typmod >= 4).then(|| (typmod - 4) as u32);
        Some(match oid {
            16 => DataType::Bool,
            17 => DataType::Bytea,
            18 | 19 | 25 | 194 | 1033 | 705 => DataType::Text,
            20 => DataType::Int64,
            21 => DataType::Int16,
            23 => DataType::Int32,
            24 => DataType::Oid(OidAlias::RegProc),
            26 => DataType::Oid(OidAlias::Oid),
            700 => DataType::Float32,
            701 => DataType::Float64,
            1042 => DataType::Char(length.unwrap_or(1)),
            1043 => DataType::Varchar(length),
            1082 => DataType::Date,
            1083 => DataType::Time,
            1114 => DataType::Timestamp,
            1184 => DataType::TimestampTz,
            1186 => DataType::Interval,
            1700 => DataType::Numeric(length.map(|m| (m >> 16, m & 0xFFFF))),
            2205 => DataType::Oid(OidAlias::RegClass),
            2206 => DataType::Oid(OidAlias::RegType),
            2950 => DataType::Uuid,
            4089 => DataType::Oid(OidAlias::RegNamespace),
            4096 => DataType::Oid(OidAlias::RegRole),
            114 => DataType::Json,
            3802 => DataType::Jsonb,
            22 => DataType::Vector(Box::new(DataType::Int16)),
            30 => DataType::Vector(Box::new(DataType::Oid(OidAlias::Oid))),
            oid => {
                let element = info(oid).filter(|t| t.element != 0)?.element;
                // Arrays are one-dimensional here (`int2vector[]` is not).
                match DataType::from_oid(element, typmod)? {
                    DataType::Array(_) | DataType::Vector(_) => return None,
                    element => DataType::Array(Box::new(element)),
                }
            }
        })
    }
}

/// `format_type(oid, typmod)`: the SQL spelling of a type, with its modifier (`None` as
/// `format_type(oid, NULL)` gives: no modifier); `None` for an unknown OID.
pub fn format_type(oid: u32, typmod: Option<i32>) -> Option<String> {
    // Types that are text here but print under their own names.
    let own = match oid {
        18 => Some("\"char\""),
        19 => Some("name"),

        194 => Some("pg_node_tree"),
        1033 => Some("aclitem"),
        1002 => Some("\"char\"[]"),
        1003 => Some("name[]"),
        _ => None,
    };
    if let Some(own) = own {
        return Some(own.to_string());
    }
    let ty = DataType::from_oid(oid, typmod.unwrap_or(-1))?;
    Some(match (ty, typmod) {
        // Without a modifier `bpchar` has no length: `character` when the modifier is not
        // given, `bpchar` when it is given as -1 (PostgreSQL's own quirk).
        (DataType::Char(_), None) => "character".to_string(),
        (DataType::Char(_), Some(m)) if m < 4 => "bpchar".to_string(),
        (ty, _) => ty.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_maps_back_to_its_oid() {
        for t in TYPES {
            let Some(ty) = DataType::from_oid(t.oid, -1) else {
                continue;
            };
            // Several OIDs are carried by one engine type (`name` and `text`).
            let back = ty.oid();
            assert!(
                back == t.oid || DataType::from_oid(back, -1) == Some(ty.clone()),
                "{} -> {ty:?} -> {back}",
                t.name
            );
        }
    }

    #[test]
    fn format_type_matches_postgresql() {
        // SELECT format_type(1043, 14), format_type(1700, 786438), format_type(1007, -1), ...
        assert_eq!(
            format_type(1043, Some(14)).unwrap(),
            "character varying(10)"
        );
        assert_eq!(format_type(1700, Some(786_438)).unwrap(), "numeric(12,2)");
        assert_eq!(format_type(1007, Some(-1)).unwrap(), "integer[]");
        assert_eq!(format_type(1042, None).unwrap(), "character");
        assert_eq!(format_type(1042, Some(9)).unwrap(), "character(5)");
        assert_eq!(format_type(1042, Some(-1)).unwrap(), "bpchar");
        assert_eq!(format_type(1043, None).unwrap(), "character varying");
        assert_eq!(format_type(18, None).unwrap(), "\"char\"");
        assert_eq!(format_type(1184, None).unwrap(), "timestamp with time zone");
        assert_eq!(format_type(99_999, None), None);
    }
}
