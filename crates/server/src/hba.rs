//! Connection rules: which users may connect to which databases from which addresses, in
//! PostgreSQL's `pg_hba.conf` format, read from the data directory.
//!
//! Each non-comment line is `TYPE DATABASE USER ADDRESS METHOD` (or `ADDRESS MASK`):
//! - TYPE: `host` (any TCP connection), `hostssl` (TLS only), `hostnossl` (plain only), or
//!   `local` (accepted, but never matches: the server listens on TCP only);
//! - DATABASE: a comma-separated list of names and the keywords `all` and `sameuser` (a
//!   quoted `"all"` is a name);
//! - USER: a comma-separated list of names and `all`;
//! - ADDRESS: `all`, an address with a CIDR prefix length (`10.0.0.0/8`, `::1/128`), or an
//!   address followed by a separate mask column. As in PostgreSQL, an IPv4 rule matches IPv4
//!   clients and an IPv6 rule IPv6 clients; an IPv4 client reaching an IPv6 socket (as
//!   `::ffff:a.b.c.d`) counts as IPv4;
//! - METHOD: `scram-sha-256`, `md5` (the same here: passwords are stored only as SCRAM
//!   verifiers, and PostgreSQL also answers `md5` with SCRAM for such passwords), or
//!   `reject`.
//!
//! The first line that matches decides; a connection no line matches is refused, as in
//! PostgreSQL. Methods that log in without a password (`trust`, `peer`, `ident`) are refused
//! when the file is read: every login needs a password. A file that does not parse is
//! refused whole, with the line at fault: at start the server does not start; on reload
//! (SIGHUP) the rules in force stay.

use std::net::IpAddr;
use std::path::Path;

/// The rules a new data directory starts with: passwords from anywhere.
pub const DEFAULT: &str = "\
# ZizhuDB connection rules, in PostgreSQL's pg_hba.conf format (see the README).
# The first matching line decides; a connection no line matches is refused.
# Edit, then reload with SIGHUP (kill -HUP) or restart the server.
#
# TYPE  DATABASE        USER            ADDRESS                 METHOD
host    all             all             0.0.0.0/0               scram-sha-256
host    all             all             ::/0                    scram-sha-256
";

/// The file's name in the data directory.
pub const FILE: &str = "pg_hba.conf";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Local,
    Host,
    HostSsl,
    HostNoSsl,
}

/// One entry of a DATABASE or USER list: a keyword, or a name (quoted, a keyword's spelling
/// is a name).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Name {
    All,
    SameUser,
    Literal(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Address {
    All,
    Net(IpAddr, u8),
}

/// What a matching rule does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// SCRAM-SHA-256 password authentication.
    Scram,
    /// Refuse the connection.
    Reject,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Rule {
    kind: Kind,
    databases: Vec<Name>,
    users: Vec<Name>,
    address: Address,
    method: Method,
}

/// The connection rules in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rules {
    rules: Vec<Rule>,
}

/// A refused connection: PostgreSQL's message (SQLSTATE 28000).
#[derive(Debug, PartialEq, Eq)]
pub struct Refused(pub String);

fn names(field: &str, users: bool) -> Result<Vec<Name>, String> {
    let mut list = Vec::new();
    for name in field.split(',') {
        if name.is_empty() {
            return Err(format!("empty name in \"{field}\""));
        }
        if let Some(quoted) = name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
            list.push(Name::Literal(quoted.to_string()));
            continue;
        }
        list.push(match name {
            "all" => Name::All,
            "sameuser" if !users => Name::SameUser,
            "samerole" | "samegroup" | "replication" => {
                return Err(format!("\"{name}\" is not supported"))
            }
            _ if name.starts_with('+') || name.starts_with('@') => {
                return Err(format!(
                    "\"{name}\": group membership and included files are not supported"
                ))
            }
            _ => Name::Literal(name.to_string()),
        });
    }
    Ok(list)
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn prefix_of_mask(mask: IpAddr) -> Option<u8> {
    let bits: u128 = match mask {
        IpAddr::V4(m) => u128::from(u32::from(m)) << 96,
        IpAddr::V6(m) => u128::from(m),
    };
    let ones = bits.leading_ones();
    (bits.checked_shl(ones).unwrap_or(0) == 0).then(|| {
        let width = if mask.is_ipv4() { 32 } else { 128 };
        ones.min(width) as u8
    })
}

fn within(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    let (ip, net, width) = match (canonical(ip), net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            (u128::from(u32::from(a)), u128::from(u32::from(n)), 32u32)
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => (u128::from(a), u128::from(n), 128),
        _ => return false,
    };
    let shift = width - u32::from(prefix);
    ip.checked_shr(shift).unwrap_or(0) == net.checked_shr(shift).unwrap_or(0)
}

