//! Session settings: what `SET`, `SHOW` and `RESET` read and write (PostgreSQL's GUCs).
//!
//! Only settings the engine honours are accepted; anything else is "unrecognized" (42704)
//! rather than silently stored and ignored. A few are reported but fixed (`server_version`,
//! `integer_datetimes`: 55P02 on SET), and some accept only the value the engine implements
//! (`DateStyle` must be ISO, `TimeZone` must be UTC) so a client learns at once, not from
//! wrong output later.
//!
//! Values are kept in their canonical display form (`work_mem` is `4MB`, `1000kB`), which is
//! what `SHOW` prints; typed accessors such as [`Settings::work_mem`] parse them back.
//! `SET LOCAL` lasts to the end of the transaction block: the session saves the block's
//! starting values and restores them at COMMIT or ROLLBACK ([`Settings::end_block`]).

use std::collections::BTreeMap;
use std::time::Duration;

use crate::{errinput, Result};

/// `plan_cache_mode`, PostgreSQL's setting of the same name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanCacheMode {
    /// Custom plans first; the generic plan once five custom plans matched it.
    Auto,
    /// A custom plan for every execution.
    ForceCustom,
    /// The generic plan from the first execution (but for NULL and boolean values).
    ForceGeneric,
}

/// How a setting's values are written and checked.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// An amount of memory in kB, between the bounds, written with a unit (`64kB`, `4MB`).
    Memory { min: i64, max: i64 },
    /// A duration in milliseconds (`0` disables), written with a unit (`500ms`, `5s`).
    Milliseconds,
    /// An integer between the bounds.
    Integer { min: i64, max: i64 },
    /// A number between the bounds, shown as Rust prints it (`2`, `1.5`).
    Real { min: f64, max: f64 },
    /// One of these words (case-insensitive).
    Enum(&'static [&'static str]),
    /// Free text.
    Text,
    /// A value checked by a function returning the canonical form.
    Custom(fn(&str) -> Option<String>),
    /// Reported, never changed.
    Fixed,
}

/// A setting's definition.
struct Definition {
    name: &'static str,
    default: &'static str,
    kind: Kind,
    description: &'static str,
}

const ISOLATION_LEVELS: &[&str] = &[
    "serializable",
    "repeatable read",
    "read committed",
    "read uncommitted",
];

/// Every setting, by lower-case name.
const DEFINITIONS: &[Definition] = &[
    Definition {
        name: "application_name",
        default: "",
        kind: Kind::Text,
        description: "Sets the application name to be reported in statistics and logs.",
    },
    Definition {
        name: "client_encoding",
        default: "UTF8",
        kind: Kind::Custom(client_encoding),
        description: "Sets the client's character set encoding (only UTF8).",
    },
    Definition {
        name: "datestyle",
        default: "ISO, MDY",
        kind: Kind::Custom(date_style),
        description: "Sets the display format for date and time values (only ISO).",
    },
    Definition {
        name: "default_transaction_isolation",
        default: "read committed",
        kind: Kind::Enum(ISOLATION_LEVELS),
        description: "Sets the transaction isolation level of each new transaction.",
    },
    Definition {
        name: "extra_float_digits",
        default: "1",
        kind: Kind::Integer { min: 1, max: 3 },
        description: "Floating-point output is always the shortest exact form (1 to 3).",
    },
    Definition {
        name: "idle_in_transaction_session_timeout",
        default: "0",
        kind: Kind::Milliseconds,
        description: "Sets the maximum allowed idle time between queries, when in a transaction.",
    },
    Definition {
        name: "integer_datetimes",
        default: "on",
        kind: Kind::Fixed,
        description: "Shows whether datetimes are integer based.",
    },
    Definition {
        name: "lock_timeout",
        default: "0",
        kind: Kind::Milliseconds,
        description: "Sets the maximum allowed duration of any wait for a lock.",
    },
    Definition {
        name: "block_size",
        default: "8192",
        kind: Kind::Fixed,
        description: "Shows the size of a disk block.",
    },
    Definition {
        name: "max_function_args",
        default: "100",
        kind: Kind::Fixed,
        description: "Shows the maximum number of function arguments.",
    },
    Definition {
        name: "max_identifier_length",
        default: "63",
        kind: Kind::Fixed,
        description: "Shows the maximum identifier length.",
    },
    Definition {
        name: "max_index_keys",
        default: "32",
        kind: Kind::Fixed,
        description: "Shows the maximum number of index keys.",
    },
    Definition {
        name: "max_parallel_workers_per_gather",
        default: "2",
        kind: Kind::Integer { min: 0, max: 1024 },
        description: "Sets the maximum number of parallel processes per executor node.",
    },
    Definition {
        name: "plan_cache_mode",
        default: "auto",
        kind: Kind::Enum(&["auto", "force_custom_plan", "force_generic_plan"]),
        description: "Controls the planner's selection of custom or generic plan.",
    },
    Definition {
        name: "search_path",
        default: "\"$user\", public",
        kind: Kind::Text,
        description: "Sets the schema search order for names that are not schema-qualified.",
    },
    Definition {
        name: "server_encoding",
        default: "UTF8",
        kind: Kind::Fixed,
        description: "Shows the server (database) character set encoding.",
    },
    Definition {
        name: "server_version",
        default: "15.0",
        kind: Kind::Fixed,
        description: "Shows the PostgreSQL version the server is compatible with.",
    },
    Definition {
        name: "server_version_num",
        default: "150000",
        kind: Kind::Fixed,
        description: "Shows the PostgreSQL version as an integer.",
    },
    Definition {
        name: "standard_conforming_strings",
        default: "on",
        kind: Kind::Enum(&["on"]),
        description: "Causes '...' strings to treat backslashes literally (always on).",
    },
    Definition {
        name: "statement_timeout",
        default: "0",
        kind: Kind::Milliseconds,
        description: "Sets the maximum allowed duration of any statement.",
    },
    Definition {
        name: "timezone",
        default: "UTC",
        kind: Kind::Custom(time_zone),
        description: "Sets the time zone for displaying and interpreting time stamps (only UTC).",
    },
    Definition {
        name: "transaction_isolation",
        default: "read committed",
        kind: Kind::Fixed,
        description: "Shows the current transaction's isolation level.",
    },
    Definition {
        name: "hash_mem_multiplier",
        default: "2",
        kind: Kind::Real {
            min: 1.0,
            max: 1000.0,
        },
        description: "Multiple of \"work_mem\" to use for hash tables.",
    },
    Definition {
        name: "work_mem",
        default: "4MB",
        kind: Kind::Memory {
            min: 64,
            max: 2_147_483_647,
        },
        description: "Sets the maximum memory to be used for query workspaces before spilling.",
    },
];

