//! The staff matrices cover every staff use case: the rows of
//! `conformance::STAFF_USE_CASES` are exactly the service's public methods that take
//! a `StaffContext`, and `ADMIN_USE_CASES` exactly those that require the admin role.
//! A new staff use case without a row (or a row for a removed one) fails here.

use std::collections::BTreeSet;

use portal_core::conformance::{ADMIN_USE_CASES, STAFF_USE_CASES};

/// (name, needs admin) of every `pub async fn` of the service's source that takes a
/// `StaffContext`. Relies on rustfmt's layout: methods are indented four spaces and
/// end at the first line that is exactly `    }`.
fn staff_methods() -> Vec<(String, bool)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/service");
    let mut found = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 4,
        "the service's source was not found in {dir}"
    );
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        let mut rest = source.as_str();
        while let Some(at) = rest.find("\n    pub async fn ") {
            let from = &rest[at + "\n    pub async fn ".len()..];
            let name: String = from
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let end = from.find("\n    }\n").unwrap_or(from.len());
            let body = &from[..end];
            let signature = &body[..body.find('{').unwrap_or(body.len())];
            if signature.contains("StaffContext") {
                found.push((name, body.contains("StaffRole::Admin")));
            }
            rest = &from[end..];
        }
    }
    found
}

#[test]
fn every_staff_use_case_has_a_row_in_the_matrices() {
    let methods = staff_methods();
    let in_source: BTreeSet<&str> = methods.iter().map(|(n, _)| n.as_str()).collect();
    let rows: BTreeSet<&str> = STAFF_USE_CASES.iter().copied().collect();
    assert_eq!(rows.len(), STAFF_USE_CASES.len(), "a row is listed twice");
    assert_eq!(
        in_source, rows,
        "the isolation matrix (conformance::STAFF_USE_CASES) must list exactly the staff use cases"
    );
    let admin_in_source: BTreeSet<&str> = methods
        .iter()
        .filter(|(_, admin)| *admin)
        .map(|(n, _)| n.as_str())
        .collect();
    let admin_rows: BTreeSet<&str> = ADMIN_USE_CASES.iter().copied().collect();
    assert_eq!(
        admin_in_source, admin_rows,
        "the role matrix (conformance::ADMIN_USE_CASES) must list exactly the admin use cases"
    );
    assert!(admin_rows.is_subset(&rows));
}
