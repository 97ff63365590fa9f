//! Run-time errors are typed variants of `mithril::Error` that name the
//! input, output, layer or loss at fault, found before MLX runs where they
//! can be, and whose messages carry no place in mithril's sources.

use mithril::prelude::*;

mithril::model! {
    Tokens {
        input ids: [B, T];
        ids -> embed: Embedding(10, 4) => h;
        h -> head: Linear(3) => logits;
        output logits;
    }

    /// `Tokens` nested: its indices come through the outer model's input.
    Outer {
        input tokens: [B, T];
        tokens -> inner: Tokens => logits;
        output logits;
    }

    Net {
        input x: [B, 3];
        x -> fc: Linear(2) => y;
        output y;
    }
}

/// No message names a Rust source file of ours (`src/run.rs:42`).
fn assert_no_source_path(message: &str) {
    assert!(
        !message.contains(".rs:") && !message.contains("/src/"),
        "the message names a source path: {message}"
    );
}

fn backends() -> Vec<MlxBackend> {
    [true, false]
        .into_iter()
        .map(|graph_mode| {
            MlxBackend::builder()
                .graph_mode(graph_mode)
                .build()
                .unwrap()
        })
        .collect()
}

#[test]
fn float_indices_name_the_input_and_the_dtypes() {
    for backend in backends() {
        let params = Tokens::init(&backend).unwrap();
        let inputs = TokensInputs {
            ids: Array::from_slice(&[1.0f32, 2.0, 3.0], &[1, 3]),
        };
        let err = mithril::compile::<Tokens>(&backend)
            .evaluate(&params, &inputs)
            .unwrap_err();
        let message = err.to_string();
        match &err {
            Error::Input {
                name,
                expected,
                found,
            } => {
                assert_eq!(name, "ids");
                assert!(expected.contains("integer indices"), "{expected}");
                assert!(expected.contains("Embedding(10, 4)"), "{expected}");
                assert!(found.contains("Float32"), "{found}");
            }
            other => panic!("expected Error::Input, got {other:?}"),
        }
        assert_no_source_path(&message);
        // Integer indices run.
        let ids = Array::from_slice(&[1i32, 2, 3], &[1, 3]);
        let out = mithril::compile::<Tokens>(&backend)
            .evaluate(&params, &TokensInputs { ids })
            .unwrap();
        assert_eq!(out.logits.shape(), &[1, 3, 3]);
    }
}

#[test]
fn float_indices_through_a_nested_model_name_the_outer_input() {
    let backend = MlxBackend::builder().build().unwrap();
    let params = Outer::init(&backend).unwrap();
    let inputs = OuterInputs {
        tokens: Array::from_slice(&[0.5f32, 1.5], &[1, 2]),
    };
    let err = Outer::forward(&params, &inputs).unwrap_err();
    assert!(
        matches!(&err, Error::Input { name, .. } if name == "tokens"),
        "{err:?}"
    );
}

#[test]
fn a_wrong_shape_names_the_input() {
    for backend in backends() {
        let params = Net::init(&backend).unwrap();
        let inputs = NetInputs {
            x: Array::ones::<f32>(&[4, 5]).unwrap(),
        };
        let err = mithril::compile::<Net>(&backend)
            .evaluate(&params, &inputs)
            .unwrap_err();
        assert!(matches!(err, Error::Shape(_)), "{err:?}");
        let message = err.to_string();
        assert!(message.contains("`x`"), "{message}");
        assert_no_source_path(&message);
    }
}

#[test]
fn gradients_for_an_unknown_output_name_the_outputs() {
    let backend = MlxBackend::builder().build().unwrap();
    let params = Net::init(&backend).unwrap();
    let inputs = NetInputs {
        x: Array::ones::<f32>(&[4, 3]).unwrap(),
    };
    let cotangent = Array::ones::<f32>(&[4, 2]).unwrap();
    let err = mithril::compile::<Net>(&backend)
        .evaluate_with_gradients(&params, &inputs, &[("z", cotangent)])
        .unwrap_err();
    match err {
        Error::UnknownOutput { model, name, known } => {
            assert_eq!((model, name.as_str(), known.as_str()), ("Net", "z", "y"));
        }
        other => panic!("expected Error::UnknownOutput, got {other:?}"),
    }
}

#[test]
fn a_loss_that_cannot_read_its_scores_is_refused_before_training() {
    use mithril::optimizers::Sgd;
    use mithril::train::{Loss, Objective, Scores, Trainer};
    let backend = MlxBackend::builder().build().unwrap();
    let objective = Objective::new(
        "y",
        Loss::KlDivergence {
            scores: Scores::Logits,
        },
    );
    let err = Trainer::<Net, _>::new(&backend, &objective, Sgd::new(0.1))
        .err()
        .expect("the KL divergence of logits trained");
    match &err {
        Error::Loss { loss, reason } => {
            assert!(loss.contains("KlDivergence"), "{loss}");
            assert!(reason.contains("kl_divergence()"), "{reason}");
        }
        other => panic!("expected Error::Loss, got {other:?}"),
    }
}

#[test]
fn mlx_failures_inside_a_layer_name_the_layer() {
    // Weights of the wrong shape passed straight to the interpreter (the
    // checked entry points refuse them earlier): MLX's matmul fails inside
    // `fc`, and the error says so without a source path.
    let graph = mithril::runtime::graph_of::<Net>();
    let weights = [
        Array::ones::<f32>(&[2, 5]).unwrap(),
        Array::zeros::<f32>(&[2]).unwrap(),
    ];
    let x = Array::ones::<f32>(&[4, 3]).unwrap();
    let err: Error = mithril::runtime::run_graph(
        graph,
        &weights,
        &[x],
        &mithril::runtime::RunOptions::default(),
    )
    .unwrap_err()
    .into();
    match &err {
        Error::Layer { name, call, .. } => {
            assert_eq!((name.as_str(), call.as_str()), ("fc", "Linear(2)"));
        }
        other => panic!("expected Error::Layer, got {other:?}"),
    }
    assert_no_source_path(&err.to_string());
}
