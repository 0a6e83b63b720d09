//! The registry of families (`src/family.rs`): a family is its own file plus two lines of
//! `lib.rs`, and `ARCHITECTURES` is the families' own tables, in the order of the list.

use std::fs;
use std::path::Path;

use mixaug_models::{ARCHITECTURES, Family};

/// One line of the `families!` list: `Variant = module::Network(Config),`.
#[derive(Debug, PartialEq)]
struct Listed {
    variant: String,
    module: String,
    network: String,
    config: String,
    line: String,
}

/// The lines of `lib.rs`'s `families! { … }` invocation.
fn families_list(lib: &str) -> Vec<Listed> {
    lib.lines()
        .map(str::trim)
        .skip_while(|l| *l != "families! {")
        .skip(1)
        .take_while(|l| *l != "}")
        .map(|line| {
            let (variant, rest) = line.split_once(" = ").expect("`Variant = …`");
            let (module, rest) = rest.split_once("::").expect("`module::…`");
            let (network, rest) = rest.split_once('(').expect("`Network(…`");
            let config = rest.strip_suffix("),").expect("`…Config),`");
            Listed {
                variant: variant.into(),
                module: module.into(),
                network: network.into(),
                config: config.into(),
                line: line.into(),
            }
        })
        .collect()
}

/// Whether `line`, string literals aside, holds `word` as a whole identifier.
fn names(line: &str, word: &str) -> bool {
    let code: String = line.split('"').step_by(2).collect::<Vec<_>>().join("\"\"");
    let line = code.as_str();
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    line.match_indices(word).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

#[test]
fn outside_its_file_a_family_is_named_only_by_its_mod_and_families_lines() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files: Vec<(String, String)> = fs::read_dir(&src)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read_to_string(&path).unwrap())
        })
        .filter(|(name, _)| name.ends_with(".rs"))
        .collect();
    files.sort();
    let lib = &files.iter().find(|(name, _)| name == "lib.rs").unwrap().1;
    let listed = families_list(lib);
    // The list as parsed starts with the crate's four families (a family added later is
    // checked below like them, without editing this test).
    let expected: Vec<[&str; 4]> = vec![
        ["ResNet", "resnet", "ResNet", "ResNetConfig"],
        ["PreAct", "preact", "PreActNet", "PreActNetConfig"],
        ["Deit", "deit", "Deit", "DeitConfig"],
        ["Swin", "swin", "Swin", "SwinConfig"],
    ];
    let got: Vec<[&str; 4]> = listed
        .iter()
        .take(expected.len())
        .map(|f| [&*f.variant, &*f.module, &*f.network, &*f.config])
        .collect();
    assert_eq!(got, expected);
    for family in &listed {
        let own_file = format!("{}.rs", family.module);
        let mod_line = format!("mod {};", family.module);
        // Code lines only: comments, docs and messages may name any family.
        let mentions: Vec<String> = files
            .iter()
            .filter(|(name, _)| *name != own_file)
            .flat_map(|(name, text)| {
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.starts_with("//"))
                    .filter(|l| {
                        *l == mod_line
                            || [&family.variant, &family.network, &family.config]
                                .iter()
                                .any(|word| names(l, word))
                    })
                    .map(move |l| format!("{name}: {l}"))
            })
            .collect();
        let mut allowed = vec![
            format!("lib.rs: {mod_line}"),
            format!("lib.rs: {}", family.line),
        ];
        // DeiT's and Swin's typed configuration errors, `ModelError::Deit` and
        // `ModelError::Swin`, predate the registry; a new family reports its invalid
        // configurations as `ModelError::InvalidOption`.
        if family.variant == "Deit" || family.variant == "Swin" {
            allowed.push(format!(
                "spec.rs: {}(#[from] {}ConfigError),",
                family.variant, family.variant
            ));
        }
        allowed.sort();
        let mut mentions = mentions;
        mentions.sort();
        assert_eq!(mentions, allowed, "{}", family.variant);
    }
}

#[test]
fn the_table_is_each_familys_names_in_the_order_of_the_list() {
    // The table as it was written out by hand before the registry (spec.rs, commit a9b7503).
    let expected = [
        ("resnet18", Family::ResNet),
        ("resnet34", Family::ResNet),
        ("resnet50", Family::ResNet),
        ("resnet101", Family::ResNet),
        ("resnext50_32x4d", Family::ResNet),
        ("preact_resnet18", Family::PreAct),
        ("wrn28_8", Family::PreAct),
        ("wrn28_10", Family::PreAct),
        ("deit_small_patch16_224", Family::Deit),
        ("swin_tiny_patch4_window7_224", Family::Swin),
    ];
    // Names added since then may come anywhere; these keep their order and family.
    let got: Vec<(&str, Family)> = ARCHITECTURES
        .iter()
        .map(|a| (a.name, (a.config)(3).family()))
        .filter(|(name, _)| expected.iter().any(|(known, _)| known == name))
        .collect();
    assert_eq!(got, expected);
}