/// The display names PostgreSQL uses where they differ from the lower-case key.
fn display_name(name: &str) -> &str {
    match name {
        "datestyle" => "DateStyle",
        "timezone" => "TimeZone",
        other => other,
    }
}

fn definition(name: &str) -> Result<&'static Definition> {
    let lower = name.to_lowercase();
    DEFINITIONS.iter().find(|d| d.name == lower).ok_or_else(|| {
        errinput!(
            UndefinedObject,
            "unrecognized configuration parameter \"{name}\""
        )
    })
}

fn client_encoding(value: &str) -> Option<String> {
    let v = value.to_lowercase().replace(['-', '_'], "");
    matches!(v.as_str(), "utf8" | "unicode").then(|| "UTF8".into())
}

fn date_style(value: &str) -> Option<String> {
    let mut order = "MDY";
    let mut iso = true;
    for part in value.split(',').map(|p| p.trim().to_uppercase()) {
        match part.as_str() {
            "ISO" => {}
            "MDY" | "US" | "NONEURO" | "NONEUROPEAN" => order = "MDY",
            "DMY" | "EURO" | "EUROPEAN" => order = "DMY",
            "YMD" => order = "YMD",
            "" => {}
            _ => iso = false,
        }
    }
    iso.then(|| format!("ISO, {order}"))
}

fn time_zone(value: &str) -> Option<String> {
    let v = value.trim().to_lowercase();
    let named = matches!(
        v.as_str(),
        "utc" | "etc/utc" | "gmt" | "etc/gmt" | "z" | "zulu" | "uct" | "universal"
    );
    let digits = v.trim_start_matches(['+', '-']);
    let zero_offset = digits.starts_with('0') && digits.chars().all(|c| c == '0' || c == ':');
    (named || zero_offset).then(|| "UTC".into())
}

/// Parses `value` as a number with an optional unit, into the base unit (`units` lists each
/// suffix with its size in base units; the first entry is the base unit itself).
fn with_unit(value: &str, units: &[(&str, i64)]) -> Option<i64> {
    let value = value.trim();
    let split = value
        .find(|c: char| !(c.is_ascii_digit() || c == '-' || c == '+'))
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: i64 = number.parse().ok()?;
    let unit = unit.trim();
    let factor = if unit.is_empty() {
        1
    } else {
        units.iter().find(|(u, _)| *u == unit)?.1
    };
    number.checked_mul(factor)
}

