//! `nvctk report merge FILES...`: many doctor JSON reports (one per node, e.g. from the
//! DaemonSet in docs/deploy/) → one fleet view: which checks fail where, and each node's
//! problems. The node name is the file stem (`gpu-node-7.json` → `gpu-node-7`).
//!
//! Preflight JSON reports are accepted too: their embedded doctor report is used.

use serde::Serialize;
use serde_json::Value;
use std::fmt::Write;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Problem {
    pub id: String,
    pub status: String,
    pub summary: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Node {
    pub name: String,
    pub file: String,
    /// The report's worst status: ok, warn or error.
    pub status: String,
    pub distro: Option<String>,
    pub engine: Option<String>,
    pub driver: Option<String>,
    pub gpus: Vec<String>,
    pub problems: Vec<Problem>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CheckRow {
    pub id: String,
    /// The worst status it had on any node.
    pub status: String,
    pub nodes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Totals {
    pub nodes: usize,
    pub error: usize,
    pub warn: usize,
    pub ok: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Fleet {
    pub schema: u32,
    pub kind: &'static str,
    pub totals: Totals,
    pub checks: Vec<CheckRow>,
    pub nodes: Vec<Node>,
}

fn rank(status: &str) -> u8 {
    match status {
        "error" => 3,
        "warn" => 2,
        "info" => 1,
        _ => 0,
    }
}

fn opt_str(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

/// Reads one report. `file` names it in errors; `name` is the node.
pub fn node(name: &str, file: &str, text: &str) -> Result<Node, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| {
        format!(
            "{file}: not JSON ({e}); expected `nvctk doctor --format json` or `nvctk preflight --format json` output"
        )
    })?;
    let v = if v["kind"] == "preflight" {
        &v["doctor"]
    } else {
        &v
    };
    if v["schema"] != 1 || !v["checks"].is_array() {
        return Err(format!(
            "{file}: not an nvctk doctor report with schema 1 (from `nvctk doctor --format json`) or a preflight report that embeds one"
        ));
    }
    let mut problems = Vec::new();
    for c in v["checks"].as_array().into_iter().flatten() {
        let status = c["status"].as_str().unwrap_or("");
        if status == "warn" || status == "error" {
            problems.push(Problem {
                id: c["id"].as_str().unwrap_or("?").to_string(),
                status: status.to_string(),
                summary: c["summary"].as_str().unwrap_or("").to_string(),
            });
        }
    }
    let h = &v["host"];
    Ok(Node {
        name: name.to_string(),
        file: file.to_string(),
        // Notes (info) do not make a node less ready.
        status: match v["status"].as_str() {
            Some(s @ ("error" | "warn")) => s.to_string(),
            _ => "ok".to_string(),
        },
        distro: opt_str(&h["distro"]),
        engine: opt_str(&h["engine"]),
        driver: opt_str(&h["driver"]),
        gpus: h["gpus"]
            .as_array()
            .map(|a| a.iter().filter_map(opt_str).collect())
            .unwrap_or_default(),
        problems,
    })
}

/// A merge: the fleet, and the files found in folders that were skipped, each with why.
pub struct Loaded {
    pub fleet: Fleet,
    /// `FILE: why` for each report in a folder that could not be read or is not a report.
    pub skipped: Vec<String>,
}

/// Reads every file named (a folder stands for the `*.json` files in it) and merges them.
/// A file named on the command line must be a report (else Err); a bad file found in a
/// folder is skipped and listed in `skipped`, so one broken node does not hide the fleet.
pub fn load(paths: &[std::path::PathBuf]) -> Result<Loaded, String> {
    let mut files: Vec<(std::path::PathBuf, bool)> = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut inside: Vec<_> = std::fs::read_dir(p)
                .map_err(|e| format!("cannot read {}: {e}", p.display()))?
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|x| x.extension().is_some_and(|e| e == "json"))
                .collect();
            inside.sort();
            files.extend(inside.into_iter().map(|f| (f, false)));
        } else {
            files.push((p.clone(), true));
        }
    }
    if files.is_empty() {
        return Err("no reports given (expected FILE.json arguments, or folders of them)".into());
    }
    let mut nodes = Vec::new();
    let mut skipped = Vec::new();
    for (f, explicit) in &files {
        let read = std::fs::read_to_string(f)
            .map_err(|e| format!("cannot read {}: {e}", f.display()))
            .and_then(|text| {
                let name = f
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| f.display().to_string());
                node(&name, &f.display().to_string(), &text)
            });
        match read {
            Ok(n) => nodes.push(n),
            Err(e) if *explicit => return Err(e),
            Err(e) => skipped.push(e),
        }
    }
    if nodes.is_empty() {
        return Err(format!(
            "none of the {} files could be merged:\n  {}",
            skipped.len(),
            skipped.join("\n  ")
        ));
    }
    Ok(Loaded {
        fleet: merge(nodes)?,
        skipped,
    })
}

