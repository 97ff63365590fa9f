// One shape error; `main` uses the model's items as if it checked: its
// functions, `compile`, parameter, input and output fields. One error.
mithril::model! {
    Net {
        input x: [B, 8], y: [B, 4];
        x -> Linear(16) -> Relu => h;
        Add(h, y) -> head: Linear(2) => out;
        output out;
    }
}

fn main() -> Result<(), mithril::Error> {
    let backend = mithril::MlxBackend::new()?;
    let params = Net::init(&backend)?;
    let _ = &params.linear_0.weight;
    let _ = &params.head.bias;
    let mut model = mithril::compile::<Net>(&backend);
    let x = mithril::mlx_rs::Array::zeros::<f32>(&[2, 8])?;
    let y = mithril::mlx_rs::Array::zeros::<f32>(&[2, 4])?;
    let out = model.evaluate(&params, &NetInputs { x, y })?;
    let _ = out.out;
    println!("{} {}", Net::summary(), Net::PARAMETER_COUNT);
    Ok(())
}
