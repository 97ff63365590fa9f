// The math layers' arguments: `Clip`'s bounds in order, a positive cutoff
// for a robust operator, a non-negative `ddof`, axes within the rank and
// named once.
mithril::model! {
    Net {
        input x: [B, 4];
        x -> Clip(1.0, -1.0) => a;
        x -> RobustLog(threshold = 0) => b;
        x -> Var(axes = 1, ddof = -1) => c;
        x -> ArgMax(axis = 2) => d;
        x -> Prod(axes = [1, -1]) => e;
        x -> Min(axes = 2) => f;
        x -> LogSumExp(axes = [0, 0]) => g;
        x -> Std(keepdims = 1) => h;
        x -> Max(axes = -3) => i;
        output a, b, c, d, e, f, g, h, i;
    }
}

fn main() {}
