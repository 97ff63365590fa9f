// A function of one value is a pipeline stage, not a statement's head:
// `x -> Exp => a;`, not `Exp(x) => a;`.
mithril::model! {
    Net {
        input x: [B, 4];
        Negate(x) => a;
        Exp(x) => b;
        Log(x) => c;
        Sqrt(x) => d;
        Abs(x) => e;
        Square(x) => f;
        Sin(x) => g;
        Cos(x) => h;
        StopGradient(x) => i;
        Clip(x) => j;
        RobustLog(x) => k;
        RobustSqrt(x) => l;
        StableReciprocal(x) => m;
        output a, b, c, d, e, f, g, h, i, j, k, l, m;
    }
}

fn main() {}