impl Rules {
    /// Parses a file's text; the error names the line at fault.
    pub fn parse(text: &str) -> Result<Rules, String> {
        let mut rules = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or_default();
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.is_empty() {
                continue;
            }
            let rule = Self::rule(&fields).map_err(|e| format!("line {}: {e}", n + 1))?;
            rules.push(rule);
        }
        Ok(Rules { rules })
    }

    fn rule(fields: &[&str]) -> Result<Rule, String> {
        let kind = match fields[0] {
            "local" => Kind::Local,
            "host" => Kind::Host,
            "hostssl" => Kind::HostSsl,
            "hostnossl" => Kind::HostNoSsl,
            other => return Err(format!("invalid connection type \"{other}\"")),
        };
        let needed = if kind == Kind::Local { 4 } else { 5 };
        if fields.len() < needed {
            return Err("end-of-line before authentication method".into());
        }
        let databases = names(fields[1], false)?;
        let users = names(fields[2], true)?;
        let (address, rest) = if kind == Kind::Local {
            (Address::All, &fields[3..])
        } else {
            let field = fields[3];
            if field == "all" {
                (Address::All, &fields[4..])
            } else if let Some((addr, prefix)) = field.split_once('/') {
                let addr: IpAddr = addr
                    .parse()
                    .map_err(|_| format!("invalid IP address \"{addr}\""))?;
                let width = if addr.is_ipv4() { 32 } else { 128 };
                let prefix: u8 = prefix
                    .parse()
                    .ok()
                    .filter(|p| *p <= width)
                    .ok_or_else(|| format!("invalid CIDR mask in address \"{field}\""))?;
                (Address::Net(addr, prefix), &fields[4..])
            } else if let Ok(addr) = field.parse::<IpAddr>() {
                let mask = fields
                    .get(4)
                    .and_then(|m| m.parse::<IpAddr>().ok())
                    .filter(|m| m.is_ipv4() == addr.is_ipv4())
                    .ok_or_else(|| format!("IP address \"{field}\" needs a mask or a /prefix"))?;
                let prefix = prefix_of_mask(mask)
                    .ok_or_else(|| format!("invalid IP mask \"{}\"", fields[4]))?;
                (Address::Net(addr, prefix), &fields[5..])
            } else {
                return Err(format!(
                    "address \"{field}\" is not supported: give an IP address with a prefix, or all"
                ));
            }
        };
        let method = match rest.first().copied() {
            Some("scram-sha-256" | "md5") => Method::Scram,
            Some("reject") => Method::Reject,
            Some(m @ ("trust" | "password" | "peer" | "ident")) => {
                return Err(format!(
                    "authentication method \"{m}\" is not allowed: every login needs a password \
                     (use scram-sha-256)"
                ))
            }
            Some(m) => return Err(format!("authentication method \"{m}\" is not supported")),
            None => return Err("end-of-line before authentication method".into()),
        };
        if let Some(option) = rest.get(1) {
            return Err(format!(
                "authentication option \"{option}\" is not supported"
            ));
        }
        Ok(Rule {
            kind,
            databases,
            users,
            address,
            method,
        })
    }

    /// Reads the rules of the data directory at `dir`, writing the default file first if
    /// there is none.
    pub fn load(dir: &Path) -> Result<Rules, String> {
        let path = dir.join(FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::write(&path, DEFAULT)
                    .map_err(|e| format!("writing {}: {e}", path.display()))?;
                DEFAULT.to_string()
            }
            Err(e) => return Err(format!("reading {}: {e}", path.display())),
        };
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Whether `user` may try to log in to `database` from `ip`, over TLS if `secure`.
    pub fn check(
        &self,
        ip: IpAddr,
        secure: bool,
        user: &str,
        database: &str,
    ) -> Result<(), Refused> {
        let matches = |names: &[Name], value: &str| {
            names.iter().any(|n| match n {
                Name::All => true,
                Name::SameUser => database == user,
                Name::Literal(name) => name == value,
            })
        };
        let found = self.rules.iter().find(|r| {
            let kind = match r.kind {
                Kind::Local => false,
                Kind::Host => true,
                Kind::HostSsl => secure,
                Kind::HostNoSsl => !secure,
            };
            let database_ok = matches(&r.databases, database);
            let user_ok = matches(&r.users, user);
            let address_ok = match r.address {
                Address::All => true,
                Address::Net(net, prefix) => within(ip, net, prefix),
            };
            kind && database_ok && user_ok && address_ok
        });
        let ip = canonical(ip);
        let encryption = if secure {
            "SSL encryption"
        } else {
            "no encryption"
        };
        match found.map(|r| r.method) {
            Some(Method::Scram) => Ok(()),
            Some(Method::Reject) => Err(Refused(format!(
                "pg_hba.conf rejects connection for host \"{ip}\", user \"{user}\", database \"{database}\", {encryption}"
            ))),
            None => Err(Refused(format!(
                "no pg_hba.conf entry for host \"{ip}\", user \"{user}\", database \"{database}\", {encryption}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_default_admits_passwords_from_anywhere() {
        let rules = Rules::parse(DEFAULT).unwrap();
        assert_eq!(rules.check(ip("203.0.113.9"), false, "u", "d"), Ok(()));
        assert_eq!(rules.check(ip("2001:db8::1"), true, "u", "d"), Ok(()));
    }

    #[test]
    fn the_first_matching_line_decides() {
        let rules = Rules::parse(
            "hostssl all      all      0.0.0.0/0        scram-sha-256\n\
             host    payroll  all      0.0.0.0/0        reject\n\
             host    all      app      10.1.0.0 255.255.0.0 md5  # the application servers\n\
             host    sameuser all      127.0.0.1/32     scram-sha-256\n",
        )
        .unwrap();
        // TLS: the first line admits everyone.
        assert_eq!(rules.check(ip("192.0.2.1"), true, "bob", "payroll"), Ok(()));
        // Plain: payroll is refused before any later line is looked at.
        let refused = rules
            .check(ip("10.1.2.3"), false, "app", "payroll")
            .unwrap_err();
        assert_eq!(
            refused.0,
            "pg_hba.conf rejects connection for host \"10.1.2.3\", user \"app\", database \"payroll\", no encryption"
        );
        assert_eq!(rules.check(ip("10.1.2.3"), false, "app", "shop"), Ok(()));
        // An IPv4 client seen through an IPv6 socket matches IPv4 rules.
        assert_eq!(
            rules.check(ip("::ffff:10.1.200.7"), false, "app", "shop"),
            Ok(())
        );
        assert!(rules.check(ip("10.2.0.1"), false, "app", "shop").is_err());
        assert_eq!(rules.check(ip("127.0.0.1"), false, "bob", "bob"), Ok(()));
        let none = rules
            .check(ip("127.0.0.1"), false, "bob", "shop")
            .unwrap_err();
        assert!(
            none.0
                .starts_with("no pg_hba.conf entry for host \"127.0.0.1\""),
            "{none:?}"
        );
    }

    #[test]
    fn passwordless_methods_and_bad_lines_are_refused_with_their_line() {
        for (text, error) in [
            (
                "host all all 0.0.0.0/0 trust",
                "line 1: authentication method \"trust\" is not allowed",
            ),
            (
                "\n\nhost all all 0.0.0.0/33 scram-sha-256",
                "line 3: invalid CIDR mask",
            ),
            (
                "host all all 10.0.0.1 255.0.255.0 md5",
                "line 1: invalid IP mask",
            ),
            ("hots all all all md5", "line 1: invalid connection type"),
            (
                "host all all all",
                "line 1: end-of-line before authentication method",
            ),
            (
                "host all +admins all md5",
                "line 1: \"+admins\": group membership",
            ),
            (
                "host all all all ldap",
                "line 1: authentication method \"ldap\" is not supported",
            ),
        ] {
            let err = Rules::parse(text).unwrap_err();
            assert!(err.starts_with(error), "{text}: {err}");
        }
    }

    #[test]
    fn keywords_count_inside_lists_and_quotes_make_names() {
        let rules = Rules::parse(
            "host payroll,all   all  0.0.0.0/0 reject\n\
             host all           all  0.0.0.0/0 scram-sha-256\n",
        )
        .unwrap();
        // `all` in the list is the keyword: the reject covers every database.
        assert!(rules.check(ip("10.0.0.1"), false, "u", "shop").is_err());
        let rules = Rules::parse(
            "host \"all\"        all  0.0.0.0/0 reject\n\
             host all          all  0.0.0.0/0 scram-sha-256\n",
        )
        .unwrap();
        // A quoted "all" is a database named all.
        assert!(rules.check(ip("10.0.0.1"), false, "u", "all").is_err());
        assert_eq!(rules.check(ip("10.0.0.1"), false, "u", "shop"), Ok(()));
    }

    #[test]
    fn local_lines_never_match_a_tcp_connection() {
        let rules = Rules::parse("local all all scram-sha-256").unwrap();
        assert!(rules.check(ip("127.0.0.1"), false, "u", "d").is_err());
    }
}
