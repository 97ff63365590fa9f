//! Model families: models with parameters, instantiated in other models and
//! as types of their own, checked while the crate compiles.

use mithril::prelude::*;
use mithril::train::{Loss, Objective, Trainer};

mithril::model! {
    /// A pre-norm transformer block of width `d` with `heads` heads.
    Block(d: usize, heads: usize = 2, hidden: usize = 4 * 8, act: Layer = Gelu) {
        input x: [B, T, d];
        x -> ln: LayerNorm -> attn: MultiHeadAttention(d, heads) => a;
        Add(x, a) => h;
        h -> up: Linear(hidden) -> act -> down: Linear(d) => m;
        Add(h, m) => y;
        output y;
    }

    /// A stack of blocks: its width, depth and vocabulary are parameters.
    Stack(vocab: usize = 11, d: usize = 8, heads: usize = 2, layers: usize = 3) {
        input tokens: [B, T];
        tokens -> embed: Embedding(vocab, d) -> blocks: Block(d = d, heads = heads, hidden = 4 * d) * layers
               -> Multiply(1.0 / 2.0) -> head: Linear(vocab) => logits;
        output logits;
    }

    /// Two widths of one block in one model.
    TwoWidths {
        input x: [B, T, 8];
        x -> narrow: Block(8, 2) -> up: Linear(16) -> wide: Block(d = 16, heads = 4, act = Relu) => y;
        output y;
    }

    /// A recurrent cell: its next hidden state and cell state are two outputs.
    Cell(d: usize = 4) {
        input x: [B, d], h: [B, d], c: [B, d];
        Concat(axis = -1)(x, h) -> gate: Linear(d) -> Sigmoid => f;
        Concat(axis = -1)(x, h) -> candidate: Linear(d) -> Tanh => g;
        Multiply(f, c) => kept;
        Add(kept, g) => cell;
        cell -> Tanh => hidden;
        output hidden, cell;
    }

    /// Two steps of the cell, its outputs bound by name (`cell` left unused
    /// the second time).
    Unrolled {
        input x0: [B, 4], x1: [B, 4], h: [B, 4], c: [B, 4];
        Cell(x0, h, c) => { hidden: h1, cell: c1 };
        step_2: Cell(d = 4)(x1, h1, c1) => { hidden };
        output hidden, c1;
    }

    /// Mithril's `MLP(activations, dimensions)`: one layer per entry.
    pub Mlp(dimensions: [usize], activations: [Layer], features: usize = 6) {
        input x: [B, features];
        x -> for i in 0..len(dimensions) { layers: Linear(dimensions[i]) -> activations[i] } => y;
        output y;
    }

    Mlp3 = Mlp(dimensions = [16, 8, 2], activations = [Relu, Tanh, Sigmoid]);

    /// Sizes as constants of the block: Rust constants, read by the macro too.
    pub const WIDTH: usize = 12;
    pub const DEPTH: usize = 2;
    const HALF: f64 = 0.5;

    ConstSized = Stack(d = WIDTH, heads = WIDTH / 4, layers = DEPTH);

    Scaled {
        input x: [B, WIDTH];
        x -> fc: Linear(2 * WIDTH) -> Multiply(HALF) => y;
        output y;
    }

    Small = Stack(d = 4, layers = 2);
    Deep = Stack(layers = 5);
}

fn linear(d_in: usize, d_out: usize) -> usize {
    d_in * d_out + d_out
}

fn block(d: usize, hidden: usize) -> usize {
    // LayerNorm, 4 projections without biases (mlx.nn's default), the MLP.
    2 * d + 4 * d * d + linear(d, hidden) + linear(hidden, d)
}

#[test]
fn instantiations_count_their_parameters() {
    let stack = |vocab: usize, d: usize, layers: usize| {
        vocab * d + layers * block(d, 4 * d) + linear(d, vocab)
    };
    assert_eq!(Stack::PARAMETER_COUNT, stack(11, 8, 3));
    assert_eq!(Small::PARAMETER_COUNT, stack(11, 4, 2));
    assert_eq!(Deep::PARAMETER_COUNT, stack(11, 8, 5));
    assert_eq!(
        TwoWidths::PARAMETER_COUNT,
        block(8, 32) + linear(8, 16) + block(16, 32)
    );
}