/// Writes `amount` (in base units) with the largest unit that divides it exactly.
fn show_with_unit(amount: i64, units: &[(&str, i64)]) -> String {
    if amount == 0 {
        return "0".into();
    }
    let (unit, size) = units
        .iter()
        .rev()
        .find(|(_, size)| amount % size == 0)
        .copied()
        .unwrap_or(units[0]);
    format!("{}{unit}", amount / size)
}

const MEMORY_UNITS: &[(&str, i64)] = &[
    ("kB", 1),
    ("MB", 1024),
    ("GB", 1024 * 1024),
    ("TB", 1 << 30),
];
const TIME_UNITS: &[(&str, i64)] = &[
    ("ms", 1),
    ("s", 1000),
    ("min", 60_000),
    ("h", 3_600_000),
    ("d", 86_400_000),
];

/// A memory size written as settings are (`256MB`, `1GB`, `65536kB`; a bare number is kB),
/// in bytes; `None` if it is not one.
pub fn parse_memory(text: &str) -> Option<u64> {
    let kb = with_unit(text, MEMORY_UNITS)?;
    u64::try_from(kb).ok()?.checked_mul(1024)
}

/// Checks `value` for `definition` and returns its canonical form.
fn canonical(definition: &Definition, value: &str) -> Result<String> {
    let invalid = || {
        errinput!(
            InvalidParameterValue,
            "invalid value for parameter \"{}\": \"{value}\"",
            display_name(definition.name)
        )
    };
    let out_of_range = |n: i64, min: i64, max: i64| {
        errinput!(
            InvalidParameterValue,
            "{n} is outside the valid range for parameter \"{}\" ({min} .. {max})",
            display_name(definition.name)
        )
    };
    Ok(match definition.kind {
        Kind::Memory { min, max } => {
            let kb = with_unit(value, MEMORY_UNITS).ok_or_else(invalid)?;
            if !(min..=max).contains(&kb) {
                return Err(out_of_range(kb, min, max));
            }
            show_with_unit(kb, MEMORY_UNITS)
        }
        Kind::Milliseconds => {
            let ms = with_unit(value, TIME_UNITS).ok_or_else(invalid)?;
            if !(0..=i32::MAX as i64).contains(&ms) {
                return Err(out_of_range(ms, 0, i32::MAX as i64));
            }
            show_with_unit(ms, TIME_UNITS)
        }
        Kind::Integer { min, max } => {
            let n: i64 = value.trim().parse().map_err(|_| invalid())?;
            if !(min..=max).contains(&n) {
                return Err(out_of_range(n, min, max));
            }
            n.to_string()
        }
        Kind::Real { min, max } => {
            let x: f64 = value.trim().parse().map_err(|_| invalid())?;
            if !(min..=max).contains(&x) {
                return Err(errinput!(
                    InvalidParameterValue,
                    "{x} is outside the valid range for parameter \"{}\" ({min} .. {max})",
                    display_name(definition.name)
                ));
            }
            x.to_string()
        }
        Kind::Enum(words) => {
            let lower = value.trim().to_lowercase();
            let lower = match lower.as_str() {
                "true" | "yes" | "1" => "on".to_string(),
                "false" | "no" | "0" => "off".to_string(),
                _ => lower,
            };
            words
                .iter()
                .find(|w| **w == lower)
                .map(|w| w.to_string())
                .ok_or_else(invalid)?
        }
        Kind::Text => value.to_string(),
        Kind::Custom(check) => check(value).ok_or_else(invalid)?,
        Kind::Fixed => {
            return Err(errinput!(
                CantChangeRuntimeParam,
                "parameter \"{}\" cannot be changed",
                display_name(definition.name)
            ))
        }
    })
}

/// A session's settings.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// Values that differ from the default, by lower-case name.
    values: BTreeMap<&'static str, String>,
    /// The values when the transaction block began, restored at its end if `SET LOCAL` ran.
    saved: Option<BTreeMap<&'static str, String>>,
}

impl Settings {
    /// `SET name = value` (`local`: until the end of the transaction block).
    pub fn set(&mut self, name: &str, value: &str, local: bool, in_block: bool) -> Result<()> {
        let definition = definition(name)?;
        let value = canonical(definition, value)?;
        if local {
            // Outside a block SET LOCAL has no effect (PostgreSQL warns).
            if !in_block {
                return Ok(());
            }
            self.saved.get_or_insert_with(|| self.values.clone());
        }
        self.values.insert(definition.name, value);
        Ok(())
    }

    /// Whether every setting has the same value in `other` (a kept plan was bound with
    /// `other`).
    pub fn same_values(&self, other: &Settings) -> bool {
        self.values == other.values
    }

