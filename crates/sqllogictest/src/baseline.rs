//! Reads a per-file results table such as the corpus's `BASELINE.md`:
//!
//! ```text
//! | file | records passed | records failed | pass rate |
//! |---|---:|---:|---:|
//! | evidence/in1.test | 128 | 4 | 96.97% |
//! | **all** | 363965 | 2020 | 99.45% |
//! ```
//!
//! Rows whose first cell is not a `.test` path (the header, the `**all**` total) are ignored.

/// One file's published counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaselineEntry {
    /// The file's path as written in the table (relative to the corpus root).
    pub file: String,
    /// Records passed.
    pub passed: usize,
    /// Records failed.
    pub failed: usize,
}

/// Parses the table rows of a baseline document.
pub fn parse(text: &str) -> Vec<BaselineEntry> {
    let mut out = Vec::new();
    for line in text.lines() {
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        if cells.len() < 3 || !cells[0].ends_with(".test") {
            continue;
        }
        if let (Ok(passed), Ok(failed)) = (cells[1].parse(), cells[2].parse()) {
            out.push(BaselineEntry {
                file: cells[0].to_string(),
                passed,
                failed,
            });
        }
    }
    out
}

/// The entry for `path` (a file as the runner names it): the entry whose file equals the path or
/// is a `/`-separated suffix of it. The longest such entry wins.
pub fn find<'a>(entries: &'a [BaselineEntry], path: &str) -> Option<&'a BaselineEntry> {
    let path = path.replace('\\', "/");
    entries
        .iter()
        .filter(|e| path == e.file || path.ends_with(&format!("/{}", e.file)))
        .max_by_key(|e| e.file.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rows_and_matches_suffixes() {
        let entries = parse(
            "# title\n\n| file | records passed | records failed | pass rate |\n|---|---:|---:|---:|\n\
             | evidence/in1.test | 128 | 4 | 96.97% |\n| select1.test | 1031 | 0 | 100.00% |\n\
             | **all** | 1159 | 4 | 99.66% |\n",
        );
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].passed, 128);
        assert_eq!(entries[0].failed, 4);
        let e = find(&entries, "../corpus/sqllogictest/evidence/in1.test");
        assert_eq!(e.map(|e| e.passed), Some(128));
        assert_eq!(find(&entries, "select1.test").map(|e| e.passed), Some(1031));
        assert!(find(&entries, "xselect1.test").is_none());
        assert!(find(&entries, "select2.test").is_none());
    }
}