#[test]
fn instances_run_with_their_own_sizes() -> Result<(), Box<dyn std::error::Error>> {
    let backend = MlxBackend::builder().seed(3).build()?;
    let params = Small::init(&backend)?;
    assert_eq!(params.blocks.len(), 2);
    assert_eq!(params.blocks[1].up.weight.shape(), &[16, 4]);
    let tokens = Array::from_slice(&[1i32, 2, 3, 4, 5, 6], &[2, 3]);
    let out = Small::forward(
        &params,
        &StackInputs {
            tokens: tokens.clone(),
        },
    )?;
    assert_eq!(out.logits.shape(), &[2, 3, 11]);

    let deep = Deep::init(&backend)?;
    assert_eq!(deep.blocks.len(), 5);
    let paths: Vec<String> = Deep::graph()
        .weights
        .iter()
        .map(|w| w.path.clone())
        .collect();
    assert!(paths.contains(&"blocks.4.attn.query_proj.weight".to_string()));
    // The arrays of an instantiation read back into the family's type by path.
    let again = <Stack as Family>::Params::from_weights(
        &mut deep.to_arrays().into_iter(),
        &Deep::graph().weights,
    )
    .expect("the same tree");
    assert_eq!(again.blocks.len(), 5);
    let out = Deep::forward(&deep, &StackInputs { tokens })?;
    assert_eq!(out.logits.shape(), &[2, 3, 11]);

    let two = TwoWidths::init(&backend)?;
    assert_eq!(two.wide.attn.query_proj_weight.shape(), &[16, 16]);
    assert_eq!(two.narrow.attn.query_proj_weight.shape(), &[8, 8]);
    Ok(())
}

#[test]
fn an_instance_trains() -> Result<(), Box<dyn std::error::Error>> {
    use mithril::mlx_rs::optimizers::Adam;
    let backend = MlxBackend::builder().seed(0).build()?;
    let mut params = Small::init(&backend)?;
    let objective = Objective::new("logits", Loss::cross_entropy());
    let mut trainer = Trainer::<Small, _>::new(&backend, &objective, Adam::new(0.01))?;
    // Predict the next token of a fixed sequence.
    let tokens = Array::from_slice(&[1i32, 2, 3, 4, 5, 6, 7, 8], &[2, 4]);
    let targets = Array::from_slice(&[2i32, 3, 4, 5, 6, 7, 8, 9], &[2, 4]);
    let inputs = StackInputs { tokens };
    let mut losses = Vec::new();
    for _ in 0..30 {
        let loss = trainer.step(&mut params, &inputs, &targets)?.loss;
        losses.push(loss.item_cast::<f32>());
    }
    assert!(losses[29] < 0.5 * losses[0], "losses {losses:?}");
    Ok(())
}

#[test]
fn a_model_with_two_outputs_is_a_layer() -> Result<(), Box<dyn std::error::Error>> {
    let backend = MlxBackend::builder().seed(5).build()?;
    let params = Unrolled::init(&backend)?;
    let x = |k: f32| Array::from_slice(&[k, 0.5, -1.0, 2.0, 0.1, 0.2, 0.3, k], &[2, 4]);
    let (h, c) = (x(0.0), x(1.0));
    let out = Unrolled::forward(
        &params,
        &UnrolledInputs {
            x0: x(0.3),
            x1: x(-0.7),
            h: h.clone(),
            c: c.clone(),
        },
    )?;
    // The same two steps, one cell at a time.
    let first = mithril::forward::<Cell>(&params.cell_0, &CellInputs { x: x(0.3), h, c })?;
    let second = mithril::forward::<Cell>(
        &params.step_2,
        &CellInputs {
            x: x(-0.7),
            h: first.hidden.clone(),
            c: first.cell.clone(),
        },
    )?;
    assert!(out.c1.all_close(&first.cell, 1e-6, 1e-6, None)?);
    assert!(out.hidden.all_close(&second.hidden, 1e-6, 1e-6, None)?);
    Ok(())
}

