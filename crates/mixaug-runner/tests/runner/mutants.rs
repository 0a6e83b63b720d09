//! Every committed configuration file (`configs/examples/*.toml`, `configs/tables/*.toml`),
//! mutated one change at a time: each key removed (at every depth), each value replaced by
//! one of every other type, each number made negative, zero, huge, NaN or infinite, and an
//! unknown key added to each table. Each mutant is checked as the runner checks a file
//! before it reads any data or trains (`mixaug train`: the experiment; `mixaug reproduce`:
//! the table with every cell, and the `--fast` overrides), and must neither panic nor fail
//! with an error that does not name the mutated key: it is accepted (a removed key with a
//! default, a number in range) or refused naming the key.
//!
//! To run in seconds (4.2 s here, 2 cores), the rows and columns of a table are mutated once
//! per key path (in the first one holding it), and a mutant of one row or column is
//! checked as the table of that row and column alone (see `focus`).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use anyhow::Result;
use mixaug_runner::experiment::Experiment;
use mixaug_runner::tables::{Table, TableOverrides, list_line};

/// The key added to every table.
const UNKNOWN: &str = "mutant_unknown_key";

/// One step of a path into a TOML document.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// One change to a document.
#[derive(Debug, Clone)]
enum Change {
    /// The key is removed from its table.
    Remove,
    /// The value is replaced.
    Replace(toml::Value),
    /// The table gets [`UNKNOWN`].
    AddUnknown,
}

/// A change at a path, and the keys an error about it may name: the mutated key, or for a
/// removed key a key inside it ("missing field" of what it held) or the table that held
/// it (an externally tagged enum left without its variant).
#[derive(Debug, Clone)]
struct Mutation {
    path: Vec<Step>,
    change: Change,
    keys: Vec<String>,
}

/// Every key at every depth of `value`.
fn keys_within(value: &toml::Value, out: &mut Vec<String>) {
    match value {
        toml::Value::Table(table) => {
            for (k, v) in table {
                out.push(k.clone());
                keys_within(v, out);
            }
        }
        toml::Value::Array(items) => items.iter().for_each(|v| keys_within(v, out)),
        _ => {}
    }
}

impl Mutation {
    /// The mutation up to the index of the row or column and the column names that key
    /// `cell_set` and `paper`: the rows and columns of a table repeat their keys, and one
    /// mutation of each kind per file (in the first row or column holding the key) keeps
    /// the test fast.
    fn pattern(&self) -> String {
        let mut pattern = String::new();
        for (n, step) in self.path.iter().enumerate() {
            let after = |keys: &[&str]| matches!(self.path.get(n.wrapping_sub(1)), Some(Step::Key(k)) if keys.contains(&k.as_str()));
            match step {
                Step::Index(_) if n == 1 && after(&["rows", "columns"]) => pattern.push_str("[]"),
                Step::Index(i) => pattern.push_str(&format!("[{i}]")),
                Step::Key(_) if after(&["cell_set", "paper"]) => pattern.push_str(".*"),
                Step::Key(k) => pattern.push_str(&format!(".{k}")),
            }
        }
        let change = match &self.change {
            Change::Remove => "removed".to_string(),
            Change::Replace(v) => format!("= {v}"),
            Change::AddUnknown => "unknown key".to_string(),
        };
        format!("{pattern} {change}")
    }

    fn describe(&self) -> String {
        let path: String = self
            .path
            .iter()
            .map(|s| match s {
                Step::Key(k) => format!(".{k}"),
                Step::Index(i) => format!("[{i}]"),
            })
            .collect();
        let path = if path.is_empty() { "(root)" } else { &path[..] };
        match &self.change {
            Change::Remove => format!("{path}: removed"),
            Change::Replace(v) => format!("{path} = {v}"),
            Change::AddUnknown => format!("{path}: `{UNKNOWN}` added"),
        }
    }
}

