//! A small mithril model trained on synthetic data.
//!
//! `model!` checks every shape while this crate compiles: change `Linear(1)`
//! to `Linear(2)` below and the build fails at that layer, saying which
//! shapes it expected and found.

use mithril::optimizers::Adam;
use mithril::prelude::*;
use mithril::train::{Loss, Objective, Trainer};

mithril::model! {
    /// Four features in, one number out.
    pub Regressor {
        input x: [B, 4];
        x -> hidden: Linear(32) -> Tanh -> head: Linear(1) => y;
        output y;
    }
}

/// `n` samples of `y = sin(x) . [1, -2, 0.5, 3] + 0.5`, with `x` uniform in [-1, 1].
fn synthetic_batch(n: i32, key: &Array) -> Result<(Array, Array), mithril::Error> {
    use mithril::mlx_rs::{ops, random};
    let x = random::uniform::<_, f32>(-1.0, 1.0, &[n, 4][..], key)?;
    let w = Array::from_slice(&[1.0f32, -2.0, 0.5, 3.0], &[4, 1]);
    let y = ops::sin(&x)?.matmul(&w)?.add(Array::from_f32(0.5))?;
    Ok((x, y))
}

/// Trains for `steps` Adam steps and returns the loss of the first and the last.
fn train(steps: usize, seed: u64) -> Result<(f32, f32), mithril::Error> {
    let backend = MlxBackend::builder().seed(seed).build()?;
    let mut params = Regressor::init(&backend)?;
    let objective = Objective::new("y", Loss::SquaredError);
    let mut trainer = Trainer::<Regressor, _>::new(&backend, &objective, Adam::new(1e-2))?;
    let mut key = mithril::mlx_rs::random::key(seed)?;
    let (mut first, mut last) = (f32::NAN, f32::NAN);
    for step in 0..steps {
        let (next, batch_key) = mithril::mlx_rs::random::split(&key, 2)?;
        key = next;
        let (x, y) = synthetic_batch(64, &batch_key)?;
        let loss = trainer
            .step(&mut params, &RegressorInputs { x }, &y)?
            .loss
            .item_exact::<f32>();
        if step == 0 {
            first = loss;
        }
        last = loss;
        if step % 100 == 0 || step + 1 == steps {
            println!("step {step:>4}: loss {loss:.5}");
        }
    }
    Ok((first, last))
}

fn main() -> Result<(), mithril::Error> {
    println!("{}", Regressor::summary());
    let (first, last) = train(500, 0)?;
    println!("loss went from {first:.4} to {last:.4}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn training_reduces_the_loss() {
        let (first, last) = train(300, 1).unwrap();
        assert!(last < first / 4.0, "loss went from {first} to {last}");
    }

    #[test]
    fn the_model_maps_a_batch_to_one_number_per_sample() {
        let backend = MlxBackend::builder().seed(0).build().unwrap();
        let params = Regressor::init(&backend).unwrap();
        let x = Array::zeros::<f32>(&[8, 4]).unwrap();
        let out = Regressor::forward(&params, &RegressorInputs { x }).unwrap();
        assert_eq!(out.y.shape(), &[8, 1]);
    }
}