#[test]
fn a_loop_makes_one_layer_per_list_entry() -> Result<(), Box<dyn std::error::Error>> {
    assert_eq!(
        Mlp3::PARAMETER_COUNT,
        (6 * 16 + 16) + (16 * 8 + 8) + (8 * 2 + 2)
    );
    assert_eq!(Mlp3::OUTPUT_SHAPES, &[("y", "[B, 2]")]);
    let paths: Vec<&str> = Mlp3::graph()
        .weights
        .iter()
        .map(|w| w.path.as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "layers.0.weight",
            "layers.0.bias",
            "layers.1.weight",
            "layers.1.bias",
            "layers.2.weight",
            "layers.2.bias"
        ]
    );
    let backend = MlxBackend::builder().seed(1).build()?;
    let params = Mlp3::init(&backend)?;
    assert_eq!(params.layers.len(), 3);
    assert_eq!(params.layers[1].weight.shape(), &[8, 16]);
    let x = Array::from_slice(&[0.5f32, -1.0, 2.0, 0.0, 1.0, -0.5], &[1, 6]);
    let out = Mlp3::forward(&params, &MlpInputs { x: x.clone() })?;
    // By hand: each layer, then its activation.
    let dense =
        |p: &MlpLayersParams, v: &Array| -> Result<Array, mithril::mlx_rs::error::Exception> {
            v.matmul(p.weight.t())?.add(&p.bias)
        };
    let h = mithril::mlx_rs::ops::maximum(&dense(&params.layers[0], &x)?, Array::from_f32(0.0))?;
    let h = mithril::mlx_rs::ops::tanh(&dense(&params.layers[1], &h)?)?;
    let y = mithril::mlx_rs::ops::sigmoid(&dense(&params.layers[2], &h)?)?;
    assert!(out.y.all_close(&y, 1e-5, 1e-6, None)?);
    Ok(())
}