    /// `RESET name` (`SET name TO DEFAULT`).
    pub fn reset(&mut self, name: &str) -> Result<()> {
        let definition = definition(name)?;
        if matches!(definition.kind, Kind::Fixed) {
            return canonical(definition, "").map(|_| ());
        }
        self.values.remove(definition.name);
        Ok(())
    }

    /// `RESET ALL`.
    pub fn reset_all(&mut self) {
        self.values.clear();
    }

    /// The current value of `name`, as `SHOW` prints it.
    pub fn get(&self, name: &str) -> Result<String> {
        let definition = definition(name)?;
        Ok(self
            .values
            .get(definition.name)
            .cloned()
            .unwrap_or_else(|| definition.default.to_string()))
    }

    /// `search_path`, with `"$user"` standing for `user`.
    pub fn search_path(&self, user: &str) -> crate::catalog::schema::SearchPath {
        use crate::catalog::schema::SearchPath;
        // Every statement asks; a session's thread keeps the last answer.
        thread_local! {
            static LAST: std::cell::RefCell<Option<(String, String, SearchPath)>> =
                const { std::cell::RefCell::new(None) };
        }
        let setting = match self.values.get("search_path") {
            Some(value) => value.as_str(),
            None => DEFINITIONS
                .iter()
                .find(|d| d.name == "search_path")
                .map_or("", |d| d.default),
        };
        LAST.with_borrow_mut(|last| match last {
            Some((s, u, path)) if s == setting && u == user => path.clone(),
            _ => {
                let path = SearchPath::parse(setting, user);
                *last = Some((setting.to_string(), user.to_string(), path.clone()));
                path
            }
        })
    }

    /// `SHOW ALL`: (name, value, description) for every setting, by name.
    pub fn all(&self) -> Vec<(String, String, String)> {
        DEFINITIONS
            .iter()
            .map(|d| {
                let value = self
                    .values
                    .get(d.name)
                    .cloned()
                    .unwrap_or_else(|| d.default.to_string());
                (
                    display_name(d.name).to_string(),
                    value,
                    d.description.to_string(),
                )
            })
            .collect()
    }

    /// `pg_settings`: (name, value, description, whether it can be changed, its type) for
    /// every setting, by name.
    pub fn catalog(&self) -> Vec<(String, String, String, bool, &'static str)> {
        self.all()
            .into_iter()
            .zip(DEFINITIONS)
            .map(|((name, value, description), d)| {
                let vartype = match d.kind {
                    Kind::Memory { .. } | Kind::Milliseconds | Kind::Integer { .. } => "integer",
                    Kind::Enum(_) => "enum",
                    Kind::Fixed if matches!(d.default, "on" | "off") => "bool",
                    Kind::Fixed if d.default.parse::<i64>().is_ok() => "integer",
                    Kind::Real { .. } => "real",
                    _ => "string",
                };
                (
                    name,
                    value,
                    description,
                    !matches!(d.kind, Kind::Fixed),
                    vartype,
                )
            })
            .collect()
    }

    /// The display name of a setting (`SHOW`'s column label).
    pub fn label(name: &str) -> Result<String> {
        Ok(display_name(definition(name)?.name).to_string())
    }

    /// Ends a transaction block: values set with `SET LOCAL` revert; a rolled-back block's
    /// plain `SET`s revert too (as in PostgreSQL).
    pub fn end_block(&mut self, committed: bool, began: &Settings) {
        if let Some(saved) = self.saved.take() {
            self.values = saved;
        }
        if !committed {
            self.values = began.values.clone();
        }
    }

    /// `plan_cache_mode`: whether prepared statements choose between custom and generic
    /// plans themselves, or always run one kind.
    pub fn plan_cache_mode(&self) -> PlanCacheMode {
        match self.get("plan_cache_mode").as_deref() {
            Ok("force_custom_plan") => PlanCacheMode::ForceCustom,
            Ok("force_generic_plan") => PlanCacheMode::ForceGeneric,
            _ => PlanCacheMode::Auto,
        }
    }

    /// `max_parallel_workers_per_gather`: how many worker threads one aggregate may use
    /// besides the session's own (fewer if the machine has too few cores).
    pub fn max_parallel_workers_per_gather(&self) -> usize {
        self.get("max_parallel_workers_per_gather")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(2)
    }

    /// `work_mem` in bytes.
    pub fn work_mem(&self) -> usize {
        let kb = self
            .get("work_mem")
            .ok()
            .and_then(|v| with_unit(&v, MEMORY_UNITS))
            .unwrap_or(4096);
        (kb as usize).saturating_mul(1024)
    }

