use super::*;
use crate::Permutation;

fn draws_for(kind: MixedExampleKind, seed: u64) -> MixedExampleParams {
    MixedExampleConfig::new(kind)
        .init()
        .unwrap()
        .sample(&mut MixRng::from_seed(seed), BatchShape::new(6, 3, 5, 7))
        .unwrap()
}

#[test]
fn draws_stay_in_the_reference_ranges() {
    for seed in 0..30 {
        if let MixedExampleDraws::Quadrants { masks } =
            draws_for(MixedExampleKind::Random2x2, seed).draws
        {
            // H = 5: buffer round(1.25) = 1 → rows 1..=3; W = 7: round(1.75) = 2 → 2..=4.
            for q in masks {
                assert!(
                    (1..=3).contains(&q.row) && (2..=4).contains(&q.col),
                    "{q:?}"
                );
                assert!(q.weights.iter().all(|v| *v == 0.0 || *v == 1.0));
            }
        } else {
            panic!("random 2×2 draws quadrants");
        }
        if let MixedExampleDraws::Interval { strips, axis } =
            draws_for(MixedExampleKind::RandomColumnInterval, seed).draws
        {
            assert_eq!(axis, Axis::Columns);
            for s in strips {
                assert!(s.start + s.len < 7 || s.len == 0, "{s:?}");
                assert!(s.source + s.len <= 7);
            }
        } else {
            panic!("column interval draws strips");
        }
    }
}

#[test]
fn bits_have_the_documented_shapes() {
    let shapes = [
        (MixedExampleKind::RandomColumns, [1, 1, 7]),
        (MixedExampleKind::RandomRows, [1, 5, 1]),
        (MixedExampleKind::RandomPixels, [1, 5, 7]),
        (MixedExampleKind::RandomElements, [3, 5, 7]),
    ];
    for (kind, expected) in shapes {
        match draws_for(kind, 1).draws {
            MixedExampleDraws::Bits { dims, bits } => {
                assert_eq!(dims, expected);
                assert_eq!(bits.len(), 6 * expected.iter().product::<usize>());
            }
            other => panic!("{kind:?} gave {other:?}"),
        }
    }
}

#[test]
fn configuration_names_are_the_kind_names() {
    for kind in MixedExampleKind::ALL {
        let text = format!("method = \"mixed_example\"\nkind = \"{}\"", kind.name());
        let config: crate::MixConfig = toml::from_str(&text).unwrap();
        assert_eq!(config.label(), kind.name());
        assert_eq!(crate::MixConfig::from_name(kind.name()), Some(config));
    }
}

#[test]
fn quadrant_fraction_by_hand() {
    // 4×6, split after row 1 and column 4: cells 4, 2, 12, 6 pixels.
    let q = Quadrants {
        row: 1,
        col: 4,
        weights: [1.0, 0.25, 0.5, 0.0],
    };
    assert_eq!(q.base_fraction(4, 6), (4.0 + 0.5 + 6.0) / 24.0);
}

#[test]
fn beta_option_and_errors() {
    let bad = MixedExampleConfig::new(MixedExampleKind::RandomPixels)
        .with_ratio(RatioDraw::Beta { alpha: 0.0 });
    assert!(matches!(
        bad.validate(),
        Err(MixError::InvalidHyperParameter { .. })
    ));
    let small = MixedExampleConfig::new(MixedExampleKind::VerticalConcat)
        .init()
        .unwrap()
        .sample(&mut MixRng::from_seed(0), BatchShape::new(2, 3, 1, 6));
    assert!(matches!(small, Err(MixError::ImageTooSmall { .. })));
    let beta = MixedExampleConfig::new(MixedExampleKind::VhMixup)
        .with_ratio(RatioDraw::Beta { alpha: 0.5 })
        .init()
        .unwrap();
    let p = beta
        .sample(&mut MixRng::from_seed(4), BatchShape::new(8, 1, 4, 6))
        .unwrap();
    let lam = beta
        .base_fractions(&p, BatchShape::new(8, 1, 4, 6))
        .unwrap();
    assert!(lam.iter().all(|l| (0.0..=1.0).contains(l)));
}

#[test]
fn reference_lam_applies_to_mixed_samples_only() {
    // Mixed concat on 4×8 with the reference's label ratio λ = a·b + (1 − a)(1 − b), a =
    // row / W, b = col / H (METHODS.md's Summers & Dinneen section).
    let config = MixedExampleConfig {
        reference_lam: true,
        ..MixedExampleConfig::new(MixedExampleKind::MixedConcat)
    };
    let batch = BatchShape::new(2, 1, 4, 8);
    let method = config.clone().init().unwrap();
    // Split after row 2 and column 3, the base top-left and bottom-right: the reference
    // gives (2/8)(3/4) + (6/8)(1/4) = 0.375 where the area is (2·3 + 2·5)/32 = 0.5.
    let split = Quadrants {
        row: 2,
        col: 3,
        weights: [1.0, 0.0, 0.0, 1.0],
    };
    let params = MixedExampleParams {
        perm: Permutation::new(vec![1, 0]).unwrap(),
        draws: MixedExampleDraws::Quadrants {
            masks: vec![split; 2],
        },
    };
    assert_eq!(method.base_fractions(&params, batch).unwrap(), [0.375; 2]);
    // A batch the gate leaves unmixed keeps its own label: weight 1. (Before, the formula
    // read its whole-image "split" row = H = 4, col = W = 8 as a = 4/8, b = 8/4, giving
    // 0.5·2 + 0.5·(−1) = 0.5.)
    let unmixed = MixedExampleConfig {
        prob: 0.0,
        ..config
    }
    .init()
    .unwrap();
    let params = unmixed.sample(&mut MixRng::from_seed(5), batch).unwrap();
    assert_eq!(unmixed.base_fractions(&params, batch).unwrap(), [1.0; 2]);
}
