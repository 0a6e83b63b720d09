use burn::prelude::*;
use mixaug_masks::{
    BatchShape, Guide, MixRng, Mixer, PairingSchedule, Permutation, SamplePairingConfig,
    SamplePairingParams, StreamKey,
};

use crate::{floats, ints, ramp_batch, ramp_values, swapped_pair_blend};

/// π = (1, 0) on the 2×3×4×6 ramp: every pixel is the exact mean `(x_i + x_π(i))/2`, and
/// the target is the base label alone (weights (1, 0)).
pub fn sample_pairing_hand_case(device: &Device) {
    let (n, c, h, w) = (2, 3, 4, 6);
    let params = SamplePairingParams {
        perm: Permutation::new(vec![1, 0]).unwrap(),
        active: true,
    };
    let mixed = SamplePairingConfig::new()
        .init()
        .unwrap()
        .apply(
            &params,
            ramp_batch(n, c, h, w, device),
            Tensor::from_ints([4, 9], device),
            &Guide::None,
        )
        .unwrap();
    let expected = swapped_pair_blend([c, h, w], |_, _, _, _| 0.5);
    assert_eq!(floats(mixed.images), expected);
    assert_eq!(ints(mixed.target.classes()), vec![4, 9, 9, 4]);
    assert_eq!(floats(mixed.target.weights()), vec![1.0, 0.0, 1.0, 0.0]);
    assert_eq!(ints(mixed.perm), vec![1, 0]);
}

/// Schedule start 2, end 9, on 2, off 1: by hand, on at epochs 2, 3, 5, 6, 8 and nowhere
/// else in 0..12; off epochs leave the batch unchanged.
pub fn sample_pairing_schedule_gates_epochs(device: &Device) {
    let (n, c, h, w) = (3, 1, 4, 6);
    let schedule = PairingSchedule {
        start: 2,
        end: 9,
        on: 2,
        off: 1,
    };
    let mixer = SamplePairingConfig::new()
        .with_schedule(schedule)
        .init()
        .unwrap();
    let mut on = Vec::new();
    for epoch in 0..12 {
        let mut rng = MixRng::new(StreamKey {
            seed: 1,
            epoch,
            step: 5,
            rank: 0,
        });
        let params = mixer.sample(&mut rng, BatchShape::new(n, c, h, w)).unwrap();
        assert_eq!(params.active, schedule.is_on(epoch));
        if params.active {
            on.push(epoch);
        } else {
            let mixed = mixer
                .apply(
                    &params,
                    ramp_batch(n, c, h, w, device),
                    Tensor::from_ints([0, 1, 2], device),
                    &Guide::None,
                )
                .unwrap();
            assert_eq!(floats(mixed.images), ramp_values(n, c, h, w));
        }
    }
    assert_eq!(on, vec![2, 3, 5, 6, 8]);
}