#[test]
fn a_family_from_values_read_at_run_time() -> Result<(), Box<dyn std::error::Error>> {
    // As candle reads a config.json: the sizes are values.
    let json: serde_json::Value = serde_json::from_str(r#"{"d": 16, "heads": 4, "layers": 3}"#)?;
    let size = |key: &str| json[key].as_u64().map(|v| v as usize).ok_or("missing");
    let config = StackConfig {
        d: size("d")?,
        heads: size("heads")?,
        layers: size("layers")?,
        ..StackConfig::default()
    };
    let stack = Stack::instance(&config)?;
    let expected = 11 * 16 + 3 * block(16, 64) + linear(16, 11);
    assert_eq!(stack.parameter_count(), expected);
    let backend = MlxBackend::builder().seed(2).build()?;
    let params = stack.init(&backend)?;
    assert_eq!(params.blocks.len(), 3);
    let tokens = Array::from_slice(&[1i32, 2, 3, 4, 5, 6], &[2, 3]);
    let out = stack.forward(
        &params,
        &StackInputs {
            tokens: tokens.clone(),
        },
    )?;
    assert_eq!(out.logits.shape(), &[2, 3, 11]);
    let mut compiled = stack.compile(&backend);
    let again = compiled.evaluate(&params, &StackInputs { tokens })?;
    assert!(again.logits.all_close(&out.logits, 1e-5, 1e-6, None)?);

    // A family without defaults for every parameter: `new` takes the others.
    let block_only = Block::instance(&BlockConfig::new(12))?;
    assert_eq!(block_only.parameter_count(), block(12, 32));

    // A config that does not fit: every problem, each naming its layer.
    let bad = Stack::instance(&StackConfig {
        heads: 5,
        ..config.clone()
    })
    .unwrap_err();
    let message = bad.to_string();
    assert!(
        message.contains("Stack(vocab = 11, d = 16, heads = 5, layers = 3)"),
        "{message}"
    );
    assert!(message.contains("layer `blocks`"), "{message}");
    assert!(message.contains("divisible by heads = 5"), "{message}");
    let bad = Block::instance(&BlockConfig {
        act: "LayerNorm".into(),
        ..BlockConfig::new(8)
    });
    assert!(
        bad.unwrap_err()
            .to_string()
            .contains("has parameters of its own")
    );
    Ok(())
}

#[test]
fn constants_of_the_block_size_models() -> Result<(), Box<dyn std::error::Error>> {
    // The constants are Rust items as well.
    let width: usize = WIDTH;
    assert_eq!(width, 12);
    assert_eq!(HALF, 0.5);
    assert_eq!(
        ConstSized::PARAMETER_COUNT,
        11 * 12 + DEPTH * block(12, 48) + linear(12, 11)
    );
    assert_eq!(Scaled::INPUT_SHAPES, &[("x", "[B, 12]")]);
    assert_eq!(Scaled::OUTPUT_SHAPES, &[("y", "[B, 24]")]);
    let backend = MlxBackend::builder().seed(4).build()?;
    let params = Scaled::init(&backend)?;
    let x = Array::ones::<f32>(&[1, 12])?;
    let y = Scaled::forward(&params, &ScaledInputs { x: x.clone() })?.y;
    let expected = x
        .matmul(params.fc.weight.t())?
        .add(&params.fc.bias)?
        .multiply(Array::from_f32(0.5))?;
    assert!(y.all_close(&expected, 1e-6, 1e-6, None)?);
    Ok(())
}

mithril::model! {
    /// Families without defaults whose layers' arguments read list items
    /// and divisions: their parameter types are laid out all the same.
    Indexed(dims: [usize]) {
        input x: [B, 4];
        x -> a: Linear(dims[0]) -> b: Linear(dims[1]) -> norm: LayerNorm => y;
        output y;
    }
    Indexed35 = Indexed(dims = [3, 5]);

    Divided(size: usize) {
        input x: [B, 4];
        x -> c: Linear(size / 16) => y;
        output y;
    }
    Divided32 = Divided(size = 32);
}

#[test]
fn families_without_defaults_lay_out_every_layer() -> Result<(), Box<dyn std::error::Error>> {
    let backend = MlxBackend::builder().seed(0).build()?;
    let p = Indexed35::init(&backend)?;
    assert_eq!(p.a.weight.shape(), &[3, 4]);
    assert_eq!(p.b.weight.shape(), &[5, 3]);
    assert_eq!(p.norm.weight.shape(), &[5]);
    let out = Indexed35::forward(
        &p,
        &IndexedInputs {
            x: Array::ones::<f32>(&[2, 4])?,
        },
    )?;
    assert_eq!(out.y.shape(), &[2, 5]);
    assert_eq!(Divided32::init(&backend)?.c.weight.shape(), &[2, 4]);
    // A tree read by paths that are not its layers' is refused, not bound
    // to the wrong layers.
    let arrays = p.to_arrays();
    let other = Divided32::graph();
    assert!(IndexedParams::from_weights(&mut arrays.into_iter(), &other.weights).is_none());
    Ok(())
}

#[test]
fn an_instance_made_at_run_time_trains() -> Result<(), Box<dyn std::error::Error>> {
    use mithril::mlx_rs::optimizers::Adam;
    let stack = Stack::instance(&StackConfig {
        d: 4,
        layers: 2,
        ..StackConfig::default()
    })?;
    let backend = MlxBackend::builder().seed(0).build()?;
    let mut params = stack.init(&backend)?;
    let objective = Objective::new("logits", Loss::cross_entropy());
    let mut trainer = Trainer::for_instance(&stack, &backend, &objective, Adam::new(0.01))?;
    let tokens = Array::from_slice(&[1i32, 2, 3, 4, 5, 6, 7, 8], &[2, 4]);
    let targets = Array::from_slice(&[2i32, 3, 4, 5, 6, 7, 8, 9], &[2, 4]);
    let inputs = StackInputs { tokens };
    let mut losses = Vec::new();
    for _ in 0..30 {
        losses.push(
            trainer
                .step(&mut params, &inputs, &targets)?
                .loss
                .item_cast::<f32>(),
        );
    }
    assert!(losses[29] < 0.5 * losses[0], "losses {losses:?}");
    // The same steps as the compile-time instance of the same sizes.
    let mut typed = Small::init(&backend)?;
    let mut typed_trainer = Trainer::<Small, _>::new(&backend, &objective, Adam::new(0.01))?;
    let mut first = 0.0;
    for step in 0..2 {
        let loss = typed_trainer
            .step(&mut typed, &inputs, &targets)?
            .loss
            .item_cast::<f32>();
        if step == 0 {
            first = loss;
        }
    }
    assert_eq!(first, losses[0]);
    Ok(())
}
