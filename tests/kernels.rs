//! A `Lambda` layer whose function is a `KernelOp` (a CUDA kernel with a
//! fallback in MLX operations and a custom backward): on a device without
//! CUDA it computes, and differentiates, exactly what the same model with
//! the MLX operations computes.

use std::sync::LazyLock;

use mithril::kernel::{Backend, Kernel, KernelOp, Launch};
use mithril::mlx_rs::{Array, error::Exception, ops};
use mithril::prelude::*;
use mithril::tensor::to_vec;

/// `x * sigmoid(x)` (swish), one thread per element.
static SWISH_KERNEL: LazyLock<Kernel> = LazyLock::new(|| {
    Kernel::cuda(
        "test_swish",
        &["x"],
        &["y"],
        "const size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
         if (i < SIZE) {
           const float v = static_cast<float>(x[i]);
           y[i] = static_cast<T>(v / (1.0f + expf(-v)));
         }",
    )
});

fn swish_ops(x: &Array) -> Result<Array, Exception> {
    x.multiply(ops::sigmoid(x)?)
}

static SWISH: LazyLock<KernelOp> = LazyLock::new(|| {
    KernelOp::cuda(
        |x| {
            let launch = Launch::new([x[0].size(), 1, 1], [256, 1, 1])
                .output(x[0].shape(), x[0].dtype())
                .template("T", x[0].dtype())
                .template("SIZE", x[0].size() as i32);
            SWISH_KERNEL.apply(&[&x[0]], &launch)
        },
        |x| Ok(vec![swish_ops(&x[0])?]),
    )
    // d swish = s + x s (1 - s), in MLX operations.
    .backward(|v| {
        let (x, dy) = (&v.primals[0], &v.cotangents[0]);
        let s = ops::sigmoid(x)?;
        let one = Array::from_f32(1.0);
        let d = s.add(x.multiply(&s)?.multiply(one.subtract(&s)?)?)?;
        Ok(vec![dy.multiply(d)?])
    })
});

fn swish_kernel(x: &Array) -> Result<Array, Exception> {
    Ok(SWISH.apply(&[x])?.remove(0))
}

mithril::model! {
    Fused {
        input x: [B, 4];
        x -> fc: Linear(3) -> Lambda(swish_kernel, shape = same) => y;
        output y;
    }

    Plain {
        input x: [B, 4];
        x -> fc: Linear(3) -> Lambda(swish_ops, shape = same) => y;
        output y;
    }
}

/// An array's elements (gradients may be strided views).
fn values(a: &Array) -> Result<Vec<f32>, mithril::Error> {
    let a = a.contiguous()?;
    a.eval()?;
    to_vec::<f32>(&a)
}

#[test]
fn a_kernel_lambda_runs_its_fallback_with_the_same_numbers() -> Result<(), mithril::Error> {
    let backend = MlxBackend::builder().device(Device::Cpu).seed(3).build()?;
    assert!(!Backend::Cuda.runs_here() && !SWISH.uses_kernel());
    let fused = Fused::init(&backend)?;
    let mut plain = Plain::init(&backend)?;
    plain.fc.weight = fused.fc.weight.clone();
    plain.fc.bias = fused.fc.bias.clone();
    let x = Array::from_slice(&[0.5f32, -1.0, 2.0, 0.25, -3.0, 1.5, 0.0, 4.0], &[2, 4]);
    let dy = Array::from_slice(&[1.0f32, -2.0, 0.5, 3.0, 0.25, -1.0], &[2, 3]);
    let (a, ga) = mithril::compile::<Fused>(&backend).evaluate_with_gradients(
        &fused,
        &FusedInputs { x: x.clone() },
        &[("y", dy.clone())],
    )?;
    let (b, gb) = mithril::compile::<Plain>(&backend).evaluate_with_gradients(
        &plain,
        &PlainInputs { x },
        &[("y", dy)],
    )?;
    assert_eq!(values(&a.y)?, values(&b.y)?);
    assert_eq!(values(&ga.inputs.x)?, values(&gb.inputs.x)?);
    assert_eq!(values(&ga.params.fc.weight)?, values(&gb.params.fc.weight)?);
    Ok(())
}