pub fn merge(mut nodes: Vec<Node>) -> Result<Fleet, String> {
    let mut seen = std::collections::BTreeSet::new();
    for n in &nodes {
        if !seen.insert(n.name.clone()) {
            return Err(format!(
                "two reports are both named `{}`; node names come from file names, which must differ",
                n.name
            ));
        }
    }
    // Nodes with errors first, then warnings, then ready; by name within each.
    nodes.sort_by(|a, b| {
        rank(&b.status)
            .cmp(&rank(&a.status))
            .then_with(|| a.name.cmp(&b.name))
    });
    let mut rows: std::collections::BTreeMap<String, CheckRow> = Default::default();
    for n in &nodes {
        for p in &n.problems {
            let row = rows.entry(p.id.clone()).or_insert_with(|| CheckRow {
                id: p.id.clone(),
                status: p.status.clone(),
                nodes: Vec::new(),
            });
            if rank(&p.status) > rank(&row.status) {
                row.status = p.status.clone();
            }
            row.nodes.push(n.name.clone());
        }
    }
    let mut checks: Vec<CheckRow> = rows.into_values().collect();
    checks.sort_by(|a, b| {
        rank(&b.status)
            .cmp(&rank(&a.status))
            .then_with(|| b.nodes.len().cmp(&a.nodes.len()))
            .then_with(|| a.id.cmp(&b.id))
    });
    let totals = Totals {
        nodes: nodes.len(),
        error: nodes.iter().filter(|n| n.status == "error").count(),
        warn: nodes.iter().filter(|n| n.status == "warn").count(),
        ok: nodes.iter().filter(|n| rank(&n.status) < 2).count(),
    };
    Ok(Fleet {
        schema: 1,
        kind: "fleet",
        totals,
        checks,
        nodes,
    })
}

fn table(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut w: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                let pad = w[i] - c.chars().count();
                let _ = write!(s, "{c}{}  ", " ".repeat(pad));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut s = line(head.to_vec());
    for r in rows {
        s.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    s
}

/// Names, at most `max` of them, then `+N more`.
fn some(names: &[String], max: usize) -> String {
    if names.len() <= max {
        names.join(", ")
    } else {
        format!("{}, +{} more", names[..max].join(", "), names.len() - max)
    }
}

pub fn render_human(f: &Fleet) -> String {
    let t = &f.totals;
    let mut s = format!(
        "nvctk fleet · {} node{} · {} with errors · {} with warnings only · {} ready\n",
        t.nodes,
        if t.nodes == 1 { "" } else { "s" },
        t.error,
        t.warn,
        t.ok
    );
    if f.checks.is_empty() {
        s.push_str("\nNo check fails on any node.\n");
    } else {
        s.push('\n');
        let rows: Vec<Vec<String>> = f
            .checks
            .iter()
            .map(|c| {
                vec![
                    c.id.clone(),
                    c.status.clone(),
                    format!("{}/{}", c.nodes.len(), t.nodes),
                    some(&c.nodes, 4),
                ]
            })
            .collect();
        s.push_str(&table(&["CHECK", "STATUS", "NODES", "WHERE"], &rows));
    }
    s.push('\n');
    let rows: Vec<Vec<String>> = f
        .nodes
        .iter()
        .map(|n| {
            vec![
                n.name.clone(),
                n.status.clone(),
                n.driver.clone().unwrap_or_else(|| "-".into()),
                n.engine.clone().unwrap_or_else(|| "-".into()),
                if n.problems.is_empty() {
                    "-".into()
                } else {
                    n.problems
                        .iter()
                        .map(|p| p.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            ]
        })
        .collect();
    s.push_str(&table(
        &["NODE", "STATUS", "DRIVER", "ENGINE", "PROBLEMS"],
        &rows,
    ));
    s
}

pub fn render_json(f: &Fleet) -> String {
    let mut s =
        serde_json::to_string_pretty(f).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

/// 1 when any node has an error (as doctor would exit on that node), else 0.
pub fn exit_code(f: &Fleet) -> i32 {
    if f.totals.error > 0 { 1 } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_what_is_not_a_report_and_duplicate_names() {
        assert!(
            node("a", "a.json", "{")
                .unwrap_err()
                .contains("a.json: not JSON")
        );
        assert!(
            node("a", "a.json", "{\"schema\": 2, \"checks\": []}")
                .unwrap_err()
                .contains("schema 1")
        );
        let n = node(
            "a",
            "x/a.json",
            "{\"schema\":1,\"status\":\"ok\",\"host\":{},\"checks\":[]}",
        )
        .unwrap();
        assert!(
            merge(vec![n.clone(), n])
                .unwrap_err()
                .contains("both named `a`")
        );
    }

    #[test]
    fn long_node_lists_are_cut() {
        let names: Vec<String> = (1..=6).map(|i| format!("n{i}")).collect();
        assert_eq!(some(&names, 4), "n1, n2, n3, n4, +2 more");
    }
}
