//! evaluate with output gradients: Mithril's Linear reference case, compiled
//! and eager, and the selection of outputs that get cotangents.

use mithril::prelude::*;

mithril::model! {
    Affine {
        input x: [N, 1];
        x -> fc: Linear(1) => y;
        output y;
    }

    TwoHeads {
        input x: [B, 3];
        x -> body: Linear(4) => h;
        h -> left: Linear(2) => a;
        h -> right: Linear(5) => b;
        output a, b;
    }
}

fn reference_case(graph_mode: bool) {
    let backend = MlxBackend::builder()
        .graph_mode(graph_mode)
        .build()
        .unwrap();
    let params = AffineParams {
        fc: AffineFcParams {
            weight: Array::from_slice(&[0.2f32], &[1, 1]),
            bias: Array::from_slice(&[0.5f32], &[1]),
        },
    };
    let inputs = AffineInputs {
        x: Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[4, 1]),
    };
    let mut model = mithril::compile::<Affine>(&backend);
    let ones = Array::ones::<f32>(&[4, 1]).unwrap();
    let (out, grads) = model
        .evaluate_with_gradients(&params, &inputs, &[("y", ones)])
        .unwrap();
    let close = |a: &[f32], b: &[f32]| {
        a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6) && a.len() == b.len()
    };
    assert!(
        close(out.y.as_slice::<f32>(), &[0.7, 0.9, 1.1, 1.3]),
        "{:?}",
        out.y
    );
    assert!(close(
        grads.inputs.x.as_slice::<f32>(),
        &[0.2, 0.2, 0.2, 0.2]
    ));
    assert!(close(grads.params.fc.weight.as_slice::<f32>(), &[10.0]));
    assert!(close(grads.params.fc.bias.as_slice::<f32>(), &[4.0]));
}

#[test]
fn mithril_linear_reference_compiled() {
    reference_case(true);
}

#[test]
fn mithril_linear_reference_eager() {
    reference_case(false);
}

#[test]
fn only_named_outputs_are_differentiated() {
    let backend = MlxBackend::builder().seed(3).build().unwrap();
    let params = TwoHeads::init(&backend).unwrap();
    let inputs = TwoHeadsInputs {
        x: Array::ones::<f32>(&[2, 3]).unwrap(),
    };
    let mut model = mithril::compile::<TwoHeads>(&backend);
    let cot = Array::ones::<f32>(&[2, 2]).unwrap();
    let (out, grads) = model
        .evaluate_with_gradients(&params, &inputs, &[("a", cot)])
        .unwrap();
    assert_eq!(out.b.shape(), &[2, 5]);
    // `b` got no cotangent: its head's parameters get zero gradient.
    assert!(
        grads
            .params
            .right
            .weight
            .abs()
            .unwrap()
            .sum(None)
            .unwrap()
            .item_exact::<f32>()
            == 0.0
    );
    assert!(
        grads
            .params
            .left
            .weight
            .abs()
            .unwrap()
            .sum(None)
            .unwrap()
            .item_exact::<f32>()
            > 0.0
    );
    let err = model
        .evaluate_with_gradients(
            &params,
            &inputs,
            &[("c", Array::ones::<f32>(&[1]).unwrap())],
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "model `TwoHeads` has no output `c` (its outputs: a, b)"
    );
}

mithril::model! {
    /// Symbols in layer arguments take the values the inputs bound.
    SymbolicArgs {
        input x: [B, 60];
        x -> Reshape([B, 6, 10]) -> Lambda(halve, shape = [B, 6, 10]) => y;
        output y;
    }
}

fn halve(x: &Array) -> Result<Array, mithril::mlx_rs::error::Exception> {
    x.multiply(Array::from_f32(0.5))
}

#[test]
fn symbols_in_layer_arguments_bind_at_run_time() {
    let backend = MlxBackend::new().unwrap();
    let x = Array::ones::<f32>(&[3, 60]).unwrap();
    let eager = SymbolicArgs::forward(&SymbolicArgsParams {}, &SymbolicArgsInputs { x: x.clone() })
        .unwrap();
    let compiled = mithril::compile::<SymbolicArgs>(&backend)
        .evaluate(&SymbolicArgsParams {}, &SymbolicArgsInputs { x })
        .unwrap();
    assert_eq!(eager.y.shape(), &[3, 6, 10]);
    assert_eq!(compiled.y.shape(), &[3, 6, 10]);
    assert_eq!(compiled.y.sum(None).unwrap().item_exact::<f32>(), 90.0);
}