    /// How much a hash join or hash aggregate may hold before spilling, in bytes: `work_mem`
    /// times `hash_mem_multiplier`, as in PostgreSQL 15.
    pub fn hash_mem(&self) -> usize {
        let multiplier = self
            .get("hash_mem_multiplier")
            .ok()
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(2.0);
        (self.work_mem() as f64 * multiplier).min(usize::MAX as f64) as usize
    }

    /// A duration setting's value, `None` for 0 (no limit).
    fn duration(&self, name: &str) -> Option<Duration> {
        let ms = self
            .get(name)
            .ok()
            .and_then(|v| with_unit(&v, TIME_UNITS))
            .unwrap_or(0);
        (ms > 0).then(|| Duration::from_millis(ms as u64))
    }

    /// `statement_timeout`, `None` for no limit. The embedding (the server) enforces it
    /// through the session's [`crate::execution::Interrupt`].
    pub fn statement_timeout(&self) -> Option<Duration> {
        self.duration("statement_timeout")
    }

    /// `idle_in_transaction_session_timeout`, `None` for no limit. The server ends a session
    /// that stays this long in an open transaction without sending anything.
    pub fn idle_in_transaction_timeout(&self) -> Option<Duration> {
        self.duration("idle_in_transaction_session_timeout")
    }

    /// `lock_timeout`, `None` for no limit.
    pub fn lock_timeout(&self) -> Option<Duration> {
        self.duration("lock_timeout")
    }

    /// `default_transaction_isolation`.
    pub fn default_isolation(&self) -> String {
        self.get("default_transaction_isolation")
            .unwrap_or_else(|_| "read committed".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_sizes_parse_to_bytes() {
        assert_eq!(parse_memory("256MB"), Some(256 << 20));
        assert_eq!(parse_memory(" 2GB"), Some(2 << 30));
        assert_eq!(parse_memory("64"), Some(64 << 10));
        for bad in ["", "MB", "1.5GB", "-1MB", "12 parsecs"] {
            assert_eq!(parse_memory(bad), None, "{bad}");
        }
    }

    #[test]
    fn memory_is_shown_in_the_largest_exact_unit() -> Result<()> {
        let mut s = Settings::default();
        assert_eq!(s.get("work_mem")?, "4MB");
        for (input, shown) in [
            ("1MB", "1MB"),
            ("1024", "1MB"),
            ("1000", "1000kB"),
            ("64kB", "64kB"),
            ("2GB", "2GB"),
        ] {
            s.set("work_mem", input, false, false)?;
            assert_eq!(s.get("WORK_MEM")?, shown, "{input}");
        }
        assert_eq!(s.work_mem(), 2 << 30);
        let err = s.set("work_mem", "63kB", false, false).unwrap_err();
        assert_eq!(err.sqlstate(), "22023");
        assert!(err.to_string().contains("outside the valid range"), "{err}");
        assert_eq!(
            s.set("work_mem", "lots", false, false)
                .unwrap_err()
                .sqlstate(),
            "22023"
        );
        Ok(())
    }

    #[test]
    fn unknown_and_fixed_settings_are_refused() {
        let mut s = Settings::default();
        let unknown = s.set("no_such_thing", "1", false, false).unwrap_err();
        assert_eq!(unknown.sqlstate(), "42704");
        let fixed = s.set("server_version", "16", false, false).unwrap_err();
        assert_eq!(fixed.sqlstate(), "55P02");
        assert_eq!(
            s.set("TimeZone", "Asia/Shanghai", false, false)
                .unwrap_err()
                .sqlstate(),
            "22023"
        );
        assert_eq!(
            s.set("DateStyle", "SQL, DMY", false, false)
                .unwrap_err()
                .sqlstate(),
            "22023"
        );
    }

    #[test]
    fn set_local_reverts_at_the_end_of_the_block() -> Result<()> {
        let mut s = Settings::default();
        let began = s.clone();
        s.set("work_mem", "1MB", false, true)?;
        s.set("lock_timeout", "2s", true, true)?;
        assert_eq!(s.lock_timeout(), Some(Duration::from_secs(2)));
        s.end_block(true, &began);
        assert_eq!(s.get("work_mem")?, "1MB");
        assert_eq!(s.get("lock_timeout")?, "0");

        let began = s.clone();
        s.set("work_mem", "8MB", false, true)?;
        s.end_block(false, &began);
        assert_eq!(s.get("work_mem")?, "1MB", "a rolled-back SET reverts");
        Ok(())
    }
}
