use mithril_mlx::mlx_rs;
use mlx_rs::Array;

#[test]
fn matmul_works() {
    let a = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2]);
    let b = mlx_rs::ops::matmul(&a, &a).unwrap();
    assert_eq!(b.as_slice::<f32>(), &[7.0, 10.0, 15.0, 22.0]);
}