/// The values of other types than `value`'s, and for a number the out-of-range ones.
fn replacements(value: &toml::Value) -> Vec<toml::Value> {
    use toml::Value as V;
    let number = matches!(value, V::Integer(_) | V::Float(_));
    let mut out = Vec::new();
    if !matches!(value, V::String(_)) {
        out.push(V::String("mutant".into()));
    }
    if !number {
        out.push(V::Integer(7));
    }
    if !matches!(value, V::Boolean(_)) {
        out.push(V::Boolean(true));
    }
    if !matches!(value, V::Array(_)) {
        out.push(V::Array(vec![V::Integer(1)]));
    }
    if !matches!(value, V::Table(_)) {
        out.push(V::Table(toml::Table::new()));
    }
    if number {
        out.extend([
            V::Integer(-1),
            V::Integer(0),
            V::Integer(i64::MAX),
            V::Float(f64::NAN),
            V::Float(f64::INFINITY),
        ]);
    }
    out
}

/// Every mutation of the document `root`.
fn mutations(root: &toml::Table) -> Vec<Mutation> {
    fn walk(
        value: &toml::Value,
        path: &mut Vec<Step>,
        (key, holder): (&str, &str),
        out: &mut Vec<Mutation>,
    ) {
        let at = |change| Mutation {
            path: path.clone(),
            change,
            keys: vec![key.to_string()],
        };
        if !path.is_empty() {
            if matches!(path.last(), Some(Step::Key(_))) {
                let mut removal = at(Change::Remove);
                keys_within(value, &mut removal.keys);
                removal.keys.push(holder.to_string());
                out.push(removal);
            }
            out.extend(
                replacements(value)
                    .into_iter()
                    .map(|v| at(Change::Replace(v))),
            );
        }
        match value {
            toml::Value::Table(table) => {
                // An unknown key in the table of an externally tagged enum (`mode = {
                // per_batch = { … } }`) makes it hold two variants: the table is refused.
                out.push(Mutation {
                    path: path.clone(),
                    change: Change::AddUnknown,
                    keys: vec![UNKNOWN.into(), key.to_string()],
                });
                for (k, v) in table {
                    path.push(Step::Key(k.clone()));
                    walk(v, path, (k, key), out);
                    path.pop();
                }
            }
            toml::Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    path.push(Step::Index(i));
                    walk(v, path, (key, holder), out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(
        &toml::Value::Table(root.clone()),
        &mut Vec::new(),
        ("", ""),
        &mut out,
    );
    out
}

/// The document `root` with `mutation` applied.
fn apply(root: &toml::Table, mutation: &Mutation) -> toml::Table {
    fn at<'a>(value: &'a mut toml::Value, path: &[Step]) -> &'a mut toml::Value {
        match path.split_first() {
            None => value,
            Some((Step::Key(k), rest)) => at(&mut value.as_table_mut().unwrap()[k], rest),
            Some((Step::Index(i), rest)) => at(&mut value.as_array_mut().unwrap()[*i], rest),
        }
    }
    let mut value = toml::Value::Table(root.clone());
    match &mutation.change {
        Change::Remove => {
            let (last, parent) = mutation.path.split_last().unwrap();
            let Step::Key(key) = last else {
                unreachable!("only keys are removed")
            };
            at(&mut value, parent).as_table_mut().unwrap().remove(key);
        }
        Change::Replace(v) => *at(&mut value, &mutation.path) = v.clone(),
        Change::AddUnknown => {
            at(&mut value, &mutation.path)
                .as_table_mut()
                .unwrap()
                .insert(UNKNOWN.into(), toml::Value::Integer(1));
        }
    }
    match value {
        toml::Value::Table(table) => table,
        _ => unreachable!(),
    }
}

/// Whether `message` holds `key` as a word (not inside a longer name).
fn names(message: &str, key: &str) -> bool {
    // The root's own "key" is empty, and an empty string is found anywhere.
    if key.is_empty() {
        return false;
    }
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    message.match_indices(key).any(|(i, _)| {
        !word(message[..i].chars().next_back()) && !word(message[i + key.len()..].chars().next())
    })
}

/// What `mixaug train` checks of an experiment file before it reads any data: parsing and
/// validation, the `config.toml` it writes and its hash, and the mixer it builds.
fn check_experiment(text: &str, _: &[Step]) -> Result<()> {
    let experiment = Experiment::from_toml(text)?;
    experiment.to_toml()?;
    experiment.hash()?;
    experiment.mixer.init()?;
    Ok(())
}

/// What `mixaug reproduce` checks of a table file before it reads any data: parsing and
/// validation (every cell), `--list`, and each cell as run with `--fast`'s overrides and
/// its config hash. The overrides change the seeds, the evaluation subset and the
/// schedule's epochs: they are checked for mutations of the `seeds`, `data` and `train`
/// keys (`path`), which they read.
fn check_table(text: &str, path: &[Step]) -> Result<()> {
    let table = Table::from_toml(text)?;
    list_line(&table);
    let read = ["seeds", "data", "train"];
    if path
        .iter()
        .any(|s| matches!(s, Step::Key(k) if read.contains(&k.as_str())))
    {
        let fast = TableOverrides {
            data: Some(PathBuf::from("data")),
            epochs: Some(2),
            seeds: Some(2),
            eval_subset: Some(1000),
        };
        for cell in table.cells()? {
            fast.apply(cell.experiment)?.hash()?;
        }
    }
    Ok(())
}

/// The part of the table document `root` (the mutant of `original`) that a mutation at
/// `path` changes the checks of, to keep the test fast: a mutation inside `rows[i]`
/// changes that row's cells only, one inside `columns[j]` that column's, and those of one
/// row and one column share the checks (the other cells are those of the committed file,
/// which pass). Such a mutant keeps its row and column — the first column, or the one a
/// `cell_set` or `paper` entry of the path names; the first row — with their `cell_set` and
/// `paper` entries and no claims, which name other rows and columns. So does a mutation of
/// the table's own keys (`name`, `title`, `tolerance`, …) with the first cell. Other
/// mutations (`base`, `statistic`, `claims`, the lists themselves) keep the whole table.
fn focus(root: &toml::Table, original: &toml::Table, path: &[Step]) -> toml::Table {
    let (Some(Step::Key(list)), index) = (path.first(), path.get(1)) else {
        return root.clone();
    };
    let i = match index {
        Some(&Step::Index(i)) => i,
        _ => 0,
    };
    let (row, column) = match (list.as_str(), path.get(2), path.get(3)) {
        // What goes into every cell, or names rows and columns.
        ("base" | "statistic" | "claims" | "rows" | "columns", _, _)
            if !matches!(index, Some(Step::Index(_))) =>
        {
            return root.clone();
        }
        // The table's own words and numbers (`name`, `title`, `tolerance`, …): one cell.
        (_, None, _) if !matches!(list.as_str(), "base" | "statistic" | "claims") => (0, 0),
        ("rows", Some(Step::Key(by)), Some(Step::Key(name)))
            if by == "cell_set" || by == "paper" =>
        {
            let columns = original["columns"].as_array().unwrap();
            let named = columns
                .iter()
                .position(|c| c.get("name").and_then(toml::Value::as_str) == Some(name));
            (i, named.unwrap_or(0))
        }
        ("rows", _, _) => (i, 0),
        ("columns", _, _) => (0, i),
        _ => return root.clone(),
    };
    let mut table = root.clone();
    for (list, keep) in [("rows", row), ("columns", column)] {
        if let Some(toml::Value::Array(items)) = table.get_mut(list) {
            *items = vec![items[keep].clone()];
        }
    }
    // The entries of the columns left out (by their committed names; a mutant's own key
    // stays).
    let kept = original["columns"][column].get("name");
    let left_out: Vec<&str> = original["columns"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c.get("name"))
        .filter(|&name| Some(name) != kept)
        .filter_map(toml::Value::as_str)
        .collect();
    if let Some(toml::Value::Array(rows)) = table.get_mut("rows") {
        for row in rows.iter_mut().filter_map(toml::Value::as_table_mut) {
            for key in ["cell_set", "paper"] {
                if let Some(toml::Value::Table(by_column)) = row.get_mut(key) {
                    by_column.retain(|name, _| !left_out.contains(&name));
                }
            }
        }
    }
    table.remove("claims");
    table
}

/// Mutates each `*.toml` file of `dir` (relative to the workspace root, one thread per
/// file) and checks every mutant with `check` (after `focus`); returns the number of
/// mutants and the failures found.
fn mutate_folder(
    dir: &str,
    check: fn(&str, &[Step]) -> Result<()>,
    focus: fn(&toml::Table, &toml::Table, &[Step]) -> toml::Table,
) -> (usize, Vec<String>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no configuration files in {}",
        dir.display()
    );
    let mutate_file = |file: &PathBuf| {
        let text = std::fs::read_to_string(file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy();
        if let Err(e) = check(&text, &[]) {
            panic!("{name} as committed is refused: {e:#}");
        }
        let root: toml::Table = toml::from_str(&text).unwrap();
        let (mut count, mut failures) = (0, Vec::new());
        let mut seen = std::collections::HashSet::new();
        for mutation in mutations(&root) {
            if !seen.insert(mutation.pattern()) {
                continue;
            }
            count += 1;
            let mutant = focus(&apply(&root, &mutation), &root, &mutation.path);
            let text = toml::to_string(&mutant).unwrap();
            let what = format!("{name} {}", mutation.describe());
            match catch_unwind(AssertUnwindSafe(|| check(&text, &mutation.path))) {
                Err(panic) => {
                    let message = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    failures.push(format!("{what}: panicked: {message}"));
                }
                Ok(Err(e)) => {
                    let message = format!("{e:#}");
                    if !mutation.keys.iter().any(|key| names(&message, key)) {
                        failures.push(format!(
                            "{what}: the error does not name `{}`: {message}",
                            mutation.keys[0]
                        ));
                    }
                }
                Ok(Ok(())) => {}
            }
        }
        (count, failures)
    };
    std::thread::scope(|scope| {
        let runs: Vec<_> = files
            .iter()
            .map(|file| scope.spawn(move || mutate_file(file)))
            .collect();
        runs.into_iter().map(|run| run.join().unwrap()).fold(
            (0, Vec::new()),
            |(count, mut failures), (n, more)| {
                failures.extend(more);
                (count + n, failures)
            },
        )
    })
}

fn assert_no_failures(dir: &str, count: usize, failures: &[String]) {
    assert!(count > 0);
    assert!(
        failures.is_empty(),
        "{} of {count} mutants of {dir} panic or fail without naming the key:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn mutated_experiment_files_are_refused_by_name() {
    let whole = |root: &toml::Table, _: &toml::Table, _: &[Step]| root.clone();
    let (count, failures) = mutate_folder("configs/examples", check_experiment, whole);
    assert_no_failures("configs/examples", count, &failures);
}

#[test]
fn mutated_table_files_are_refused_by_name() {
    let (count, failures) = mutate_folder("configs/tables", check_table, focus);
    assert_no_failures("configs/tables", count, &failures);
}

#[test]
fn mutations_cover_every_key_type_and_table() {
    // An error names a key as a whole word, and never the root's empty name.
    assert!(names("train.epochs: must be positive", "epochs"));
    assert!(!names("train.epochs_max: too large", "epochs"));
    assert!(!names("train: a: b", ""));
    let root: toml::Table = toml::from_str("a = 1\n[b]\nc = [\"x\", { d = true }]\n").unwrap();
    let described: Vec<String> = mutations(&root).iter().map(Mutation::describe).collect();
    for expected in [
        "(root): `mutant_unknown_key` added",
        ".a: removed",
        ".a = \"mutant\"",
        ".a = nan",
        ".a = -1",
        ".b: removed",
        ".b = 7",
        ".b: `mutant_unknown_key` added",
        ".b.c = {}",
        ".b.c[0] = 7",
        ".b.c[1].d: removed",
        ".b.c[1].d = [1]",
        ".b.c[1]: `mutant_unknown_key` added",
    ] {
        assert!(
            described.iter().any(|d| d == expected),
            "{expected} missing"
        );
    }
    assert!(names("missing field `k`", "k"));
    assert!(!names("unknown kind", "k"));
    assert!(!names("eval_batch_size", "batch_size"));
}
