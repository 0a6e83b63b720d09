//! `ModelSpec`: names from the one table, the options each family takes, typed errors.

use burn::prelude::*;
use mixaug_loss::PooledClassifier;
use mixaug_models::{ARCHITECTURES, Classifier, Family, ModelError, ModelSpec};

#[test]
fn every_name_of_the_table_builds_its_family() {
    let device = Device::flex();
    // The first networks of each family at a small width; the ViTs are built by the
    // per-network tests (their parameter counts asserted there).
    for (name, family) in [
        ("resnet18", Family::ResNet),
        ("resnext50_32x4d", Family::ResNet),
        ("preact_resnet18", Family::PreAct),
    ] {
        let model = ModelSpec::named(name, 7).init(&device, false).unwrap();
        assert_eq!(model.family(), family, "{name}");
        assert_eq!(model.classifier_dims()[1], 7, "{name}");
    }
    let names: Vec<&str> = ARCHITECTURES.iter().map(|a| a.name).collect();
    for name in [
        "deit_small_patch16_224",
        "swin_tiny_patch4_window7_224",
        "wrn28_10",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
}

#[test]
fn a_small_vit_from_the_spec_classifies_its_image_size() {
    let device = Device::flex();
    let spec = ModelSpec {
        image_size: Some(32),
        ..ModelSpec::named("deit_small_patch16_224", 5)
    };
    let model = spec.init(&device, false).unwrap();
    assert_eq!(model.family(), Family::Deit);
    let images = Tensor::<4>::zeros([2, 3, 32, 32], &device);
    assert_eq!(model.forward(images.clone()).dims(), [2, 5]);
    // DeiT-S's pooled feature is its 384-wide class token.
    assert_eq!(model.pooled(images).dims(), [2, 384]);
    // 30 is not a multiple of the patch (16): DeiT's own error, through ModelError.
    let odd = ModelSpec {
        image_size: Some(30),
        ..spec
    };
    assert!(matches!(odd.init(&device, false), Err(ModelError::Deit(_))));
}

#[test]
fn zero_init_residual_reaches_the_network() {
    // The option was once validated but not applied: the last BatchNorm of every residual
    // branch must start at γ = 0 (torchvision's `zero_init_residual`).
    let device = Device::flex();
    let first_branch_gamma = |zero_init_residual: bool| -> Vec<f32> {
        let spec = ModelSpec {
            zero_init_residual,
            ..ModelSpec::named("resnet18", 10).with_base_width(4)
        };
        let Classifier::ResNet(model) = spec.init(&device, false).unwrap() else {
            panic!("resnet18 is a ResNet");
        };
        model.layer1[0]
            .bn2
            .gamma
            .val()
            .into_data()
            .try_to_vec()
            .unwrap()
    };
    assert_eq!(first_branch_gamma(true), vec![0.0; 4]);
    assert_eq!(first_branch_gamma(false), vec![1.0; 4]);
}

#[test]
fn options_a_family_does_not_take_are_refused_by_name() {
    let message = |spec: ModelSpec| spec.config().unwrap_err().to_string();
    assert!(message(ModelSpec::named("vgg16", 10)).contains("unknown architecture `vgg16`"));
    assert!(message(ModelSpec::named("resnet18", 0)).contains("model.num_classes"));
    let dropout = ModelSpec {
        dropout: 0.3,
        ..ModelSpec::named("resnet18", 10)
    };
    assert!(message(dropout).contains("model.dropout is not available for the ResNet family"));
    let size = ModelSpec {
        image_size: Some(64),
        ..ModelSpec::named("wrn28_8", 10)
    };
    assert!(message(size).contains("model.image_size"));
    let zero = ModelSpec {
        zero_init_residual: true,
        ..ModelSpec::named("swin_tiny_patch4_window7_224", 10)
    };
    assert!(message(zero).contains("zero_init_residual is not available for the Swin"));
    // DeiT has no CAM; the convolutional families and Swin do.
    assert!(!Family::Deit.has_cam() && Family::Swin.has_cam() && Family::PreAct.has_cam());
}

#[test]
fn the_spec_reads_and_writes_experiment_toml() {
    let spec: ModelSpec =
        toml::from_str("arch = \"resnet50\"\nstem = \"imagenet\"\nnum_classes = 200").unwrap();
    assert_eq!(spec.family().unwrap(), Family::ResNet);
    // Unset options are not written out (run folders' config hashes stay as they were).
    let text = toml::to_string(&spec).unwrap();
    assert!(
        !text.contains("image_size") && !text.contains("layers"),
        "{text}"
    );
    assert!(
        toml::from_str::<ModelSpec>("arch = \"resnet18\"\nnum_classes = 2\nwidth = 3").is_err()
    );
}

#[test]
fn vit_options_reach_the_configuration_and_checkpoints_go_through_the_importer() {
    use mixaug_models::ArchConfig;
    let spec = ModelSpec {
        drop_path: 0.1,
        image_size: Some(448),
        ..ModelSpec::named("swin_tiny_patch4_window7_224", 10)
    };
    let ArchConfig::Swin(config) = spec.config().unwrap() else {
        panic!("a Swin name gives a Swin configuration");
    };
    assert_eq!((config.drop_path_rate, config.image_size), (0.1, 448));
    let resnet = ModelSpec {
        drop_path: 0.1,
        ..ModelSpec::named("resnet18", 10)
    };
    assert!(matches!(
        resnet.config(),
        Err(ModelError::Unsupported { .. })
    ));
    // A DeiT checkpoint is read by the timm importer: a missing file is its typed error.
    let deit = ModelSpec {
        image_size: Some(32),
        ..ModelSpec::named("deit_small_patch16_224", 10)
    }
    .with_pretrained("/nonexistent/deit.safetensors");
    let err = deit.init(&Device::flex(), false).unwrap_err();
    assert!(matches!(err, ModelError::Import(_)), "{err}");
    assert!(
        err.to_string().contains("/nonexistent/deit.safetensors"),
        "{err}"
    );
    // Smoke runs skip the checkpoint.
    assert!(deit.init(&Device::flex(), true).is_ok());
}

#[test]
fn swins_class_activation_maps_average_to_its_logits() {
    use mixaug_maps::CamModel;
    // CAM's identity: the classifier on the spatial mean of the CAM features gives the
    // logits (Swin averages its last stage's normed tokens before its linear head).
    // A small Swin (16×16, patch 2, window 4, two stages): a 4×4 last-stage map.
    let device = Device::flex();
    let swin = mixaug_models::SwinConfig::new(5)
        .with_image_size(16)
        .with_patch_size(2)
        .with_embed_dim(8)
        .with_depths(vec![2, 2])
        .with_num_heads(vec![1, 2])
        .with_window_size(4)
        .init(&device);
    let model = Classifier::Swin(swin);
    let images = Tensor::<4>::random([2, 3, 16, 16], burn::tensor::Distribution::Default, &device);
    let features = model.cam_features(images.clone());
    let [n, d, h, w] = features.dims();
    assert_eq!((n, h, w), (2, 4, 4));
    let classifier = model.cam_classifier();
    let pooled = features.reshape([n, d, h * w]).mean_dim(2).reshape([n, d]);
    let from_cam = pooled.matmul(classifier.weight) + classifier.bias.unwrap().unsqueeze();
    let logits = model.forward(images);
    let (a, b): (Vec<f32>, Vec<f32>) = (
        from_cam.into_data().try_to_vec().unwrap(),
        logits.into_data().try_to_vec().unwrap(),
    );
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() < 1e-5, "{a:?} vs {b:?}");
    }
    assert!(Family::Swin.has_cam());
}
