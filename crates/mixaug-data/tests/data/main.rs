//! The integration tests of mixaug-data, one test binary (each binary links burn, so one
//! per crate keeps the build small).

mod fashion_mnist;
mod formats;
mod loader;
mod transforms;
mod vit_recipe;
mod vit_recipe_expected;
